"""A per-key template that names the key twice (``f"{k} = {k} + ?" for k in kwargs``): both
places are the key, so neither is judged as a literal column; the keys the callers pass are."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import findings

CODE = '''
def setup(db):
    db.execute("CREATE TABLE links (id INTEGER PRIMARY KEY, hits INTEGER NOT NULL)")


def bump(db, link_id, **kwargs):
    q = ", ".join([f"{k} = {k} + ?" for k in kwargs])
    db.execute(f"UPDATE links SET {q} WHERE id = ?", (*kwargs.values(), link_id))
'''


def test_key_named_twice_is_not_a_column(tmp_path: Path) -> None:
    diags = findings(tmp_path, {"app/m.py": CODE + '''

def use(db):
    bump(db, 1, hits=1)
'''})
    assert [str(d.rule) for d in diags] == []


def test_key_named_twice_still_judged_by_what_callers_pass(tmp_path: Path) -> None:
    diags = findings(tmp_path, {"app/m.py": CODE + '''

def use(db):
    bump(db, 1, nope=1)
'''})
    assert [(str(d.rule), d.key) for d in diags] == [("key-without-column", "nope")]
