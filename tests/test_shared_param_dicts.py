"""One dict as the parameter mapping of several statements (two statements in one execute,
or two executes sharing ``args``): a key one statement ignores and another reads is a
parameter, not a value dropped; a key no statement reads still is."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import findings

SETUP = '''
def setup(db):
    db.execute("CREATE TABLE members (slug TEXT, member TEXT, active INTEGER)")
    db.execute("CREATE TABLE people (name TEXT, bio TEXT, balance INTEGER)")
'''


def _keys(tmp_path: Path, code: str) -> list[tuple[str, str | None]]:
    diags = findings(tmp_path, {"app.py": SETUP + code}, dialect="postgres")
    return [(str(d.rule), d.key) for d in diags]


def test_keys_read_by_another_statement_of_the_same_execute(tmp_path: Path) -> None:
    assert _keys(tmp_path, '''

def leave(db, name, member_id):
    db.execute("""
        INSERT INTO members (slug, member, active)
            SELECT slug, member, 0 FROM members WHERE member = %(member_id)s;
        UPDATE people SET bio = '' WHERE name = %(name)s;
    """, dict(name=name, member_id=member_id))
''') == []


def test_keys_read_by_another_execute_sharing_the_dict(tmp_path: Path) -> None:
    assert _keys(tmp_path, '''

def merge(db, live, dead, amount):
    args = dict(live=live, dead=dead, amount=amount)
    db.execute("UPDATE people SET balance = balance - %(amount)s WHERE name = %(dead)s", args)
    db.execute("UPDATE people SET balance = balance + %(amount)s WHERE name = %(live)s", args)
''') == []


def test_a_key_no_statement_reads_is_still_dropped(tmp_path: Path) -> None:
    assert _keys(tmp_path, '''

def stale(db, name):
    db.execute("UPDATE people SET bio = %(bio)s WHERE name = %(name)s",
               dict(name=name, bio="", pending=False))
''') == [("key-without-column", "pending")]
