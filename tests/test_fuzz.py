"""Property-based fuzzing of the extractor, the SQL layer and the whole pipeline.

Bounded example counts run by default; ``pytest -m slow`` runs the long versions.
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.python.source import extract_path, extract_source
from harness.sql.dml import describe
from harness.sql.parse import parse_sql
from harness.sql.placeholders import find_placeholders, normalise
from harness.sql.resolve import table_refs, unknown_columns
from harness.sql.schema import Schema
from tests.helpers import findings

SQL_WORDS = ["SELECT", "INSERT", "INTO", "UPDATE", "SET", "DELETE", "FROM", "WHERE", "VALUES",
             "CREATE", "TABLE", "ALTER", "ADD", "COLUMN", "DROP", "IF", "NOT", "EXISTS", "AS",
             "JOIN", "ON", "WITH", "RETURNING", "CONFLICT", "DO", "NOTHING", "PRIMARY", "KEY",
             "INTEGER", "TEXT", "NULL", "DEFAULT", "t", "u", "a", "b", "c", "(", ")", ",", ";",
             "=", "*", "?", ":a", "%s", "%(b)s", "$1", "?2", "'x'", "'; --'", '"q"', "--c\n",
             "/*", "*/", "1", "2.5", "excluded.a", "t.a", "UNION", "ORDER", "BY", "LIMIT"]
sql_text = st.lists(st.sampled_from(SQL_WORDS), max_size=30).map(" ".join) | st.text(
    alphabet=string.printable, max_size=80)

SCHEMA_DDL = "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INT); CREATE TABLE u (a TEXT)"


def _schema() -> Schema:
    from harness.sql.ddl import build_schema

    return build_schema(list(parse_sql(SCHEMA_DDL).statements))


SCHEMA = _schema()


def _sql_layer(text: str, dialect: str) -> None:
    parsed = parse_sql(text, dialect)
    for statement in parsed.statements:
        unknown_columns(statement.expression, SCHEMA, dialect)
        table_refs(statement.expression)
        describe(statement.expression)


@settings(max_examples=300, deadline=None)
@given(sql_text, st.sampled_from(["sqlite", "postgres", "mysql"]))
@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_sql_layer_never_raises(text: str, dialect: str) -> None:
    _sql_layer(text, dialect)


@settings(max_examples=200, deadline=None)
@given(sql_text)
def test_placeholder_rewrite_keeps_every_offset(text: str) -> None:
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.errors import TokenError

    try:
        tokens = Dialect.get_or_raise("sqlite").tokenizer_class().tokenize(text)
    except TokenError:
        return
    assert len(normalise(text, find_placeholders(tokens))) == len(text)


FRAGMENTS = [
    "import sqlite3", "from db import store", "conn = sqlite3.connect('x')",
    "d = {'a': 1, 'b': x}", "d['c'] = 2", "d.update(e)", "d.pop('a')", "del d['b']",
    "store.add(d)", "store.insert('t', {**d, 'z': 1})", "conn.execute(SQL, (1, 2))",
    "conn.execute(f'SELECT {a} FROM {t}', d)", "conn.executemany(SQL, [d, d])",
    "def f(p, *a, **k):\n    conn.execute(SQL, p)\n    return {'k': p['k']}",
    "class C:\n    Q = SQL\n    def m(self, r):\n        self.db.execute(self.Q, r)",
    "for k in ('a', 'b'):\n    d[k] = 1", "if x:\n    d['y'] = 3\nelse:\n    d = {}",
    "x = SQL % (t,)", "y = '{} {}'.format(a, SQL)", "z = SQL + w",
    "try:\n    conn.execute(SQL)\nexcept Exception:\n    pass", "lambda q: q.execute(SQL)",
    "with conn:\n    conn.execute(SQL, {'a': 1})", "items = [{'a': i} for i in range(3)]",
    "async def g(c):\n    await c.execute(SQL)", "print(*d, **d)",
    "s = f'INSERT INTO {t} ({cols}) VALUES ({marks})'\nconn.execute(s, tuple(d.values()))",
    # schema code: user_version reads and stamps, version guards, migration tables, probes
    "v = conn.execute('PRAGMA user_version').fetchone()[0]",
    "if v < 2:\n    conn.execute('ALTER TABLE t ADD COLUMN c TEXT')\n"
    "    conn.execute('PRAGMA user_version = 2')",
    "M = [(2, 'ALTER TABLE t ADD COLUMN c TEXT'), (3, SQL)]",
    "def init(conn):\n    v = conn.execute('PRAGMA user_version').fetchone()[0]\n"
    "    if v == 0:\n        conn.execute('CREATE TABLE t (id INTEGER PRIMARY KEY)')\n"
    "        conn.execute(f'PRAGMA user_version = {len(M)}')\n        return\n"
    "    for n, q in M:\n        if v < n:\n            conn.execute(q)",
    "cols = [r[1] for r in conn.execute('PRAGMA table_info(t)')]\nif 'c' not in cols:\n"
    "    conn.execute(SQL)",
    "def migrate(self):\n    if self.version == 1:\n        self.add_column('t', 'c', 'TEXT')",
    "while v < 3:\n    conn.execute(SQL)\n    v += 1",
]


@st.composite
def python_sources(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(1, 12))):
        fragment = draw(st.sampled_from(FRAGMENTS))
        lines.append(fragment.replace("SQL", repr(draw(sql_text))))
    return "\n".join(lines) + "\n"


@settings(max_examples=200, deadline=None)
@given(python_sources())
@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_extractor_never_raises_on_valid_python(source: str) -> None:
    facts = extract_source(source, "fuzz.py", "fuzz")
    assert facts.path == "fuzz.py"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | python_sources().map(str.encode))
@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_reading_arbitrary_bytes_never_raises(data: bytes) -> None:
    path = Path("/tmp/dbharness-fuzz-input.py")
    path.write_bytes(data)
    facts, _ = extract_path(path, "fuzz.py", "fuzz")
    assert facts.error is None or facts.error


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(python_sources(), min_size=1, max_size=4))
def test_whole_pipeline_has_no_internal_errors(tmp_path_factory: pytest.TempPathFactory,
                                               sources: list[str]) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    files = {f"m{i}.py": s for i, s in enumerate(sources)}
    files["db.py"] = f"import sqlite3\nconn = sqlite3.connect('x')\nconn.execute({SCHEMA_DDL!r})\n"
    got = findings(root, files)
    assert not [d for d in got if d.rule == "internal-error"], [str(d) for d in got]


@pytest.mark.slow
@settings(max_examples=20_000, deadline=None)
@given(sql_text, st.sampled_from(["sqlite", "postgres", "mysql"]))
def test_sql_layer_never_raises_long(text: str, dialect: str) -> None:
    _sql_layer(text, dialect)


@pytest.mark.slow
@settings(max_examples=5_000, deadline=None)
@given(python_sources())
def test_extractor_never_raises_long(source: str) -> None:
    extract_source(source, "fuzz.py", "fuzz")


@pytest.mark.parametrize("text", ["L{:}", "?3.", "?{\u00d3?3.?\x00\x00", "$1.5", ":2.", "?1e5",
                                  "SELECT ?1.0", "%(a", "%(", ":"])
def test_found_by_fuzzing(text: str) -> None:
    """Inputs atheris found: a number token like "3." after a placeholder sign; "L{:}", on
    which sqlglot 30.30 raises AttributeError inside its parser."""
    for dialect in ("sqlite", "postgres", "mysql"):
        _sql_layer(text, dialect)
