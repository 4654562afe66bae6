"""``check`` and ``contracts`` say what they covered and what they could not analyse."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.contracts_report import contracts_json, contracts_text
from harness.link.coverage import coverage
from tests.helpers import check_files, write_project

APP = {
    "store.py": '''
        import sqlite3

        conn = sqlite3.connect("shop.db")
        conn.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT, "
                     "price REAL)")


        def build_query(kind):
            return "SELECT id FROM items ORDER BY " + kind


        def run(sql, params=()):
            return conn.execute(sql, params).fetchall()


        def never_called(sql):
            return conn.execute(sql).fetchall()


        def add_item(item):
            conn.execute("INSERT INTO items (name, price) VALUES (:name, :price)", item)


        def add_row(table, item):
            conn.execute(f"INSERT INTO {table} (name) VALUES (:name)", item)
    ''',
    "handlers.py": '''
        from store import add_item, add_row, build_query, conn, run


        def list_items(kind):
            conn.execute(build_query(kind))
            return run("SELECT id, name FROM items WHERE price > ?", (0,))


        def create(form):
            add_item({"name": form["name"], "price": form["price"]})
            add_row(form["table"], {"name": form["name"]})
            payload = {"name": 1}
            print(payload)
            cache.fetchval("SELECT price FROM items")
    ''',
}


def test_coverage_counts_checked_and_not_analysed(tmp_path: Path) -> None:
    result = check_files(tmp_path, APP)
    got = coverage(result.model).as_dict()
    assert got == {
        "sql_sites_seen": 7,
        "sql_sites_checked": 4,
        "statements_checked": 4,
        "not_analysed": {"computed SQL": 1, "SQL from a parameter no call supplies": 1,
                         "unknown driver": 1},
        "records_bound": 1,
        "records_unbound": 1,
        "files_not_analysed": {},
    }
    data = json.loads(contracts_json(result.model))
    assert data["coverage"] == got
    # only dicts that reach SQL: ``payload`` goes to print(), never to a writer
    records = [u for u in data["unbound"] if u["what"].startswith("record")]
    assert [(u["what"], u["line"]) for u in records] == [("record dict", 11)]
    assert "its table (parameter 'table') is not a known name" in records[0]["reason"]
    text = contracts_text(result.model)
    assert "payload" not in text
    assert "coverage: checked 4 statements at 4 sites; 3 sites not analysed" in text


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_check_text_ends_with_what_it_covered(tmp_path: Path) -> None:
    write_project(tmp_path, APP)
    for _ in range(2):  # the second run answers from the result cache: the same line
        done = subprocess.run([sys.executable, "-m", "harness", "check", str(tmp_path)],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert done.stdout.strip().splitlines()[-1] == (
            "dbharness: checked 4 statements at 4 sites; 3 sites not analysed: 1 computed SQL, "
            "1 SQL from a parameter no call supplies, 1 unknown driver")
    done = subprocess.run([sys.executable, "-m", "harness", "check", "--format", "json",
                           str(tmp_path)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert isinstance(json.loads(done.stdout), list)  # the findings array stays as it is


def test_coverage_of_a_clean_project_has_no_reasons(tmp_path: Path) -> None:
    files = {"store.py": textwrap.dedent(APP["store.py"]).split("def build_query")[0]
             + 'def names():\n    return conn.execute("SELECT name FROM items").fetchall()\n'}
    got = coverage(check_files(tmp_path, files).model)
    assert (got.sql_sites_seen, got.sql_sites_checked, got.not_analysed) == (2, 2, ())
    assert got.line() == "checked 2 statements at 2 sites"


def test_inline_write_with_a_computed_table_is_an_unbound_record(tmp_path: Path) -> None:
    """``execute(f"INSERT INTO {table} ...", {...})``: the dict reaches SQL, its table is not
    known: listed with that reason; with a literal table it is bound."""
    code = """
        import sqlite3

        conn = sqlite3.connect("shop.db")
        conn.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT)")


        def add(table, name):
            conn.execute(f"INSERT INTO {table} (name) VALUES (:name)", {"name": name})
            conn.execute("INSERT INTO items (name) VALUES (:name)", {"name": name})
    """
    model = check_files(tmp_path, {"store.py": code}).model
    got = coverage(model)
    assert (got.records_bound, got.records_unbound) == (1, 1)
    reasons = [u.reason for u in model.unbound]
    assert reasons == ["its keys feed the INSERT at store.py:8, whose table is computed"]
