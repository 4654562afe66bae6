"""Tables in PostgreSQL schemas other than ``public`` (PostgreSQL docs, "Schemas").

``CREATE TABLE statistics.user`` makes a second table; it neither replaces nor widens the
table ``"user"`` in the default schema.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import assert_rules, findings

TWO_USERS = """
    CREATE SCHEMA statistics;
    CREATE TABLE "user" (id SERIAL PRIMARY KEY, musicbrainz_id TEXT NOT NULL, auth_token TEXT);
    CREATE TABLE statistics.user (id SERIAL PRIMARY KEY, user_id INTEGER NOT NULL, data TEXT);
"""


def _check(tmp_path: Path, schema: str, code: str) -> list:
    return findings(tmp_path, {"schema.sql": schema, "app.py": code}, dialect="postgres")


def test_bare_name_is_the_default_schema_table(tmp_path: Path) -> None:
    code = """
        def get(conn, name):
            return conn.execute('SELECT id, auth_token FROM "user" WHERE musicbrainz_id = %s',
                                (name,)).fetchone()
    """
    assert_rules(_check(tmp_path, TWO_USERS, code))


def test_bare_name_still_judged_against_the_default_schema_table(tmp_path: Path) -> None:
    code = """
        def get(conn, name):
            return conn.execute('SELECT user_id FROM "user" WHERE musicbrainz_id = %s',
                                (name,)).fetchone()
    """
    assert_rules(_check(tmp_path, TWO_USERS, code), "unknown-column")


def test_index_on_the_default_schema_table(tmp_path: Path) -> None:
    ok = TWO_USERS + 'CREATE INDEX auth_token_ndx_user ON "user" (auth_token);\n'
    assert_rules(_check(tmp_path, ok, "X = 1\n"))


def test_index_naming_the_other_schema_tables_column(tmp_path: Path) -> None:
    bad = TWO_USERS + 'CREATE INDEX data_ndx_user ON "user" (data);\n'
    assert_rules(_check(tmp_path, bad, "X = 1\n"), "ddl-unknown-column")


ONLY_QUALIFIED = """
    CREATE SCHEMA app;
    CREATE TABLE app.items (id SERIAL PRIMARY KEY, title TEXT NOT NULL);
"""


def test_bare_name_reaches_the_one_qualified_table(tmp_path: Path) -> None:
    code = """
        def get(conn):
            return conn.execute('SELECT id, title FROM items').fetchall()
    """
    assert_rules(_check(tmp_path, ONLY_QUALIFIED, code))


def test_bare_name_of_the_one_qualified_table_still_judged(tmp_path: Path) -> None:
    code = """
        def get(conn):
            return conn.execute('SELECT id, price FROM items').fetchall()
    """
    assert_rules(_check(tmp_path, ONLY_QUALIFIED, code), "unknown-column")


def test_rename_keeps_the_table_in_its_schema(tmp_path: Path) -> None:
    schema = TWO_USERS + (
        "CREATE TABLE statistics.user_new (id SERIAL PRIMARY KEY, stats_range TEXT);\n"
        "DROP TABLE statistics.user;\n"
        'ALTER TABLE statistics.user_new RENAME TO "user";\n')
    good = """
        def get(conn, name):
            return conn.execute('SELECT auth_token FROM "user" WHERE musicbrainz_id = %s',
                                (name,)).fetchone()
    """
    assert_rules(_check(tmp_path, schema, good))
    bad = """
        def get(conn, name):
            return conn.execute('SELECT stats_range FROM "user" WHERE musicbrainz_id = %s',
                                (name,)).fetchone()
    """
    assert_rules(_check(tmp_path / "b", schema, bad), "unknown-column")


CACHE = """
    CREATE SCHEMA mapping;
    CREATE TABLE mapping.cache (key TEXT PRIMARY KEY, data JSONB NOT NULL, expires_at TIMESTAMP);
"""


def test_qualified_reference_to_a_declared_qualified_table(tmp_path: Path) -> None:
    code = """
        def put(conn, key, data):
            conn.execute('INSERT INTO mapping.cache (key, data) VALUES (%s, %s) '
                         'ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data', (key, data))
    """
    assert_rules(_check(tmp_path, CACHE, code))


def test_qualified_reference_judged_against_the_declared_table(tmp_path: Path) -> None:
    code = """
        def put(conn, key, data):
            conn.execute('INSERT INTO mapping.cache (key, data, fetched) VALUES (%s, %s, now()) '
                         'ON CONFLICT (key) DO UPDATE SET fetched = EXCLUDED.fetched',
                         (key, data))
    """
    # the column list, the SET target and EXCLUDED.fetched
    assert_rules(_check(tmp_path, CACHE, code), *["unknown-column"] * 3)


def test_qualified_reference_to_an_undeclared_schema_is_not_judged(tmp_path: Path) -> None:
    code = """
        def put(conn, key, data):
            conn.execute('INSERT INTO other.cache (key, whatever) VALUES (%s, %s)', (key, data))
    """
    assert_rules(_check(tmp_path, CACHE, code))
