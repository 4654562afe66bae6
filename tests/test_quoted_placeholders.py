"""psycopg fills ``%s`` inside quotes too (``SET value = '%s'::jsonb``; psycopg docs, "Passing
parameters to SQL queries"): such a text's parameter count is not judged."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import assert_rules, findings

SCHEMA = "CREATE TABLE db_meta (key TEXT PRIMARY KEY, value JSONB);\n"


def _app(sql: str, params: str) -> str:
    return f'''
        import psycopg2


        def bump(conn: psycopg2.extensions.connection, n):
            with conn.cursor() as cur:
                cur.execute("""{sql}""", {params})
    '''


def _check(tmp_path: Path, sql: str, params: str) -> list:
    return findings(tmp_path, {"schema.sql": SCHEMA, "app.py": _app(sql, params)},
                    dialect="postgres")


@pytest.mark.parametrize("sql", [
    "UPDATE db_meta SET value = '%s'::jsonb WHERE key = 'schema_version'",
    "UPDATE db_meta SET value = '%(n)s'::jsonb WHERE key = 'schema_version'",
])
def test_quoted_placeholder_is_filled_by_the_driver(tmp_path: Path, sql: str) -> None:
    params = "{'n': n}" if "%(" in sql else "(n,)"
    assert_rules(_check(tmp_path, sql, params))


def test_a_quoted_percent_that_is_no_placeholder_still_counts(tmp_path: Path) -> None:
    sql = "UPDATE db_meta SET value = '100%' WHERE key = %s"
    assert_rules(_check(tmp_path, sql, "(n, n)"), "param-count")
