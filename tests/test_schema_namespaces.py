"""Tables in another schema (PostgreSQL ``CREATE SCHEMA``, SQLite ``ATTACH``) are their own
tables: ``shop.items`` is neither ``items`` nor ``stock.items``."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import findings

MIGRATIONS = '''
def m001(db):
    db.execute("CREATE TABLE wallets (id TEXT PRIMARY KEY, name TEXT NOT NULL, "
               "balance INTEGER NOT NULL DEFAULT 0)")
    db.execute("CREATE TABLE shop.wallets (id TEXT PRIMARY KEY, owner TEXT NOT NULL, "
               "title TEXT NOT NULL)")
    db.execute("CREATE TABLE shop.item (id TEXT PRIMARY KEY, label TEXT NOT NULL)")
    db.execute("CREATE TABLE stock.item (id TEXT PRIMARY KEY, qty INTEGER NOT NULL)")
    db.execute("ALTER TABLE stock.item ADD COLUMN place TEXT")
'''


def _check(tmp_path: Path, code: str) -> list[str]:
    diags = findings(tmp_path, {"app/migrations.py": MIGRATIONS, "app/crud.py": code})
    return [str(d.rule) for d in diags if d.path.endswith("crud.py")]


def test_bare_table_is_not_merged_with_a_schema_table(tmp_path: Path) -> None:
    rules = _check(tmp_path, '''
        def add(db):
            db.execute("INSERT INTO wallets (id, name) VALUES (?, ?)", ("a", "b"))
            db.execute("INSERT INTO shop.wallets (id, owner, title) VALUES (?, ?, ?)",
                       ("a", "b", "c"))
    ''')
    assert rules == []


def test_same_table_name_in_two_schemas_stays_two_tables(tmp_path: Path) -> None:
    rules = _check(tmp_path, '''
        def add(db):
            db.execute("INSERT INTO shop.item (id, label) VALUES (?, ?)", ("a", "b"))
            db.execute("INSERT INTO stock.item (id, qty, place) VALUES (?, ?, ?)", ("a", 1, "x"))
    ''')
    assert rules == []


def test_schema_table_is_judged_by_its_own_columns(tmp_path: Path) -> None:
    rules = _check(tmp_path, '''
        def add(db):
            db.execute("INSERT INTO shop.item (id) VALUES (?)", ("a",))
            return db.execute("SELECT * FROM stock.item WHERE id = label").fetchall()
    ''')
    assert sorted(rules) == ["not-null-missing", "unknown-column"]


def test_bare_name_wrong_for_default_schema_is_still_flagged(tmp_path: Path) -> None:
    rules = _check(tmp_path, '''
        def add(db):
            db.execute("INSERT INTO wallets (id, name, owner) VALUES (?, ?, ?)", ("a", "b", "c"))
    ''')
    assert rules == ["unknown-column"]


def test_schema_nobody_creates_is_not_judged(tmp_path: Path) -> None:
    rules = _check(tmp_path, '''
        def add(db):
            db.execute("INSERT INTO other.wallets (id, nothing) VALUES (?, ?)", ("a", "b"))
    ''')
    assert rules == []


def test_bare_name_only_a_schema_defines_is_not_unknown(tmp_path: Path) -> None:
    # search_path may find stock.item as item: neither unknown-table nor judged columns
    rules = _check(tmp_path, '''
        def add(db):
            return db.execute("SELECT whatever FROM item").fetchall()
    ''')
    assert rules == []


def test_rename_keeps_the_schema(tmp_path: Path) -> None:
    diags = findings(tmp_path, {"app/migrations.py": MIGRATIONS + '''
    db.execute("ALTER TABLE shop.item RENAME TO goods")
''', "app/crud.py": '''
        def add(db):
            db.execute("INSERT INTO shop.goods (id) VALUES (?)", ("a",))
    '''})
    assert [str(d.rule) for d in diags if d.path.endswith("crud.py")] == ["not-null-missing"]

