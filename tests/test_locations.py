"""Every finding and note points at the text it is about, across modules (#17).

A four-module app — schema constants, a store, a pass-through service, a route — where each
location of each finding and of each of its notes is read back from the file and must start with
the name or call it is about. (The bug this keeps fixed: a note on a pass-through writer named the
caller's file with the line and column of the SQL in the callee's.)
"""

from __future__ import annotations

from pathlib import Path

from harness.diagnostics import Location
from tests.helpers import findings

APP = {
    "shop/__init__.py": "",
    "shop/schema.py": '''
        """The schema, kept apart from the code that runs it."""

        ITEMS = """
            CREATE TABLE IF NOT EXISTS items (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                price REAL,
                note TEXT
            )
        """

        LIST_ITEMS = "SELECT id, nme FROM items"
        ''',
    "shop/db.py": '''
        import sqlite3

        from shop.schema import ITEMS, LIST_ITEMS


        class Store:
            def __init__(self, path: str) -> None:
                self.conn = sqlite3.connect(path)
                self.conn.execute(ITEMS)

            def add_item(self, item: dict) -> None:
                self.conn.execute(
                    "INSERT INTO items (name, price) VALUES (?, ?)",
                    (item["name"], item["price"]),
                )

            def list_items(self) -> list:
                return self.conn.execute(LIST_ITEMS).fetchall()
        ''',
    "shop/service.py": '''
        from shop.db import Store

        store = Store("shop.db")


        def save(item: dict) -> None:
            store.add_item(item)
        ''',
    "shop/routes.py": '''
        from shop.service import save


        def create(payload) -> None:
            item = {"name": payload.name, "price": payload.price, "colour": payload.colour,
                    "note": payload.note}
            save(item)
        ''',
}


def _text_at(root: Path, where: Location) -> str:
    lines = (root / where.path).read_text(encoding="utf-8").splitlines()
    assert 1 <= where.line <= len(lines), f"{where.path} has no line {where.line}"
    return lines[where.line - 1][where.col - 1:]


def test_each_location_is_the_text_it_names(tmp_path: Path) -> None:
    got = {d.rule: d for d in findings(tmp_path, APP)}
    assert sorted(got) == ["key-not-written", "key-without-column", "unknown-column"]
    dropped, unwritten, unknown = (got["key-without-column"], got["key-not-written"],
                                   got["unknown-column"])
    assert dropped.path == "shop/routes.py"
    assert _text_at(tmp_path, dropped.location).startswith('"colour"')
    assert _text_at(tmp_path, unwritten.location).startswith('"note"')
    assert unknown.path == "shop/schema.py"  # the constant's file, not the execute site's
    assert _text_at(tmp_path, unknown.location).startswith("nme")
    notes = {n.message: n.location for d in got.values() for n in d.related}
    starts = {"writes item to items here": ("shop/db.py", "self.conn.execute"),
              "table items is defined here": ("shop/schema.py", "items"),
              "the record is handed on here": ("shop/routes.py", "save(item)")}
    for suffix, (path, text) in starts.items():
        (where,) = {w for m, w in notes.items() if m.endswith(suffix)}
        assert where.path == path and _text_at(tmp_path, where).startswith(text), (suffix, where)
    # the advice names the function and file whose INSERT it means
    assert unwritten.fix is not None and "in Store.add_item (shop/db.py:12)" in unwritten.fix
