"""A per-key template that names the key twice (``f"{k} = {k} + ?" for k in kwargs``, or
``field[0]`` of ``kwargs.items()``, or ``k`` of ``for k, v in kwargs.items()``): both places
are the key, so neither is judged as a literal column; the keys the callers pass are."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import findings

TEMPLATES = [
    'f"{k} = {k} + ?" for k in kwargs',
    'f"{field[0]} = {field[0]} + ?" for field in kwargs.items()',
    'f"{k} = {k} + ?" for k, v in kwargs.items()',
]


def _code(template: str, call: str) -> str:
    return f'''
def setup(db):
    db.execute("CREATE TABLE links (id INTEGER PRIMARY KEY, hits INTEGER NOT NULL)")


def bump(db, link_id, **kwargs):
    q = ", ".join([{template}])
    db.execute(f"UPDATE links SET {{q}} WHERE id = ?", (*kwargs.values(), link_id))


def use(db):
    {call}
'''


@pytest.mark.parametrize("template", TEMPLATES)
def test_key_named_twice_is_not_a_column(tmp_path: Path, template: str) -> None:
    diags = findings(tmp_path, {"app/m.py": _code(template, "bump(db, 1, hits=1)")})
    assert [str(d.rule) for d in diags] == []


@pytest.mark.parametrize("template", TEMPLATES)
def test_key_named_twice_still_judged_by_what_callers_pass(tmp_path: Path,
                                                           template: str) -> None:
    diags = findings(tmp_path, {"app/m.py": _code(template, "bump(db, 1, nope=1)")})
    assert [(str(d.rule), d.key) for d in diags] == [("key-without-column", "nope")]
