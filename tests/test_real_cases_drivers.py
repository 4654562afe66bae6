"""Driver calling conventions, query wrappers, temporary/renamed tables and batch guards.

Each shape comes from a false alarm or a missed bug seen on real applications
(/work/shared/cases/README.md: F_asyncpg_*, r1, r2, r5, r6, B, C), rewritten here as a small
app (a handler and its data layer), with the shape and its near miss.

Labels: SQLite shapes are run for real on a SQLite file through ``sqlite3`` (and SQLAlchemy /
aiosqlite where the shape uses them) in a subprocess; the bug raises, the near miss runs. The
asyncpg, psycopg2 and postgres.py shapes repeat kinds the case authors confirmed on PostgreSQL
15.18 with asyncpg 0.32, psycopg2 2.9 and postgres 4.0 (shared/cases/README.md, cases
F_asyncpg_jsonb_list_arg, F_asyncpg_single_str_arg, C_temp_table_on_commit_drop,
r2_postgres_py_run_insert, r6_asyncpg_fetchrow_where).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import findings, write_project


def found(tmp_path: Path, files: dict[str, str], dialect: str = "sqlite"
          ) -> set[tuple[str, str | None]]:
    """(rule, column or table) of every finding."""
    return {(d.rule, d.column or d.table) for d in findings(tmp_path, files, dialect=dialect)}


def run_app(root: Path, script: str) -> str:
    """Run ``script`` with ``root`` on the path, against a real database file there; return
    what it printed on stderr when it failed, or "ok"."""
    code = textwrap.dedent(script)
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                          text=True, timeout=120)
    if done.returncode == 0:
        return "ok"
    return done.stderr or f"exit {done.returncode}"


def needs(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed: the label is not re-run here")


# --- asyncpg: execute/fetch*(query, *args) ----------------------------------------------------

ASYNCPG_SCHEMA = "CREATE TABLE notes (id bigserial PRIMARY KEY, owner bigint NOT NULL, " \
                 "body text NOT NULL);\n"
ASYNCPG_POOL = '''
import json

import asyncpg


async def make_pool(dsn):
    return await asyncpg.create_pool(dsn)
'''


def asyncpg_app(body: str) -> dict[str, str]:
    return {
        "schema.sql": ASYNCPG_SCHEMA,
        "notes/db.py": ASYNCPG_POOL,
        "notes/store.py": "import asyncpg\n\n\n" + textwrap.dedent(body),
        "notes/handlers.py": '''
            from notes.store import NoteStore


            async def post_notes(pool, payload):
                return await NoteStore(pool).add_many([(p["owner"], p["body"]) for p in payload])
        ''',
    }


def test_asyncpg_list_passed_as_one_jsonb_parameter_is_one_parameter(tmp_path: Path) -> None:
    """F_asyncpg_jsonb_list_arg: ``pool.execute(sql, rows)``: rows is $1, one parameter."""
    app = asyncpg_app('''
        class NoteStore:
            def __init__(self, pool):
                self.pool = pool

            async def add_many(self, pending):
                rows = [{"owner": o, "body": b} for o, b in pending]
                await self.pool.execute(
                    "INSERT INTO notes (owner, body) SELECT d.owner, d.body "
                    "FROM jsonb_to_recordset($1::jsonb) AS d(owner BIGINT, body TEXT)", rows)
    ''')
    assert found(tmp_path, app, "postgres") == set()


def test_asyncpg_second_placeholder_without_its_argument_is_flagged(tmp_path: Path) -> None:
    """The same call with ``$2`` and still one argument: asyncpg raises "the server expects 2
    arguments for this query, 1 was passed"."""
    app = asyncpg_app('''
        class NoteStore:
            def __init__(self, pool):
                self.pool = pool

            async def add_many(self, pending):
                rows = [{"owner": o, "body": b} for o, b in pending]
                await self.pool.execute(
                    "INSERT INTO notes (owner, body) SELECT d.owner, $2 "
                    "FROM jsonb_to_recordset($1::jsonb) AS d(owner BIGINT, body TEXT)", rows)
    ''')
    assert found(tmp_path, app, "postgres") == {("param-count", None)}


def test_asyncpg_single_str_argument_is_one_parameter(tmp_path: Path) -> None:
    """F_asyncpg_single_str_arg: ``conn.execute(sql, str(owner))``, not a str of characters;
    and a starred argument list is of unknown length: not judged."""
    app = asyncpg_app('''
        class NoteStore:
            def __init__(self, conn):
                self.conn = conn

            async def clear(self, owner: int):
                await self.conn.execute("DELETE FROM notes WHERE owner::text = $1", str(owner))

            async def clear_some(self, *owners):
                await self.conn.execute("DELETE FROM notes WHERE owner = $1 OR owner = $2",
                                        *owners)

            async def add_many(self, pending):
                return pending
    ''')
    assert found(tmp_path, app, "postgres") == set()


def test_asyncpg_single_argument_for_two_placeholders_is_flagged(tmp_path: Path) -> None:
    app = asyncpg_app('''
        class NoteStore:
            def __init__(self, conn):
                self.conn = conn

            async def clear(self, owner: int):
                await self.conn.execute("DELETE FROM notes WHERE owner = $1 AND body = $2",
                                        owner, timeout=5)

            async def add_many(self, pending):
                return pending
    ''')
    assert found(tmp_path, app, "postgres") == {("param-count", None)}


def test_asyncpg_fetch_methods_are_sql_sites(tmp_path: Path) -> None:
    """r6_asyncpg_fetchrow_where: ``fetchrow``/``fetchval``/``fetch`` run SQL as ``execute``
    does; the misspelt column is reported at each."""
    app = asyncpg_app('''
        class NoteStore:
            def __init__(self, pool):
                self.pool = pool

            async def add_many(self, pending):
                return await self.pool.fetchval(
                    "INSERT INTO notes (owner, body) VALUES ($1, $2) RETURNING id", *pending[0])

            async def latest(self, owner):
                return await self.pool.fetchrow(
                    "SELECT id, body FROM notes WHERE ownr = $1 ORDER BY id DESC", owner)

            async def bodies(self, owner):
                return await self.pool.fetch("SELECT bdy FROM notes WHERE owner = $1", owner)
    ''')
    assert found(tmp_path, app, "postgres") == {("unknown-column", "ownr"),
                                                 ("unknown-column", "bdy")}


def test_asyncpg_fetch_methods_near_miss(tmp_path: Path) -> None:
    app = asyncpg_app('''
        class NoteStore:
            def __init__(self, pool):
                self.pool = pool

            async def add_many(self, pending):
                return pending

            async def latest(self, owner):
                return await self.pool.fetchrow(
                    "SELECT id, body FROM notes WHERE owner = $1 ORDER BY id DESC", owner)

            async def count(self):
                return await self.pool.fetchval("SELECT count(*) FROM notes")
    ''')
    assert found(tmp_path, app, "postgres") == set()


def test_distinctive_method_in_a_module_without_the_import(tmp_path: Path) -> None:
    """A data layer handed an asyncpg connection need not import asyncpg: ``fetchrow`` is a SQL
    site when the project imports asyncpg somewhere, and not in a project that never does."""
    store = '''
        async def latest(conn, owner):
            return await conn.fetchrow("SELECT id FROM notes WHERE ownr = $1", owner)
    '''
    with_driver = {"schema.sql": ASYNCPG_SCHEMA, "db.py": ASYNCPG_POOL, "store.py": store}
    assert found(tmp_path / "a", with_driver, "postgres") == {("unknown-column", "ownr")}
    without = {"schema.sql": ASYNCPG_SCHEMA, "store.py": store}
    assert found(tmp_path / "b", without, "postgres") == set()


def test_asyncpg_copy_records_to_table_columns(tmp_path: Path) -> None:
    """``copy_records_to_table(table, records=..., columns=[...])``: the columns are checked
    as an INSERT column list (COPY fails on a column the table lacks)."""
    body = '''
        class NoteStore:
            def __init__(self, conn):
                self.conn = conn

            async def add_many(self, pending):
                await self.conn.copy_records_to_table(
                    "notes", records=pending, columns=["owner", "{col}"])
    '''
    bad = asyncpg_app(body.replace("{col}", "bdy"))
    assert found(tmp_path / "bad", bad, "postgres") == {("unknown-column", "bdy"),
                                                        ("not-null-missing", "body")}
    good = asyncpg_app(body.replace("{col}", "body"))
    assert found(tmp_path / "good", good, "postgres") == set()


# --- SQLAlchemy text() / exec_driver_sql -----------------------------------------------------

SA_STORE = '''
from sqlalchemy import create_engine, text

engine = create_engine("sqlite:///rooms.db")


def setup():
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS rooms "
                          "(id INTEGER PRIMARY KEY, name TEXT, floor INTEGER)"))


def add_room(name, floor):
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO rooms (name, floor) VALUES (:name, :floor)"),
                     {"name": name, "floor": floor})


def rooms_on(floor):
    with engine.connect() as conn:
        return conn.execute(text("SELECT id, name FROM rooms WHERE {col} = :x"),
                            {"x": floor}).fetchall()


def rooms_named(name):
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT id FROM rooms WHERE name = ?{more}",
                                    (name,)).fetchall()
'''
SA_HANDLER = '''
from rooms_store import add_room, rooms_named, rooms_on, setup


def handle_floor(floor):
    setup()
    add_room("red", floor)
    return {"rooms": [list(r) for r in rooms_on(floor)], "named": rooms_named("red")}
'''


def sa_app(col: str, more: str = "") -> dict[str, str]:
    return {"rooms_store.py": SA_STORE.replace("{col}", col).replace("{more}", more),
            "handlers.py": SA_HANDLER}


def test_sqlalchemy_text_is_read_like_plain_sql(tmp_path: Path) -> None:
    """r1_sqlalchemy_text_where: ``conn.execute(text(sql), {...})``."""
    assert found(tmp_path, sa_app("flor")) == {("unknown-column", "flor")}


def test_sqlalchemy_text_near_miss(tmp_path: Path) -> None:
    assert found(tmp_path, sa_app("floor")) == set()


def test_sqlalchemy_exec_driver_sql_takes_driver_parameters(tmp_path: Path) -> None:
    """``exec_driver_sql(sql, params)``: the DBAPI's own paramstyle (``?`` on sqlite3)."""
    assert found(tmp_path, sa_app("floor", " AND floor = ?")) == {("param-count", None)}


def test_sqlalchemy_labels_on_real_sqlite(tmp_path: Path) -> None:
    needs("sqlalchemy")
    script = "import handlers; print(handlers.handle_floor(2))"
    write_project(tmp_path / "bad", sa_app("flor"))
    assert "no such column: flor" in run_app(tmp_path / "bad", script)
    write_project(tmp_path / "good", sa_app("floor"))
    assert run_app(tmp_path / "good", script) == "ok"
    write_project(tmp_path / "count", sa_app("floor", " AND floor = ?"))
    assert "Incorrect number of bindings" in run_app(tmp_path / "count", script)


def test_sqlalchemy_session_execute_text(tmp_path: Path) -> None:
    """``Session.execute(text(...), {...})`` (``sa.text`` through the module alias)."""
    app = {
        "store.py": '''
            import sqlalchemy as sa
            from sqlalchemy.orm import Session

            def setup(engine):
                with Session(engine) as s:
                    s.execute(sa.text("CREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY, "
                                      "label TEXT)"))
                    s.commit()

            def find(engine, label):
                with Session(engine) as s:
                    return s.execute(sa.text("SELECT id FROM tags WHERE {col} = :l"),
                                     {"l": label}).all()
        ''',
        "handlers.py": '''
            from store import find, setup

            def get_tag(engine, label):
                setup(engine)
                return find(engine, label)
        ''',
    }
    bad = {k: v.replace("{col}", "lable") for k, v in app.items()}
    assert found(tmp_path / "bad", bad) == {("unknown-column", "lable")}
    good = {k: v.replace("{col}", "label") for k, v in app.items()}
    assert found(tmp_path / "good", good) == set()
    needs("sqlalchemy")
    script = ("import sqlalchemy, handlers; "
              "print(handlers.get_tag(sqlalchemy.create_engine('sqlite:///t.db'), 'x'))")
    assert "no such column: lable" in run_app(tmp_path / "bad", script)
    assert run_app(tmp_path / "good", script) == "ok"


# --- postgres.py, databases, twisted adbapi ----------------------------------------------------

VISITORS = ("CREATE TABLE visitors (id serial PRIMARY KEY, name text NOT NULL, email text, "
            "came_at timestamptz NOT NULL DEFAULT now());\n")


def test_postgres_py_run_one_all(tmp_path: Path) -> None:
    """r2_postgres_py_run_insert: ``db.run/one/all(sql, params)`` are SQL sites."""
    store = '''
        import os

        from postgres import Postgres

        db = Postgres(os.environ["DATABASE_URL"])


        def add_visitor(name, email):
            db.run("INSERT INTO visitors (name, email, {col}) VALUES (%s, %s, now())",
                   (name, email))


        def visitor_id(email):
            return db.one("SELECT id FROM visitors WHERE email = %(email)s", dict(email=email),
                          default=None)


        def everyone():
            return db.all("SELECT id, name FROM visitors ORDER BY id")
    '''
    handler = '''
        from visitors.store import add_visitor, visitor_id


        def sign_in(form):
            add_visitor(form["name"], form["email"])
            return visitor_id(form["email"])
    '''
    for col, expected in (("arrived_at", {("unknown-column", "arrived_at")}), ("came_at", set())):
        files = {"schema.sql": VISITORS, "visitors/store.py": store.replace("{col}", col),
                 "visitors/handlers.py": handler}
        assert found(tmp_path / col, files, "postgres") == expected


def test_postgres_py_run_is_only_a_site_with_postgres_imported(tmp_path: Path) -> None:
    """``run`` / ``one`` / ``all`` are common names: without ``postgres`` imported they are not
    SQL sites (``asyncio.run(main())`` never is)."""
    files = {"schema.sql": VISITORS, "jobs.py": '''
        import asyncio

        from tasks import queue


        async def main():
            queue.run("INSERT INTO visitors (name, arrived_at) VALUES (%s, now())")

        asyncio.run(main())
    '''}
    assert found(tmp_path, files, "postgres") == set()


DATABASES_STORE = '''
import databases

database = databases.Database("sqlite:///pets.db")


async def setup():
    await database.execute("CREATE TABLE IF NOT EXISTS pets (id INTEGER PRIMARY KEY, "
                           "name TEXT NOT NULL, kind TEXT)")


async def pets_of_kind(kind):
    return await database.fetch_all(query="SELECT id, name FROM pets WHERE {col} = :kind",
                                    values={"kind": kind})


async def pet(pet_id):
    return await database.fetch_one("SELECT name FROM pets WHERE id = :id", {"id": pet_id})
'''


def test_databases_fetch_all_fetch_one(tmp_path: Path) -> None:
    """``databases``: ``fetch_all/fetch_one/execute(query, values)`` with ``:name`` binds. The
    label is the SQL's own: run through sqlite3 it fails or runs the same way."""
    handler = "from store import pets_of_kind\n\n\nasync def list_pets(kind):\n" \
              "    return await pets_of_kind(kind)\n"
    for col, expected in (("knd", {("unknown-column", "knd")}), ("kind", set())):
        files = {"store.py": DATABASES_STORE.replace("{col}", col), "handlers.py": handler}
        assert found(tmp_path / col, files) == expected
        script = f'''
            import sqlite3
            c = sqlite3.connect("pets.db")
            c.execute("CREATE TABLE IF NOT EXISTS pets (id INTEGER PRIMARY KEY, "
                      "name TEXT NOT NULL, kind TEXT)")
            c.execute("SELECT id, name FROM pets WHERE {col} = :kind", {{"kind": "cat"}})
        '''
        assert ("no such column: knd" in run_app(tmp_path / col, script)) == bool(expected)


def test_twisted_adbapi_run_query(tmp_path: Path) -> None:
    """twisted ``dbpool.runQuery(sql, params)`` calls ``cursor.execute(sql, params)``."""
    store = '''
        from twisted.enterprise import adbapi

        dbpool = adbapi.ConnectionPool("sqlite3", "shop.db", check_same_thread=False)


        def setup():
            return dbpool.runOperation("CREATE TABLE IF NOT EXISTS orders "
                                       "(id INTEGER PRIMARY KEY, item TEXT, qty INTEGER)")


        def orders_for(item):
            return dbpool.runQuery("SELECT id, {col} FROM orders WHERE item = ?", (item,))
    '''
    handler = "from store import orders_for\n\n\ndef get_orders(request):\n" \
              "    return orders_for(request.args['item'])\n"
    for col, expected in (("qtty", {("unknown-column", "qtty")}), ("qty", set())):
        files = {"store.py": store.replace("{col}", col), "handlers.py": handler}
        assert found(tmp_path / col, files) == expected


# --- aiosqlite and the app's own wrappers --------------------------------------------------------

def test_aiosqlite_execute(tmp_path: Path) -> None:
    store = '''
        import aiosqlite


        async def setup(path):
            async with aiosqlite.connect(path) as db:
                await db.execute("CREATE TABLE IF NOT EXISTS pins (id INTEGER PRIMARY KEY, "
                                 "label TEXT NOT NULL)")
                await db.commit()


        async def add_pin(path, label):
            async with aiosqlite.connect(path) as db:
                await db.execute("INSERT INTO pins ({col}) VALUES (?)", (label,))
                await db.commit()
    '''
    handler = '''
        import asyncio

        from store import add_pin, setup


        def post_pin(label):
            asyncio.run(setup("pins.db"))
            asyncio.run(add_pin("pins.db", label))
    '''
    script = "import handlers; handlers.post_pin('home')"
    bad = {("unknown-column", "lable"), ("not-null-missing", "label")}
    for col, expected in (("lable", bad), ("label", set())):
        files = {"store.py": store.replace("{col}", col), "handlers.py": handler}
        assert found(tmp_path / col, files) == expected
        if importlib.util.find_spec("aiosqlite") is not None:
            result = run_app(tmp_path / col, script)
            assert ("no column named lable" in result) if expected else result == "ok"


WRAPPER_STORE = '''
import sqlite3


class Database:
    def __init__(self, path):
        self.conn = sqlite3.connect(path)
        self.conn.execute("CREATE TABLE IF NOT EXISTS rooms "
                          "(id INTEGER PRIMARY KEY, name TEXT, floor INTEGER)")

    def query(self, sql, args=None):
        cur = self.conn.cursor()
        if args is None:
            cur.execute(sql)
        else:
            cur.execute(sql, args)
        return cur.fetchall()

    def one(self, sql, *args):
        rows = self.query(sql, args)
        return rows[0] if rows else None

    def first(self, sql, *args, **kwargs):
        return self.one(sql, *args, **kwargs)
'''


def wrapper_app(handler_sql: str) -> dict[str, str]:
    return {"db.py": WRAPPER_STORE, "handlers.py": f'''
        from db import Database

        db = Database("rooms.db")


        def list_rooms():
            return db.query("SELECT id, name FROM rooms")


        def rooms_on(floor):
            return db.query("SELECT id, name FROM rooms WHERE floor = ?", (floor,))


        def get_room(room_id):
            return db.first({handler_sql!r}, room_id)
    '''}


def test_wrapper_without_args_path_is_not_judged_alone(tmp_path: Path) -> None:
    """``def query(self, sql, args=None)`` runs ``execute(sql)`` when args is None: a call that
    passes args is judged on the path that passes them, through two ``*args`` layers."""
    app = wrapper_app("SELECT name FROM rooms WHERE id = ?")
    assert found(tmp_path, app) == set()
    script = ("import handlers; handlers.list_rooms(); handlers.rooms_on(1); "
              "handlers.get_room(1)")
    assert run_app(tmp_path, script) == "ok"


def test_wrapper_forwarding_too_few_arguments_is_flagged(tmp_path: Path) -> None:
    app = wrapper_app("SELECT name FROM rooms WHERE id = ? AND floor = ?")
    assert found(tmp_path, app) == {("param-count", None)}
    assert "Incorrect number of bindings" in run_app(tmp_path, "import handlers; "
                                                                "handlers.get_room(1)")


def test_wrapper_forwarding_a_misspelt_column_is_flagged(tmp_path: Path) -> None:
    app = wrapper_app("SELECT nme FROM rooms WHERE id = ?")
    assert found(tmp_path, app) == {("unknown-column", "nme")}
    assert "no such column: nme" in run_app(tmp_path, "import handlers; handlers.get_room(1)")


# --- tables the code makes for a while: RENAME TO, TEMP --------------------------------------

def test_rename_rebuild_knows_the_old_table(tmp_path: Path) -> None:
    """B_rename_rebuild: ``ALTER TABLE pets RENAME TO pets_old``, copy, DROP."""
    store = '''
        import sqlite3


        def setup(path):
            conn = sqlite3.connect(path)
            conn.execute("CREATE TABLE IF NOT EXISTS pets (id INTEGER PRIMARY KEY, name TEXT)")
            conn.execute("INSERT INTO pets (name) VALUES ('Rex')")
            conn.commit()
            return conn


        def rebuild(conn):
            conn.execute("ALTER TABLE pets RENAME TO pets_old")
            conn.execute("CREATE TABLE pets (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT)")
            conn.execute("INSERT INTO pets (id, name) SELECT id, {col} FROM pets_old")
            conn.execute("DROP TABLE pets_old")
            conn.commit()
    '''
    handler = "from store import rebuild, setup\n\n\ndef upgrade(path):\n" \
              "    rebuild(setup(path))\n"
    script = "import handlers; handlers.upgrade('pets.db')"
    for col, expected in (("nam", {("unknown-column", "nam")}), ("name", set())):
        files = {"store.py": store.replace("{col}", col), "handlers.py": handler}
        assert found(tmp_path / col, files) == expected
        result = run_app(tmp_path / col, script)
        assert ("no such column: nam" in result) if expected else result == "ok"


TEMP_STORE = '''
import sqlite3


def connect(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE IF NOT EXISTS pets (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    return conn


def find_many(conn, names):
    cur = conn.cursor()
    cur.execute("CREATE TEMPORARY TABLE wanted (name TEXT)")
    cur.executemany("INSERT INTO wanted (name) VALUES (?)", [(n,) for n in names])
    cur.execute("SELECT pets.id, pets.name FROM pets JOIN wanted ON pets.name = wanted.name")
    rows = cur.fetchall()
    cur.execute("DROP TABLE wanted")
    return rows


def find_again(conn):
    return conn.execute("SELECT name FROM wanted").fetchall()
'''


def test_temporary_table_is_known_where_the_function_creates_it(tmp_path: Path) -> None:
    """C_temporary_table: made, filled, joined and dropped inside one function; used from a
    function that never makes it, it is unknown (SQLite: ``no such table: wanted``)."""
    handler = '''
        from store import connect, find_many


        def lookup(names):
            conn = connect("pets.db")
            return find_many(conn, names) + find_many(conn, names)
    '''
    files = {"store.py": TEMP_STORE.replace("def find_again", "def _unused"), "handlers.py":
             handler}
    files["store.py"] = files["store.py"].split("def _unused")[0]
    assert found(tmp_path / "ok", files) == set()
    assert run_app(tmp_path / "ok", "import handlers; handlers.lookup(['Rex'])") == "ok"
    files = {"store.py": TEMP_STORE, "handlers.py": handler}
    assert found(tmp_path / "bad", files) == {("unknown-table", "wanted")}
    result = run_app(tmp_path / "bad", "import store; c = store.connect('p.db'); "
                                       "store.find_many(c, ['a']); store.find_again(c)")
    assert "no such table: wanted" in result


def test_temp_table_on_commit_drop(tmp_path: Path) -> None:
    """C_temp_table_on_commit_drop (PostgreSQL, psycopg2): the table exists inside the
    transaction that made it; a column it lacks is still reported."""
    store = '''
        import psycopg2


        def find_many(conn, names):
            with conn.cursor() as cur:
                cur.execute("CREATE TEMP TABLE wanted (name text) ON COMMIT DROP")
                cur.executemany("INSERT INTO wanted (name) VALUES (%s)", [(n,) for n in names])
                cur.execute("SELECT pets.id FROM pets JOIN wanted ON pets.name = wanted.{col}")
                rows = cur.fetchall()
            conn.commit()
            return rows
    '''
    schema = "CREATE TABLE pets (id serial PRIMARY KEY, name text NOT NULL);\n"
    for col, expected in (("nme", {("unknown-column", "nme")}), ("name", set())):
        files = {"schema.sql": schema, "store.py": store.replace("{col}", col)}
        assert found(tmp_path / col, files, "postgres") == expected


# --- one probe, a batch of columns ------------------------------------------------------------

GUARD_STORE = '''
import sqlite3


def init_db(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE IF NOT EXISTS sightings (id INTEGER PRIMARY KEY, seen_at TEXT, "
                 "species TEXT)")
    cols = [row[1] for row in conn.execute("PRAGMA table_info(sightings)")]
    if "{probe}" not in cols:
{adds}
    conn.commit()
    return conn


def add_sighting(conn, s):
    conn.execute("INSERT INTO sightings (seen_at, species, score, source) VALUES (?, ?, ?, ?)",
                 (s["seen_at"], s["species"], s["score"], s["source"]))
    conn.commit()
'''
ADD = '        conn.execute("ALTER TABLE sightings ADD COLUMN {col}")\n'


def guard_app(probe: str, *columns: str) -> dict[str, str]:
    adds = "".join(ADD.replace("{col}", c) for c in columns).rstrip("\n")
    return {"store.py": GUARD_STORE.replace("{probe}", probe).replace("{adds}", adds),
            "handlers.py": '''
                from store import add_sighting, init_db


                def post_sighting(form):
                    conn = init_db("birds.db")
                    add_sighting(conn, form)
            '''}


def test_one_probe_for_a_batch_of_columns_is_one_migration(tmp_path: Path) -> None:
    """r5_batch_guard_column_never_added: probe ``score``, add ``score`` and ``source``."""
    files = guard_app("score", "score REAL", "source TEXT")
    assert found(tmp_path, files) == set()
    script = ("import handlers\nfor _ in range(2):\n    handlers.post_sighting({'seen_at': 'x', "
              "'species': 'wren', 'score': 1.0, 'source': 'app'})")
    assert run_app(tmp_path, script) == "ok"


def test_probe_that_none_of_the_batch_adds_is_a_mismatch(tmp_path: Path) -> None:
    """The near miss: the probe tests ``score`` but the block adds only ``source``."""
    files = guard_app("score", "source TEXT")
    assert ("migration-guard-mismatch", "source") in found(tmp_path, files)


def test_batch_guard_column_never_added_is_still_unknown(tmp_path: Path) -> None:
    files = guard_app("score", "score REAL", "source TEXT")
    files["store.py"] = files["store.py"].replace(
        "score, source) VALUES (?, ?, ?, ?)", "score, source, wind) VALUES (?, ?, ?, ?, ?)"
    ).replace('s["source"]))', 's["source"], s["wind"]))')
    assert found(tmp_path, files) == {("unknown-column", "wind")}
    result = run_app(tmp_path, "import handlers; handlers.post_sighting({'seen_at': 'x', "
                               "'species': 'w', 'score': 1, 'source': 'a', 'wind': 3})")
    assert "no column named wind" in result


# --- zero-config dialect ------------------------------------------------------------------------

PG_ONLY_STORE = '''
import psycopg2


def connect(dsn):
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS events (id serial PRIMARY KEY, payload jsonb, "
                    "at timestamptz DEFAULT now())")
    return conn


def recent(conn, kind):
    with conn.cursor() as cur:
        cur.execute("SELECT id, payload->>'name' FROM events WHERE payload->>'kind' = %s "
                    "AND at > now() - interval '1 day'", (kind,))
        return cur.fetchall()
'''


def test_dialect_inferred_from_the_driver(tmp_path: Path) -> None:
    """psycopg2 alone: the project speaks PostgreSQL (``%s``, ``->>``, ``interval``), so the
    SQL is read as postgres without any config; a misspelt column is still found."""
    from tests.helpers import check_files

    result = check_files(tmp_path / "ok", {"store.py": PG_ONLY_STORE})
    assert result.model.dialect == "postgres"
    assert list(result.diagnostics) == []
    bad = PG_ONLY_STORE.replace("WHERE payload", "WHERE paylod")
    assert found(tmp_path / "bad", {"store.py": bad}) == {("unknown-column", "paylod")}


@pytest.mark.parametrize(("driver", "dialect"), [
    ("asyncpg", "postgres"), ("psycopg", "postgres"), ("pymysql", "mysql"),
    ("MySQLdb", "mysql"), ("aiomysql", "mysql"), ("aiosqlite", "sqlite"), ("sqlite3", "sqlite"),
])
def test_each_driver_names_its_dialect(tmp_path: Path, driver: str, dialect: str) -> None:
    from tests.helpers import check_files

    files = {"db.py": f"import {driver}\n\n\ndef connect(dsn):\n    return {driver}.connect(dsn)\n"}
    assert check_files(tmp_path, files).model.dialect == dialect


def test_explicit_dialect_wins_and_mixed_drivers_keep_the_default(tmp_path: Path) -> None:
    from tests.helpers import check_files

    files = {"store.py": PG_ONLY_STORE}
    assert check_files(tmp_path / "a", files, dialect="mysql").model.dialect == "mysql"
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "pyproject.toml").write_text('[tool.dbharness]\ndialect = "sqlite"\n')
    assert check_files(tmp_path / "b", files).model.dialect == "sqlite"
    mixed = {"store.py": PG_ONLY_STORE, "cache.py": "import sqlite3\n"}
    assert check_files(tmp_path / "c", mixed).model.dialect == "sqlite"


def test_psycopg_sql_composition_literal_parts_checked(tmp_path: Path) -> None:
    """psycopg ``sql.SQL("... {} ...").format(sql.Identifier(c))``: the literal parts are
    checked, the identifier is a hole (never judged). A misspelt literal column fails on
    PostgreSQL with ``column ... does not exist`` as in r6/r2 (shared/cases/README.md)."""
    store = '''
        from psycopg2 import sql


        def find_by(conn, column, value):
            query = sql.SQL("SELECT id, {col} FROM users WHERE {} = %s").format(
                sql.Identifier(column))
            with conn.cursor() as cur:
                cur.execute(query, (value,))
                return cur.fetchall()


        def find_in(conn, table, value):
            query = sql.SQL("SELECT id FROM {} WHERE email = %s").format(sql.Identifier(table))
            with conn.cursor() as cur:
                cur.execute(query.as_string(conn), (value,))
                return cur.fetchall()
    '''
    handler = '''
        from store import find_by


        def lookup(conn, params):
            return find_by(conn, params["field"], params["value"])
    '''
    schema = "CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, email text);\n"
    for col, expected in (("nme", {("unknown-column", "nme")}), ("name", set())):
        files = {"schema.sql": schema, "store.py": store.replace("{col}", col),
                 "handlers.py": handler}
        assert found(tmp_path / col, files, "postgres") == expected


def test_aiosqlite_execute_fetchall(tmp_path: Path) -> None:
    """aiosqlite's ``execute_fetchall(sql, params)`` runs SQL as ``execute`` does."""
    store = '''
        import aiosqlite


        async def labels(path, prefix):
            async with aiosqlite.connect(path) as db:
                await db.execute("CREATE TABLE IF NOT EXISTS pins (id INTEGER PRIMARY KEY, "
                                 "label TEXT NOT NULL)")
                return await db.execute_fetchall(
                    "SELECT id, {col} FROM pins WHERE label LIKE ?", (prefix + "%",))
    '''
    handler = '''
        import asyncio

        from store import labels


        def get_pins(prefix):
            return asyncio.run(labels("pins.db", prefix))
    '''
    for col, expected in (("lable", {("unknown-column", "lable")}), ("label", set())):
        files = {"store.py": store.replace("{col}", col), "handlers.py": handler}
        assert found(tmp_path / col, files) == expected
        if importlib.util.find_spec("aiosqlite") is not None:
            result = run_app(tmp_path / col, "import handlers; handlers.get_pins('h')")
            assert ("no such column: lable" in result) if expected else result == "ok"


def test_project_wrapper_named_like_the_driver_method(tmp_path: Path) -> None:
    """``self.db.execute(sql, (a, b))`` where ``db`` is the app's own ``Database`` whose
    ``execute(sql, params)`` calls asyncpg's ``pool.execute(sql, *params)``: the call is the
    wrapper's, judged through it (two parameters for two placeholders), not asyncpg's own
    ``*args`` (which would see one)."""
    db = '''
        import asyncpg


        class Database:
            def __init__(self, pool):
                self.pool = pool

            @classmethod
            async def connect(cls, dsn):
                return cls(await asyncpg.create_pool(dsn))

            async def execute(self, sql, params=()):
                return await self.pool.execute(sql, *params)
    '''
    store = '''
        import asyncpg

        from notes.db import Database


        class NoteStore:
            def __init__(self, pool):
                self.db = Database(pool)

            async def add(self, owner, body):
                await self.db.execute("INSERT INTO notes (owner, body) VALUES ($1, $2)", {args})
    '''
    for args, expected in (("(owner, body)", set()), ("(owner,)", {("param-count", None)})):
        files = {"schema.sql": ASYNCPG_SCHEMA, "notes/db.py": db,
                 "notes/store.py": store.replace("{args}", args)}
        assert found(tmp_path / str(len(args)), files, "postgres") == expected


def test_call_typed_by_a_protocol_stub_stays_a_driver_site(tmp_path: Path) -> None:
    """``db: DatabaseProtocol`` whose ``fetchrow`` is a stub (``...``): the call still runs
    asyncpg's ``fetchrow``, so its SQL is checked (the misspelt column is reported)."""
    files = {
        "schema.sql": ASYNCPG_SCHEMA,
        "notes/db.py": ASYNCPG_POOL + '''

from typing import Any, Protocol


class DatabaseProtocol(Protocol):
    async def fetchrow(self, query: str, *args: Any) -> Any:
        ...
''',
        "notes/store.py": '''
            from notes.db import DatabaseProtocol


            async def latest(db: DatabaseProtocol, owner: int):
                return await db.fetchrow("SELECT id FROM notes WHERE ownr = $1", owner)
        ''',
    }
    assert found(tmp_path, files, "postgres") == {("unknown-column", "ownr")}


def test_data_modifying_cte_columns_belong_to_its_own_target(tmp_path: Path) -> None:
    """``WITH ins AS (INSERT INTO entries ... ON CONFLICT (message_id) ...) INSERT INTO
    starrers ...``: the CTE's ON CONFLICT key is an ``entries`` column, not a ``starrers``
    one (PostgreSQL: "Data-Modifying Statements in WITH"; the shape is the clean corpus
    project Rapptz/RoboDanny's cogs/stars.py, shared/realworld/corpus.json). The outer
    statement's own columns are still checked."""
    schema = ("CREATE TABLE entries (id serial PRIMARY KEY, message_id bigint UNIQUE);\n"
              "CREATE TABLE starrers (id serial PRIMARY KEY, author_id bigint, entry_id int);\n")
    store = '''
        import asyncpg


        async def star(conn, message_id, author_id):
            return await conn.fetchrow("""WITH ins AS (
                INSERT INTO entries (message_id) VALUES ($1)
                ON CONFLICT (message_id) DO NOTHING RETURNING id)
                INSERT INTO starrers (author_id, {col})
                SELECT $2, e.id FROM (SELECT id FROM ins UNION ALL
                    SELECT id FROM entries WHERE message_id = $1 LIMIT 1) AS e
                RETURNING entry_id""", message_id, author_id)
    '''
    for col, expected in (("entry_id", set()), ("entryid", {("unknown-column", "entryid")})):
        files = {"schema.sql": schema, "stars.py": store.replace("{col}", col)}
        assert found(tmp_path / col, files, "postgres") == expected
