"""Advice that follows from evidence: the name a misspelt one most likely meant.

A ``fix:`` line is printed only when the fix follows from what the check saw. For a name the
schema lacks (a column, a table, an index column) the one piece of positive evidence is a
declared name close enough to be a slip of the keyboard (``nme`` beside ``name``); without one,
the finding says what is known (the name does not exist) and gives no advice, since "add the
column" and "fix the name" are equally likely and one of them is harmful.
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import SequenceMatcher

from harness.sql.schema import Column

#: The least ``difflib.SequenceMatcher.ratio`` (0.0–1.0) between a name and a declared one for
#: the declared one to count as meant: one letter dropped, doubled or swapped in a name of four
#: letters or more (``nme``/``name`` 0.86, ``kindd``/``kind`` 0.89, ``flor``/``floor`` 0.89).
CUTOFF = 0.8


def closest(name: str, declared: Iterable[str]) -> str | None:
    """The one declared name ``name`` most likely meant, or None.

    Names are compared case-folded (SQL identifiers are, unquoted). None when no declared name
    reaches :data:`CUTOFF`, when ``name`` itself is declared, or when two declared names are
    equally close (the evidence does not say which).

    >>> closest("nme", ["id", "name"])
    'name'
    >>> closest("colour", ["id", "name"]) is None
    True
    >>> closest("valu", ["value", "valum"]) is None
    True
    """
    want = name.casefold()
    scored: list[tuple[float, str]] = []
    for candidate in declared:
        folded = candidate.casefold()
        if folded == want:
            return None
        ratio = SequenceMatcher(None, want, folded).ratio()
        if ratio >= CUTOFF:
            scored.append((ratio, candidate))
    scored.sort(key=lambda pair: -pair[0])
    if not scored or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    return scored[0][1]


def did_you_mean(name: str, declared: Iterable[str], what: str) -> str | None:
    """A ``fix:`` text naming the declared ``what`` (e.g. ``"table pets has name"``) that
    ``name`` most likely meant, or None when there is no such evidence (see :func:`closest`)."""
    meant = closest(name, declared)
    if meant is None:
        return None
    return f"did you mean {meant}? ({what} {meant}, not {name})"


def add_column_from_declared(table: str, column: Column, dialect: str) -> str:
    """The migration that gives an existing ``table`` the ``column`` a fresh install declares,
    built from the declaration itself (type, NOT NULL, DEFAULT as written) — or, where SQLite's
    ``ALTER TABLE ... ADD COLUMN`` cannot add such a column, what to do instead.

    SQLite's restrictions (https://www.sqlite.org/lang_altertable.html, "ALTER TABLE ADD
    COLUMN"): no PRIMARY KEY or UNIQUE constraint; NOT NULL needs a default other than NULL;
    the default may not be CURRENT_TIME/CURRENT_DATE/CURRENT_TIMESTAMP or an expression in
    parentheses; a generated column may not be STORED (generated columns are reported as not
    addable here, since the model does not keep VIRTUAL apart from STORED).

    >>> add_column_from_declared("pets", Column("kind", "TEXT", default="'dog'"), "sqlite")
    "run `ALTER TABLE pets ADD COLUMN kind TEXT DEFAULT 'dog'` when the column is missing"
    """
    why = _not_addable(column) if dialect == "sqlite" else None
    if why is not None:
        return (f"SQLite cannot ADD COLUMN {why}: rebuild {table} (create the new table, copy "
                "the rows, drop the old, rename; https://www.sqlite.org/lang_altertable.html)")
    parts = [f"ALTER TABLE {table} ADD COLUMN {column.name}"]
    if column.type:
        parts.append(column.type)
    if column.not_null:
        parts.append("NOT NULL")
    if column.default is not None:
        parts.append(f"DEFAULT {column.default}")
    return f"run `{' '.join(parts)}` when the column is missing"


def _not_addable(column: Column) -> str | None:
    default = (column.default or "").strip()
    if column.primary_key:
        return "a PRIMARY KEY column"
    if column.unique:
        return "a UNIQUE column"
    if column.generated:
        return "a generated column the model cannot tell is VIRTUAL"
    if column.not_null and (not default or default.upper() == "NULL"):
        return "a NOT NULL column without a non-NULL DEFAULT"
    if default.startswith("(") or default.upper() in (
            "CURRENT_TIME", "CURRENT_DATE", "CURRENT_TIMESTAMP"):
        return f"a column whose DEFAULT is {default}"
    return None
