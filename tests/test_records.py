"""The headline check: records bound to writers and tables, across modules, no false alarms."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import assert_rules, check_files, findings

DB = '''
import sqlite3

class Store:
    def __init__(self, path):
        self.conn = sqlite3.connect(path)
        self.conn.execute("""CREATE TABLE IF NOT EXISTS items (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            price REAL DEFAULT 0,
            note TEXT
        )""")

    def add_item(self, item):
        self.conn.execute(
            "INSERT INTO items (name, price, note) VALUES (?, ?, ?)",
            (item["name"], item.get("price", 0), item.get("note")),
        )

    def add_named(self, item):
        self.conn.execute(
            "INSERT INTO items (name, price) VALUES (:name, :price)", item)

    def update_item(self, item):
        self.conn.execute("UPDATE items SET name = ?, price = ? WHERE id = ?",
                          (item["name"], item["price"], item["id"]))

    def save(self, item):
        self.add_item(item)

    def insert(self, table, data):
        cols = ", ".join(data.keys())
        marks = ", ".join("?" for _ in data)
        self.conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})",
                          tuple(data.values()))

    def update(self, table, data, key):
        sets = ", ".join(f"{k} = ?" for k in data)
        self.conn.execute(f"UPDATE {table} SET {sets} WHERE id = ?", [*data.values(), key])


store = Store("app.db")
'''


def run(tmp_path: Path, code: str, extra: dict[str, str] | None = None) -> list:
    files = {"db.py": DB, "app.py": code, **(extra or {})}
    return findings(tmp_path, files)


PATTERNS = [
    # (name, bad code (one stray key 'colour'), good code)
    ("dict display",
     'store.add_item({"name": "a", "colour": "red"})',
     'store.add_item({"name": "a", "price": 1.0})'),
    ("variable",
     'item = {"name": "a", "colour": "red"}\nstore.add_item(item)',
     'item = {"name": "a"}\nstore.add_item(item)'),
    ("dict call",
     'store.add_item(dict(name="a", colour="red"))',
     'store.add_item(dict(name="a", note="n"))'),
    ("subscript assignment",
     'item = {"name": "a"}\nitem["colour"] = "red"\nstore.add_item(item)',
     'item = {"name": "a"}\nitem["note"] = "n"\nstore.add_item(item)'),
    ("conditional key",
     'def f(x):\n    item = {"name": "a"}\n    if x:\n        item["colour"] = x\n'
     '    store.add_item(item)',
     'def f(x):\n    item = {"name": "a"}\n    if x:\n        item["note"] = x\n'
     '    store.add_item(item)'),
    ("update",
     'item = {"name": "a"}\nitem.update({"colour": 1})\nstore.add_item(item)',
     'item = {"name": "a"}\nitem.update(note="n")\nstore.add_item(item)'),
    ("setdefault",
     'item = {"name": "a"}\nitem.setdefault("colour", 1)\nstore.add_item(item)',
     'item = {"name": "a"}\nitem.setdefault("note", "")\nstore.add_item(item)'),
    ("merge",
     'base = {"name": "a"}\nstore.add_item({**base, "colour": 1})',
     'base = {"name": "a"}\nstore.add_item({**base, "note": 1})'),
    ("pop removes",
     'item = {"name": "a", "colour": 1}\nitem["price"] = 2.0\nstore.add_item(item)',
     'item = {"name": "a", "colour": 1}\nitem.pop("colour")\nstore.add_item(item)'),
    ("del removes",
     'item = {"name": "a", "colour": 1}\nstore.add_item(item)',
     'item = {"name": "a", "colour": 1}\ndel item["colour"]\nstore.add_item(item)'),
    ("loop over constant keys",
     'item = {"name": "a"}\nfor k in ("colour", "note"):\n    item[k] = 1\nstore.add_item(item)',
     'item = {"name": "a"}\nfor k in ("price", "note"):\n    item[k] = 1\nstore.add_item(item)'),
    ("helper returns the dict",
     'def build():\n    return {"name": "a", "colour": 1}\nstore.add_item(build())',
     'def build():\n    return {"name": "a", "note": 1}\nstore.add_item(build())'),
    ("pass-through",
     'store.save({"name": "a", "colour": 1})',
     'store.save({"name": "a", "note": 1})'),
    ("named placeholders",
     'store.add_named({"name": "a", "price": 1, "colour": 1})',
     'store.add_named({"name": "a", "price": 1})'),
    ("update writer",
     'store.update_item({"id": 1, "name": "a", "price": 2, "colour": 1})',
     'store.update_item({"id": 1, "name": "a", "price": 2})'),
    ("generic insert helper",
     'store.insert("items", {"name": "a", "colour": 1})',
     'store.insert("items", {"name": "a", "note": "n"})'),
    ("generic update helper",
     'store.update("items", {"name": "a", "colour": 1}, 3)',
     'store.update("items", {"name": "a"}, 3)'),
    ("table from a constant",
     'TABLE = "items"\nstore.insert(TABLE, {"name": "a", "colour": 1})',
     'TABLE = "items"\nstore.insert(TABLE, {"name": "a"})'),
    ("local instance",
     'from db import Store\ns = Store("x")\ns.add_item({"name": "a", "colour": 1})',
     'from db import Store\ns = Store("x")\ns.add_item({"name": "a"})'),
    ("annotated parameter",
     'from db import Store\ndef handler(s: Store):\n    s.add_item({"name": "a", "colour": 1})',
     'from db import Store\ndef handler(s: Store):\n    s.add_item({"name": "a"})'),
    ("last assignment wins",
     'item = {"name": "a"}\nstore.add_item(item)\nitem = {"name": "b", "colour": 1}\n'
     'store.add_item(item)',
     'item = {"name": "a", "colour": 1}\nitem = {"name": "b"}\nstore.add_item(item)'),
    ("key added after the call does not count",
     'item = {"name": "a", "colour": 1}\nstore.add_item(item)',
     'item = {"name": "a"}\nstore.add_item(item)\nitem["colour"] = 1'),
]


@pytest.mark.parametrize(("name", "bad", "good"), PATTERNS, ids=[p[0] for p in PATTERNS])
def test_stray_key_flagged_and_correct_record_not(tmp_path: Path, name: str, bad: str,
                                                  good: str) -> None:
    code = "from db import store\n"
    got = run(tmp_path / "bad", code + bad + "\n")
    assert [d.rule for d in got] == ["key-without-column"], "\n".join(map(str, got))
    assert got[0].key == "colour" and got[0].table == "items"
    assert_rules(run(tmp_path / "good", code + good + "\n"))


def test_finding_points_at_the_key_and_names_writer(tmp_path: Path) -> None:
    got = run(tmp_path, 'from db import store\nitem = {\n    "name": "a",\n    "colour": True,\n}\n'
                        "store.add_item(item)\n")
    (d,) = got
    assert (d.path, d.line, d.col) == ("app.py", 4, 5)
    assert "Store.add_item" in d.message
    assert d.fix is not None and d.fix.startswith(
        "ALTER TABLE items ADD COLUMN colour BOOLEAN DEFAULT 0")
    assert any(r.location.path == "db.py" for r in d.related)


def test_key_not_written(tmp_path: Path) -> None:
    got = run(tmp_path, 'from db import store\nstore.add_named({"name": "a", "price": 1, '
                        '"note": "x"})\n')
    assert [(d.rule, d.key) for d in got] == [("key-not-written", "note")]


def test_missing_key(tmp_path: Path) -> None:
    got = run(tmp_path, 'from db import store\nstore.update_item({"id": 1, "name": "a"})\n')
    assert [(d.rule, d.key) for d in got] == [("missing-key", "price")]


def test_missing_key_not_reported_for_get_or_open_records(tmp_path: Path) -> None:
    code = ("from db import store\n"
            'store.add_item({"name": "a"})\n'  # price/note read with .get
            "def f(extra):\n"
            '    store.update_item({"id": 1, **extra})\n')  # unknown keys: may have them
    assert_rules(run(tmp_path, code))


def test_missing_named_placeholder_key(tmp_path: Path) -> None:
    got = run(tmp_path, 'from db import store\nstore.add_named({"name": "a"})\n')
    assert [(d.rule, d.key) for d in got] == [("missing-key", "price")]


def test_inline_execute_with_named_dict(tmp_path: Path) -> None:
    code = ("from db import store\n"
            'store.conn.execute("INSERT INTO items (name) VALUES (:name)", '
            '{"name": "a", "colour": 1})\n')
    assert [d.rule for d in run(tmp_path, code)] == ["key-without-column"]


def test_executemany_list_of_dicts(tmp_path: Path) -> None:
    code = ("from db import store\n"
            'rows = [{"name": "a", "colour": 1}]\n'
            'store.conn.executemany("INSERT INTO items (name) VALUES (:name)", rows)\n')
    assert [d.rule for d in run(tmp_path, code)] == ["key-without-column"]


def test_across_modules_with_relative_imports(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/storage/__init__.py": "",
        "pkg/storage/db.py": DB,
        "pkg/state.py": "from .storage.db import Store\n\nclass Manager:\n"
                        "    def __init__(self):\n        self.store = Store('x')\n\n"
                        "manager = Manager()\n",
        "pkg/routes/__init__.py": "",
        "pkg/routes/items.py": "from ..state import manager\n\n"
                               "def create(name):\n"
                               '    data = {"name": name, "colour": 1}\n'
                               "    manager.store.add_item(data)\n",
    }
    got = findings(tmp_path, files)
    assert [(d.rule, d.path, d.line) for d in got] == [
        ("key-without-column", "pkg/routes/items.py", 4)]


def test_absolute_import_of_a_package_by_suffix(tmp_path: Path) -> None:
    files = {
        "src/shop/__init__.py": "",
        "src/shop/db.py": DB,
        "src/shop/api.py": "from shop.db import store\n"
                           'store.add_item({"name": "a", "colour": 1})\n',
    }
    assert [d.rule for d in findings(tmp_path, files)] == ["key-without-column"]


def test_sql_constant_imported_from_another_module(tmp_path: Path) -> None:
    files = {
        "queries.py": 'CREATE = "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)"\n'
                      'INSERT = "INSERT INTO t (a, b) VALUES (?, ?)"\n',
        "app.py": "import sqlite3\nfrom queries import CREATE, INSERT\n"
                  "conn = sqlite3.connect('x')\nconn.execute(CREATE)\n"
                  "conn.execute(INSERT, (1, 2))\n",
    }
    got = findings(tmp_path, files)
    assert [(d.rule, d.column) for d in got] == [("unknown-column", "b")]


def test_executor_helper_receives_sql(tmp_path: Path) -> None:
    files = {
        "app.py": "import sqlite3\n"
                  "class Db:\n"
                  "    def __init__(self):\n"
                  "        self.conn = sqlite3.connect('x')\n"
                  "        self.run('CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)')\n"
                  "    def run(self, sql, params=()):\n"
                  "        return self.conn.execute(sql, params)\n"
                  "    def add(self, rec):\n"
                  "        self.run('INSERT INTO t (a) VALUES (:a)', rec)\n"
                  "db = Db()\n"
                  "db.add({'a': 1, 'zzz': 2})\n"
                  "db.run('SELECT nope FROM t')\n",
    }
    got = findings(tmp_path, files)
    assert sorted((d.rule, d.key or d.column) for d in got) == [
        ("key-without-column", "zzz"), ("unknown-column", "nope")]


def test_kwargs_helper(tmp_path: Path) -> None:
    files = {
        "app.py": "import sqlite3\n"
                  "conn = sqlite3.connect('x')\n"
                  "conn.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)')\n"
                  "def insert(table, **fields):\n"
                  "    cols = ', '.join(fields)\n"
                  "    marks = ', '.join('?' * len(fields))\n"
                  "    conn.execute(f'INSERT INTO {table} ({cols}) VALUES ({marks})', "
                  "list(fields.values()))\n"
                  "insert('t', a=1, b=2)\n",
    }
    got = findings(tmp_path, files)
    assert [(d.rule, d.key) for d in got] == [("key-without-column", "b")]


PRECISION = {
    "cache.py": '''
        class Cache:
            def __init__(self):
                self.data = {}
            def insert(self, item):
                self.data[item["id"]] = item
            def update(self, item):
                self.data.update(item)
        cache = Cache()
    ''',
    "views.py": '''
        import json
        import logging
        import requests
        from cache import cache
        from db import store

        log = logging.getLogger(__name__)

        def view(name):
            payload = {"name": name, "colour": "red", "debug": True}
            log.info("payload %s", payload)
            requests.post("http://example.invalid", json=payload, timeout=3)
            cache.insert(payload)
            cache.update(payload)
            items = []
            items.append(payload)
            items.insert(0, payload)
            seen = {}
            seen.update(payload)
            return json.dumps({"ok": True, **payload})

        def unresolved(db, row):
            db.insert({"anything": 1})
            db.add_item_somewhere({"name": 1, "colour": 2})
    ''',
}


def test_precision_dicts_that_never_reach_sql(tmp_path: Path) -> None:
    got = findings(tmp_path, {"db.py": DB, **PRECISION})
    assert_rules(got)


def test_contracts_lists_bindings_and_unbound(tmp_path: Path) -> None:
    import json

    from harness.contracts_report import contracts_json, contracts_mermaid, contracts_text

    result = check_files(tmp_path, {"db.py": DB, **PRECISION,
                                    "app.py": "from db import store\n"
                                              'store.add_item({"name": "a"})\n'})
    data = json.loads(contracts_json(result.model))
    assert [(b["table"], b["writer"]["function"]) for b in data["bindings"]] == [
        ("items", "Store.add_item")]
    reasons = [u["reason"] for u in data["unbound"]]
    # a dict handed to a call that resolves to nothing is not known to reach SQL: not listed
    assert not any("add_item_somewhere" in r for r in reasons)
    assert "Store.add_item" in contracts_text(result.model)
    assert contracts_mermaid(result.model).startswith("flowchart LR")


def test_explicit_contract_binds_what_inference_cannot(tmp_path: Path) -> None:
    code = ("def handler(db, name):\n"
            '    payload = {"name": name, "colour": "red"}\n'
            "    db.persist(payload)\n")  # db has no known type: nothing is inferred
    files = {"db.py": DB, "app.py": code}
    assert_rules(findings(tmp_path / "a", files))
    contract = ('[[binding]]\nrecord = "app.py:payload"\ntable = "items"\n')
    got = findings(tmp_path / "b", {**files, "contracts/app.toml": contract})
    assert [(d.rule, d.key, d.line) for d in got] == [("key-without-column", "colour", 2)]


def test_explicit_contract_with_writer_and_function_parameter(tmp_path: Path) -> None:
    code = ("from db import store\n"
            "def save(item):\n"
            "    store.queue.put(item)\n"  # a queue consumer writes it later: not inferred
            'save({"name": "a", "note": "n"})\n')
    contract = ('[[tool.dbharness.binding]]\nrecord = "app.py:save(item)"\ntable = "items"\n'
                'writer = "db:Store.add_named"\n')
    got = findings(tmp_path, {"db.py": DB, "app.py": code, "pyproject.toml": contract})
    # add_named writes name and price only: note has a column but is never written.
    assert sorted((d.rule, d.key) for d in got) == [("key-not-written", "note"),
                                                    ("missing-key", "price")]


def test_contract_that_matches_nothing_is_listed_as_unbound(tmp_path: Path) -> None:
    contract = '[[binding]]\nrecord = "app.py:nothing"\ntable = "items"\n'
    result = check_files(tmp_path, {"db.py": DB, "app.py": "x = 1\n",
                                    "contracts/c.toml": contract})
    assert any("contract" in u.what for u in result.model.unbound)


@pytest.mark.parametrize("bad", ['[[binding]]\nrecord = "nocolon"\ntable = "t"\n',
                                 '[[binding]]\nrecord = "a.py:x"\n',
                                 '[[binding]]\nrecord = "a.py:x"\ntable = "t"\nwat = 1\n',
                                 "binding = 3\n", "[[binding\n"])
def test_bad_contract_files_are_config_errors(tmp_path: Path, bad: str) -> None:
    from harness.errors import ConfigError

    with pytest.raises(ConfigError):
        findings(tmp_path, {"a.py": "x = 1\n", "contracts/c.toml": bad})


WRITER_SHAPES = {
    "concatenation": 'conn.execute("INSERT INTO items (name, note) " + "VALUES (?, ?)", '
                     '(rec["name"], rec["note"]))',
    "implicit concatenation": 'conn.execute("INSERT INTO items (name, note) "\n'
                              '                 "VALUES (?, ?)", (rec["name"], rec["note"]))',
    "module constant": 'conn.execute(INSERT, (rec["name"], rec["note"]))',
    "class constant": 'conn.execute(Q.INSERT, (rec["name"], rec["note"]))',
    "local variable": 'sql = "INSERT INTO items (name, note) VALUES (?, ?)"\n'
                      '    conn.execute(sql, (rec["name"], rec["note"]))',
    "augmented assignment": 'sql = "INSERT INTO items (name, note) "\n    sql += "VALUES (?, ?)"\n'
                            '    conn.execute(sql, (rec["name"], rec["note"]))',
    "format with a constant table": 'conn.execute("INSERT INTO {} (name, note) VALUES (?, ?)"'
                                    '.format(TABLE), (rec["name"], rec["note"]))',
    "percent with a constant table": 'conn.execute("INSERT INTO %s (name, note) VALUES (?, ?)" '
                                     '% TABLE, (rec["name"], rec["note"]))',
    "f-string with a constant table": 'conn.execute(f"INSERT INTO {TABLE} (name, note) '
                                      'VALUES (?, ?)", (rec["name"], rec["note"]))',
    "named placeholders, pyformat": 'conn.execute("INSERT INTO items (name, note) VALUES '
                                    '(%(name)s, %(note)s)", rec)',
}
WRITER_MODULE = '''
import sqlite3

TABLE = "items"
INSERT = "INSERT INTO items (name, note) VALUES (?, ?)"
conn = sqlite3.connect("x")
conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT)")


class Q:
    INSERT = "INSERT INTO items (name, note) VALUES (?, ?)"


def write(rec):
    {body}
'''


@pytest.mark.parametrize("shape", sorted(WRITER_SHAPES))
def test_writer_sql_shapes(tmp_path: Path, shape: str) -> None:
    writer = WRITER_MODULE.replace("{body}", WRITER_SHAPES[shape])
    bad = 'from w import write\nwrite({"name": "a", "note": "b", "colour": 1})\n'
    good = 'from w import write\nwrite({"name": "a", "note": "b"})\n'
    dialect = "postgres" if "pyformat" in shape else "sqlite"
    got = findings(tmp_path / "bad", {"w.py": writer, "app.py": bad}, dialect=dialect)
    assert [(d.rule, d.key) for d in got] == [("key-without-column", "colour")], \
        "\n".join(map(str, got))
    assert_rules(findings(tmp_path / "good", {"w.py": writer, "app.py": good}, dialect=dialect))


def test_dict_stored_on_self_and_read_back_in_another_method(tmp_path: Path) -> None:
    code = ("from db import store\n"
            "class Importer:\n"
            "    def __init__(self, name):\n"
            '        self.row = {"name": name}\n'
            '        self.row["colour"] = "red"\n'
            "    def save(self):\n"
            "        store.add_item(self.row)\n")
    got = run(tmp_path, code)
    assert [(d.rule, d.key) for d in got] == [("key-without-column", "colour")]
    assert_rules(run(tmp_path / "ok", code.replace('"colour"', '"note"')))


EACH = '''
from db import store


def import_all(rows):
    for row in rows:
        store.add_item(row)


def import_settings(settings):
    for key in settings:
        store.add_item(key)
'''


@pytest.mark.parametrize(("call", "stray"), [
    ('import_all([{"name": "a", "colour": "red"}, {"name": "b"}])', "colour"),
    ('import_all([{"name": "a", "note": "n"}, {"name": "b"}])', None),
    # a dict handed to a function that iterates it passes its keys on, not the dict
    ('import_settings({"name": "a", "colour": "red"})', None),
    ('import_all({"name": "a", "colour": "red"})', None),
])
def test_items_of_a_list_parameter_written_one_by_one(tmp_path: Path, call: str,
                                                     stray: str | None) -> None:
    got = run(tmp_path, EACH + call + "\n")
    if stray is None:
        assert_rules(got)
    else:
        line = EACH.lstrip("\n").count("\n") + 1
        assert [(d.rule, d.key, d.line) for d in got] == [
            ("key-without-column", stray, line)], "\n".join(map(str, got))
