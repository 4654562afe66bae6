"""Coverage-guided fuzzing of the extractor and the SQL layer with atheris (optional).

    .venv/bin/pip install atheris
    .venv/bin/python benchmarks/fuzz_atheris.py -max_total_time=600

Each input is split in two: Python source for the extractor (whose SQL strings then go
through the SQL layer), and a SQL text parsed on its own in every dialect. Any exception that
escapes is a bug (the pipeline would report it as an internal-error diagnostic).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import atheris

with atheris.instrument_imports():
    from harness.python.source import extract_source
    from harness.sql.dml import describe
    from harness.sql.parse import parse_sql
    from harness.sql.resolve import table_refs, unknown_columns
    from harness.sql.schema import Schema

EMPTY = Schema()


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    source = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 2048))
    sql = fdp.ConsumeUnicodeNoSurrogates(512)
    facts = extract_source(source, "fuzz.py", "fuzz")
    texts = [t.text for t in facts.ddl] + [sql]
    for dialect in ("sqlite", "postgres", "mysql"):
        for text in texts:
            for statement in parse_sql(text, dialect).statements:
                unknown_columns(statement.expression, EMPTY, dialect)
                table_refs(statement.expression)
                describe(statement.expression)


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
