"""Advice only when certain (#17): a ``fix:`` line only where the fix follows from evidence.

Labels come from real SQLite: the misspelt names fail with ``no such column`` / ``no such
table``; each ALTER that missing-migration suggests is run on a real copy of the old database and
must succeed, and where SQLite cannot ADD such a column the suggested ALTER is shown to fail.
"""

from __future__ import annotations

import doctest
import re
import sqlite3
from pathlib import Path

import pytest

from harness.rules import advice
from tests.helpers import findings

SCHEMA = "CREATE TABLE pets (id INTEGER PRIMARY KEY, name TEXT NOT NULL, kind TEXT)"


def _app(query: str) -> dict[str, str]:
    return {"app.py": f'''
        import sqlite3

        def init(conn: sqlite3.Connection) -> None:
            conn.execute("{SCHEMA}")

        def names(conn: sqlite3.Connection) -> list[str]:
            return conn.execute("{query}").fetchall()
        '''}


def _fails_on_sqlite(query: str, message: str) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute(SCHEMA)
    with pytest.raises(sqlite3.OperationalError, match=message):
        conn.execute(query)


def test_doctests() -> None:
    assert doctest.testmod(advice).failed == 0


@pytest.mark.parametrize(("query", "rule", "fix"), [
    ("SELECT nme FROM pets", "unknown-column", "did you mean name? (table pets has name, not nme)"),
    ("SELECT kindd FROM pets", "unknown-column", "did you mean kind?"),
    ("SELECT name FROM pet", "unknown-table", "did you mean pets?"),
])
def test_a_near_name_is_the_fix(tmp_path: Path, query: str, rule: str, fix: str) -> None:
    _fails_on_sqlite(query, "no such")
    (diag,) = findings(tmp_path, _app(query))
    assert diag.rule == rule and diag.fix is not None and diag.fix.startswith(fix)


@pytest.mark.parametrize(("query", "rule"), [
    ("SELECT colour FROM pets", "unknown-column"),  # nothing declared is close: no advice
    ("SELECT name FROM owners", "unknown-table"),
])
def test_no_evidence_no_fix_line(tmp_path: Path, query: str, rule: str) -> None:
    _fails_on_sqlite(query, "no such")
    (diag,) = findings(tmp_path, _app(query))
    assert diag.rule == rule and diag.fix is None


def test_two_equally_near_names_give_no_advice() -> None:
    assert advice.closest("valu", ["value", "valum"]) is None
    assert advice.closest("name", ["name", "nam"]) is None  # declared: nothing to suggest


OLD_DUMP = """\
BEGIN TRANSACTION;
CREATE TABLE pets (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO pets VALUES(1,'Rex');
COMMIT;
"""

NEW_APP = '''
import sqlite3

def init(path: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute("""CREATE TABLE IF NOT EXISTS pets (
        id INTEGER PRIMARY KEY, name TEXT,
        kind TEXT NOT NULL DEFAULT 'dog', vip BOOLEAN DEFAULT 1, tag TEXT UNIQUE)""")
'''


def test_missing_migration_fix_is_the_declared_column(tmp_path: Path) -> None:
    """The suggested ALTER repeats the declaration (NOT NULL, DEFAULT 1 as written, not a
    guessed DEFAULT 0); a UNIQUE column, which SQLite cannot ADD, gets the rebuild instead."""
    (tmp_path / "snaps").mkdir()
    (tmp_path / "snaps" / "v1.sql").write_text(OLD_DUMP, encoding="utf-8")
    got = {d.column: d.fix or "" for d in findings(
        tmp_path, {"app.py": NEW_APP}, snapshots="snaps/*") if d.rule == "missing-migration"}
    assert sorted(got) == ["kind", "tag", "vip"]
    old = sqlite3.connect(":memory:")
    old.executescript(OLD_DUMP)
    for column in ("kind", "vip"):
        (alter,) = re.findall(r"`([^`]+)`", got[column])
        assert "CREATE TABLE" not in alter
        old.execute(alter)  # it works on the old database, and keeps the declared default
    assert old.execute("SELECT kind, vip FROM pets").fetchall() == [("dog", 1)]
    assert "rebuild pets" in got["tag"] and "ALTER TABLE" not in got["tag"]
    with pytest.raises(sqlite3.OperationalError, match="UNIQUE"):
        old.execute("ALTER TABLE pets ADD COLUMN tag TEXT UNIQUE")


PG_APP = {"db.py": '''
    import psycopg

    SCHEMA = "CREATE TABLE IF NOT EXISTS items (id SERIAL PRIMARY KEY, name TEXT NOT NULL)"

    def add_item(conn: psycopg.Connection, item: dict) -> None:
        conn.execute("INSERT INTO items (name) VALUES (%(name)s)", item)
    ''', "app.py": '''
    from db import add_item

    def handler(conn, payload) -> None:
        add_item(conn, {"name": payload.name, "colour": payload.colour, "is_big": payload.big})
    '''}


def test_key_without_column_names_a_type_only_when_one_follows(tmp_path: Path) -> None:
    """PostgreSQL requires a type in ADD COLUMN (``ALTER TABLE items ADD COLUMN colour`` is a
    syntax error there): with no type from the value or the key's name, no such ALTER is given."""
    got = {d.key: d.fix or "" for d in findings(tmp_path, PG_APP, dialect="postgres")
           if d.rule == "key-without-column"}
    assert got["is_big"].startswith("ALTER TABLE items ADD COLUMN is_big BOOLEAN")
    assert got["colour"].startswith("add a column colour to items (its type does not follow")


def test_sqlite_accepts_a_column_without_a_type(tmp_path: Path) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    conn.execute("ALTER TABLE items ADD COLUMN colour")  # the advice SQLite gets is valid there
    assert advice_for_sqlite().startswith("ALTER TABLE items ADD COLUMN colour")


def advice_for_sqlite() -> str:
    from harness.rules.records import suggest_column
    return suggest_column("items", "colour", None, "sqlite")


def test_postgres_rejects_add_column_without_a_type(pg_database: str) -> None:
    """The label of the PostgreSQL case above, from the real server."""
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(pg_database) as conn:
        conn.execute("CREATE TABLE items (id SERIAL PRIMARY KEY, name TEXT NOT NULL)")
        with pytest.raises(psycopg.errors.SyntaxError):
            conn.execute("ALTER TABLE items ADD COLUMN colour")
