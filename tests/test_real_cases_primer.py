"""False-alarm kinds found on the primer corpus (issue #13), each reduced to a small made-up
project with its near miss. SQLite labels are confirmed on the real ``sqlite3`` here."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.helpers import assert_rules, findings

# --- a table a script creates is known to the script's later statements -----------------------

SHELF_INIT = ('def init(conn):\n'
              '    conn.execute("CREATE TABLE IF NOT EXISTS shelf (id INTEGER PRIMARY KEY, '
              'label TEXT, colour TEXT)")\n')
SHELF_REBUILD = '''
def drop_colour(conn):
    conn.executescript(
        """
        CREATE TABLE shelf_next (id INTEGER PRIMARY KEY, label TEXT);
        INSERT INTO shelf_next (id, label) SELECT id, label FROM shelf;
        DROP TABLE shelf;
        ALTER TABLE shelf_next RENAME TO shelf;
        """
    )


def add(conn, label):
    conn.execute("INSERT INTO shelf (label) VALUES (?)", (label,))
'''


def test_script_sees_the_table_it_created_before_renaming_it(tmp_path: Path) -> None:
    """sqlite3 ``executescript`` runs its statements one after another (checked here: the
    rebuild keeps the row and ``shelf`` loses ``colour``), so the INSERT into ``shelf_next``
    sees the table the script's first statement made, though the rename later takes the name
    away. Near miss: a misspelt table or column in the same script is still flagged."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE IF NOT EXISTS shelf (id INTEGER PRIMARY KEY, label TEXT, "
                 "colour TEXT)")
    conn.execute("INSERT INTO shelf (label, colour) VALUES ('a', 'red')")
    script = SHELF_REBUILD.split('"""')[1]
    conn.executescript(script)
    assert conn.execute("SELECT * FROM shelf").fetchall() == [(1, "a")]
    app = SHELF_INIT + SHELF_REBUILD
    assert_rules(findings(tmp_path / "ok", {"app.py": app}))
    typo = app.replace("INSERT INTO shelf_next (id, label)", "INSERT INTO shelf_nxt (id, label)")
    got = findings(tmp_path / "table", {"app.py": typo})
    assert [(d.rule, d.table) for d in got] == [("unknown-table", "shelf_nxt")]
    typo = app.replace("INSERT INTO shelf_next (id, label)", "INSERT INTO shelf_next (id, lable)")
    got = findings(tmp_path / "column", {"app.py": typo})
    assert [(d.rule, d.column) for d in got] == [("unknown-column", "lable")]


# --- a read of an old table under a sqlite_master existence check ------------------------------

LIFT_OLD = '''
def init(conn):
    conn.execute("CREATE TABLE IF NOT EXISTS crate_v2 (id INTEGER PRIMARY KEY, label TEXT)")
    old = bool(conn.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name='crate'").fetchone())
    done = conn.execute("SELECT COUNT(*) FROM crate_v2").fetchone()[0] > 0
    if old and not done:
        for (label,) in conn.execute("SELECT label FROM crate"):
            conn.execute("INSERT INTO crate_v2 (label) VALUES (?)", (label,))
'''


def _run_lift(conn: sqlite3.Connection) -> None:
    namespace: dict[str, object] = {}
    exec(compile(LIFT_OLD, "lift.py", "exec"), namespace)  # the case's own code, made here
    init = namespace["init"]
    assert callable(init)
    init(conn)


def test_read_of_an_old_table_under_an_existence_check(tmp_path: Path) -> None:
    """SQLite (checked here): on a fresh database the probe finds no ``crate`` and the branch
    does not run; on an old one holding ``crate`` its rows are lifted into ``crate_v2``. No DDL
    of the project makes ``crate``, and that is right. Near misses: the same read without the
    probe, and a table the probe does not ask about when it asks about one the project has,
    are unknown tables. A probe for a table no DDL makes marks the branch as code for an old
    release's database, whose other tables (``crate_note`` beside ``crate``) are that
    release's too."""
    fresh = sqlite3.connect(":memory:")
    _run_lift(fresh)
    assert fresh.execute("SELECT COUNT(*) FROM crate_v2").fetchone() == (0,)
    old = sqlite3.connect(":memory:")
    old.execute("CREATE TABLE crate (id INTEGER PRIMARY KEY, label TEXT)")
    old.execute("INSERT INTO crate (label) VALUES ('a')")
    _run_lift(old)
    assert old.execute("SELECT label FROM crate_v2").fetchall() == [("a",)]
    assert_rules(findings(tmp_path / "ok", {"app.py": LIFT_OLD}))
    companion = LIFT_OLD.replace("SELECT label FROM crate", "SELECT label FROM crate_note")
    assert_rules(findings(tmp_path / "companion", {"app.py": companion}))
    unprobed = LIFT_OLD.replace("name='crate'", "name='crate_v2'")
    got = findings(tmp_path / "other", {"app.py": unprobed})
    assert [(d.rule, d.table) for d in got] == [("unknown-table", "crate")]
    bare = LIFT_OLD.replace("    if old and not done:\n", "    if True:\n").replace(
        '    old = bool(conn.execute(\n'
        '        "SELECT name FROM sqlite_master WHERE type=\'table\' AND name=\'crate\'")'
        '.fetchone())\n', "")
    assert "sqlite_master" not in bare
    got = findings(tmp_path / "bare", {"app.py": bare})
    assert [(d.rule, d.table) for d in got] == [("unknown-table", "crate")]


# --- an upgrade program that stamps its own version column is history ------------------------

PREFS_TODAY = ('def install(conn):\n'
               '    conn.execute("CREATE TABLE prefs (id INTEGER PRIMARY KEY, theme TEXT, '
               'version INTEGER)")\n'
               '    conn.execute("INSERT INTO prefs (theme, version) VALUES (\'dark\', 3)")\n')
PREFS_BUMP = '''import sqlite3


def run(conn, sql):
    conn.cursor().execute(sql)
    conn.commit()


conn = sqlite3.connect("prefs.db")
version = conn.execute("SELECT version FROM prefs").fetchone()[0]
if version < 2:
    run(conn, "ALTER TABLE prefs ADD COLUMN colour TEXT")
    run(conn, "UPDATE prefs SET colour = 'blue'")
    run(conn, "UPDATE prefs SET version = 2")
if version < 3:
    run(conn, "CREATE TABLE prefs_new (id INTEGER PRIMARY KEY, theme TEXT, version INTEGER)")
    run(conn, "INSERT INTO prefs_new (id, theme, version) SELECT id, colour, 3 FROM prefs")
    run(conn, "DROP TABLE prefs")
    run(conn, "ALTER TABLE prefs_new RENAME TO prefs")
    run(conn, "UPDATE prefs SET version = 3")
'''


def test_upgrade_program_with_a_version_column_is_judged_step_by_step(tmp_path: Path) -> None:
    """A module (not named as migrations) that reads a version from a table, alters tables
    and stamps ``UPDATE prefs SET version = 3`` upgrades old databases step by step: SQLite
    (checked here) runs it on a version-1 database (``colour`` added, then folded into
    ``theme`` and dropped), ending with today's columns. Its ``colour`` exists at its step,
    not in today's schema. Near misses: an INSERT naming a column the new table lacks is
    still flagged at its step; without the version stamp, the module is application code,
    judged against today's schema (where ``prefs_new``, made and renamed away at module
    level, is unknown too)."""
    conn = sqlite3.connect(tmp_path / "prefs.db")
    conn.execute("CREATE TABLE prefs (id INTEGER PRIMARY KEY, theme TEXT, version INTEGER)")
    conn.execute("INSERT INTO prefs (theme, version) VALUES ('light', 1)")
    conn.commit()
    for sql in [line.split('run(conn, "')[1].rsplit('")', 1)[0]
                for line in PREFS_BUMP.splitlines() if 'run(conn, "' in line]:
        conn.execute(sql)
    assert conn.execute("SELECT theme, version FROM prefs").fetchall() == [("blue", 3)]
    assert [r[1] for r in conn.execute("PRAGMA table_info(prefs)")] == ["id", "theme", "version"]
    files = {"app.py": PREFS_TODAY, "bump.py": PREFS_BUMP}
    assert_rules(findings(tmp_path / "ok", files))
    typo = PREFS_BUMP.replace("INSERT INTO prefs_new (id, theme, version)",
                              "INSERT INTO prefs_new (id, theme, versoin)")
    got = findings(tmp_path / "typo", {**files, "bump.py": typo})
    assert [(d.rule, d.table, d.column) for d in got] == [
        ("unknown-column", "prefs_new", "versoin")]
    unstamped = PREFS_BUMP.replace("SET version = 2", "SET theme = theme").replace(
        "SET version = 3", "SET theme = theme")
    got = findings(tmp_path / "app", {**files, "bump.py": unstamped})
    assert sorted((d.rule, d.table, d.column) for d in got) == [
        ("unknown-column", "prefs", "colour"), ("unknown-column", "prefs", "colour"),
        ("unknown-table", "prefs_new", None)]


# --- a parameter spliced inside quotes is one value -------------------------------------------

STAMP_TABLE = ('def make(conn):\n'
               '    conn.execute("CREATE TABLE stamp (a INTEGER, b INTEGER, tag TEXT)")\n')
STAMP_ADD = '''
def add(conn, tag):
    conn.execute("INSERT INTO stamp (a, b, tag) VALUES (1, '" + tag + "')")
'''
STAMP_JOINED = '''
def add(conn, parts):
    conn.execute("INSERT INTO stamp (a, b, tag) VALUES (1, '" + "', '".join(parts) + "')")
'''
STAMP_BARE = '''
def add(conn, rest):
    conn.execute("INSERT INTO stamp (a, b, tag) VALUES (1, " + rest + ")")
'''


def test_parameter_inside_quotes_counts_as_one_value(tmp_path: Path) -> None:
    """SQLite (checked here): ``VALUES (1, '" + tag + "')`` gives 2 values for 3 columns
    whatever ``tag`` holds (``2 values for 3 columns``); with ``1, 2, '...'`` it runs. Near
    misses: a joined list inside the quotes (``"', '".join(parts)``) may be several values,
    and a parameter outside quotes may be too: neither is judged."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE stamp (a INTEGER, b INTEGER, tag TEXT)")
    try:
        conn.execute("INSERT INTO stamp (a, b, tag) VALUES (1, '" + "v1" + "')")
    except sqlite3.OperationalError as err:
        assert "2 values for 3 columns" in str(err)
    else:
        raise AssertionError("SQLite took 2 values for 3 columns")
    conn.execute("INSERT INTO stamp (a, b, tag) VALUES (1, 2, '" + "v1" + "')")
    got = findings(tmp_path / "bug", {"app.py": STAMP_TABLE + STAMP_ADD})
    assert [(d.rule, d.table) for d in got] == [("insert-arity", "stamp")]
    ok = STAMP_ADD.replace("VALUES (1, '", "VALUES (1, 2, '")
    assert_rules(findings(tmp_path / "ok", {"app.py": STAMP_TABLE + ok}))
    assert_rules(findings(tmp_path / "joined", {"app.py": STAMP_TABLE + STAMP_JOINED}))
    assert_rules(findings(tmp_path / "bare", {"app.py": STAMP_TABLE + STAMP_BARE}))


# --- a key naming a column the schema's history dropped ---------------------------------------

TILL = '''
def init(cur):
    cur.execute("CREATE TABLE IF NOT EXISTS till (id INTEGER PRIMARY KEY, amount INTEGER, "
                "open BOOLEAN, state TEXT)")


def m002_state_for_open(cur):
    cur.execute("ALTER TABLE till DROP COLUMN open")


def add(cur, amount):
    cur.execute("INSERT INTO till (amount, state) VALUES (:amount, :state)",
                {"amount": amount, "state": "done", "open": False})
'''


def test_key_for_a_column_history_dropped_is_stale_not_lost(tmp_path: Path) -> None:
    """SQLite (checked here): sqlite3 ignores a named-parameter dict's keys the SQL does not
    name, so ``open`` goes nowhere, and the table no longer has it: the project's own DDL
    dropped it (``state`` replaced it). Nothing is lost. Near miss: a key that was never a
    column of the table is still key-without-column."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE till (id INTEGER PRIMARY KEY, amount INTEGER, open BOOLEAN, "
                 "state TEXT)")
    conn.execute("ALTER TABLE till DROP COLUMN open")
    conn.execute("INSERT INTO till (amount, state) VALUES (:amount, :state)",
                 {"amount": 3, "state": "done", "open": False})
    assert conn.execute("SELECT * FROM till").fetchall() == [(1, 3, "done")]
    assert_rules(findings(tmp_path / "ok", {"app.py": TILL}))
    fresh = TILL.replace('"open": False', '"opened": False')
    got = findings(tmp_path / "never", {"app.py": fresh})
    assert [(d.rule, d.key) for d in got] == [("key-without-column", "opened")]


# --- a key read in a conditional expression is written ----------------------------------------

SEEN = '''
def init(db):
    db.execute("CREATE TABLE IF NOT EXISTS seen (name TEXT PRIMARY KEY, missing INTEGER, "
               "note TEXT)")


def save(db, data):
    db.execute("INSERT OR REPLACE INTO seen (name, missing) VALUES (?, ?)",
               (data["name"], 1 if data.get("missing") else 0))


def record(db, name):
    save(db, {"name": name, "missing": True})
'''


def test_key_read_in_a_conditional_value_is_written(tmp_path: Path) -> None:
    """``1 if data.get("missing") else 0`` stores a value made from the key (SQLite, checked
    here: the row holds 1). Near miss: a key the writer never reads (``note``) is still
    key-not-written."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE seen (name TEXT PRIMARY KEY, missing INTEGER, note TEXT)")
    data = {"name": "wren", "missing": True}
    conn.execute("INSERT OR REPLACE INTO seen (name, missing) VALUES (?, ?)",
                 (data["name"], 1 if data.get("missing") else 0))
    assert conn.execute("SELECT name, missing FROM seen").fetchall() == [("wren", 1)]
    assert_rules(findings(tmp_path / "ok", {"app.py": SEEN}))
    extra = SEEN.replace('"missing": True}', '"missing": True, "note": "x"}')
    got = findings(tmp_path / "extra", {"app.py": extra})
    assert [(d.rule, d.key) for d in got] == [("key-not-written", "note")]
