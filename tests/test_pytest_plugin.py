"""The pytest plugin, driven by pytester: items, pass and fail, fixtures, xdist."""

from __future__ import annotations

import textwrap

import pytest

APP = '''
import sqlite3

def upgrade(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                 "price REAL DEFAULT 0)")
    cols = [r[1] for r in conn.execute("PRAGMA table_info(items)")]
    if "price" not in cols:
        conn.execute("ALTER TABLE items ADD COLUMN price REAL DEFAULT 0")
    conn.commit()
    conn.close()

def add_item(conn, item):
    conn.execute("INSERT INTO items (name, price) VALUES (:name, :price)", item)
'''

ROUTER_OK = ('from app import add_item\n\ndef create(conn):\n'
             '    add_item(conn, {"name": "a", "price": 1.0})\n')
ROUTER_BAD = ('from app import add_item\n\ndef create(conn):\n'
              '    add_item(conn, {"name": "a", "price": 1.0, "colour": "red"})\n')
PYPROJECT = '[tool.dbharness]\nentry = "app:upgrade"\nsnapshots = "snapshots/*"\ncache = false\n'
USER_TESTS = '''
import sqlite3

def test_fresh(fresh_db, dbharness_schema):
    assert "items" in dbharness_schema
    conn = sqlite3.connect(fresh_db)
    assert [r[1] for r in conn.execute("PRAGMA table_info(items)")] == ["id", "name", "price"]

def test_legacy(legacy_db):
    conn = sqlite3.connect(legacy_db)
    assert conn.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 2
'''
LEGACY = ("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
          "INSERT INTO items VALUES (1, 'a');\nINSERT INTO items VALUES (2, 'b');\n")


def make(pytester: pytest.Pytester, router: str) -> None:
    pytester.makefile(".toml", pyproject=PYPROJECT)
    pytester.makepyfile(app=textwrap.dedent(APP), router=router, test_user=USER_TESTS)
    (pytester.path / "snapshots").mkdir()
    (pytester.path / "snapshots" / "v1.sql").write_text(LEGACY, encoding="utf-8")


def test_items_collected_and_passing(pytester: pytest.Pytester) -> None:
    make(pytester, ROUTER_OK)
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=2 + 2 + 6)  # files (test files are not checked), user
    # tests, migration checks
    result.stdout.fnmatch_lines(["*test_legacy?snapshots/v1.sql? PASSED*",
                                 "dbharness::check?router.py? PASSED*",
                                 "dbharness::migrations?snapshots/v1.sql-schema? PASSED*"])


def test_a_stray_key_fails_with_a_readable_report(pytester: pytest.Pytester) -> None:
    make(pytester, ROUTER_BAD)
    result = pytester.runpytest()
    result.assert_outcomes(passed=9, failed=1)
    result.stdout.fnmatch_lines([
        "*router.py:4:48: DBH201 [[]key-without-column[]] key 'colour'*",
        "*fix: ALTER TABLE items ADD COLUMN colour TEXT*",
    ])


def test_failing_migration_check_shows_labelled_blocks(pytester: pytest.Pytester) -> None:
    make(pytester, ROUTER_OK)
    (pytester.path / "app.py").write_text(textwrap.dedent(APP).replace(
        '    if "price" not in cols:\n        conn.execute("ALTER TABLE items ADD COLUMN price '
        'REAL DEFAULT 0")\n', ""), encoding="utf-8")
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["*Snapshot: snapshots/v1.sql*", "*Check: schema*",
                                 "*items.price*"])
    assert result.ret == 1


def test_inactive_without_config(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)


def test_explicit_test_selection_adds_no_items(pytester: pytest.Pytester) -> None:
    make(pytester, ROUTER_BAD)
    result = pytester.runpytest("test_user.py::test_fresh")
    result.assert_outcomes(passed=1)


@pytest.mark.slow  # a pytest subprocess with two workers (~15 s)
def test_under_xdist(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    make(pytester, ROUTER_OK)
    result = pytester.runpytest_subprocess("-n", "2",
                                           "--dist", "loadgroup")
    result.assert_outcomes(passed=10)
