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
