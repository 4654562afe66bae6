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
