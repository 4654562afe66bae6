"""An anonymous PL/SQL or T-SQL block (``BEGIN ... EXCEPTION WHEN ... END;``) is one program,
not ``;``-separated SQL statements: it is skipped with a note, never a syntax error."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import assert_rules, findings

SCHEMA = "CREATE TABLE jobs (id INTEGER PRIMARY KEY, state TEXT);\n"


def _check(tmp_path: Path, sql: str) -> list:
    app = f'''
        import psycopg2


        def run(conn: psycopg2.extensions.connection):
            with conn.cursor() as cur:
                cur.execute("""{sql}""")
    '''
    return findings(tmp_path, {"schema.sql": SCHEMA, "app.py": app}, dialect="postgres")


@pytest.mark.parametrize("sql", [
    "BEGIN EXECUTE IMMEDIATE 'CREATE INDEX ix ON jobs (state)'; "
    "EXCEPTION WHEN OTHERS THEN IF SQLCODE = -955 THEN NULL; ELSE RAISE; END IF; END;",
    "DECLARE n NUMBER; BEGIN SELECT COUNT(*) INTO n FROM jobs; END;",
])
def test_procedural_block_is_not_a_syntax_error(tmp_path: Path, sql: str) -> None:
    assert_rules(_check(tmp_path, sql))


def test_a_transaction_block_is_still_parsed(tmp_path: Path) -> None:
    sql = "BEGIN; UPDATE jobs SET state = 'x' WHERE id = 1 AND; COMMIT;"
    assert_rules(_check(tmp_path, sql), "sql-syntax")
