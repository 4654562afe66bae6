"""Answers about one parsed statement, remembered across runs.

The rules and the linker ask the same few questions of every statement: which tables does it
name, what does it write, which of its columns does the schema lack. Each answer depends only
on the statement's text, the dialect (and, for columns, the schema), so it is kept by those,
next to the fact cache. A run in which one file changed then answers the other files'
statements from here, without rebuilding their trees (see ``Statement.expression``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from harness import store
from harness.sql.dml import DmlInfo, describe
from harness.sql.parse import Statement
from harness.sql.resolve import NameRef, table_refs, unknown_columns
from harness.sql.schema import Schema

_MEMO: dict[tuple[str, ...], Any] = {}
_STORED: dict[str, str] = {}  # answers read from disk, still encoded, by joined key
_USED: set[tuple[str, ...]] = set()
_ADDED = False
_DIGESTS: dict[int, tuple[Schema, str]] = {}
MAX_ENTRIES = 500_000
_SEP = "\0"  # only a key's last part (the statement text) is free text: joins are unambiguous


_COUNTS = {"remembered": 0, "computed": 0}


def _answer(key: tuple[str, ...], compute: Any) -> Any:
    global _ADDED
    _USED.add(key)
    if key in _MEMO:
        _COUNTS["remembered"] += 1
        return _MEMO[key]
    encoded = _STORED.get(_SEP.join(key)) if _STORED else None
    if encoded is not None:
        try:
            value = store.loads(encoded)
        except store.BadEntry:
            value = None
        if _well_formed(key[0], value):
            _MEMO[key] = value
            _COUNTS["remembered"] += 1
            return value
    value = _MEMO[key] = compute()
    _COUNTS["computed"] += 1
    _ADDED = True
    return value


def _well_formed(question: str, value: Any) -> bool:
    """A stored answer has the shape its question's answers have (else it is computed)."""
    if question == "written":
        return isinstance(value, DmlInfo)
    return type(value) is tuple and all(type(v) is NameRef for v in value)


def counts() -> tuple[int, int]:
    """(answers remembered, answers computed) since the process started (for ``--stats``)."""
    return _COUNTS["remembered"], _COUNTS["computed"]


def schema_digest(schema: Schema) -> str:
    found = _DIGESTS.get(id(schema))
    if found is not None and found[0] is schema:
        return found[1]
    text = repr(sorted(schema.tables.items()))
    digest = hashlib.sha256(text.encode()).hexdigest()[:24]
    _DIGESTS[id(schema)] = (schema, digest)
    return digest


def tables_named(st: Statement, dialect: str) -> list[NameRef]:
    return list(_answer(("tables", dialect, st.text), lambda: tuple(table_refs(st.expression))))


def columns_missing(st: Statement, schema: Schema, dialect: str) -> list[NameRef]:
    return list(_answer(("columns", dialect, schema_digest(schema), st.text),
                        lambda: tuple(unknown_columns(st.expression, schema, dialect))))


def written(st: Statement, dialect: str) -> DmlInfo:
    info: DmlInfo = _answer(("written", dialect, st.text), lambda: describe(st.expression))
    return info


def load(path: Path) -> None:
    """Answers from an earlier run (nothing, if the file is missing, unreadable or not this
    format); each is decoded when first asked for, and one that does not decode is computed
    again."""
    document = store.read_document(path, "sqlmemo")
    answers = document.get("answers") if document is not None else None
    if type(answers) is not dict:
        return
    for key, encoded in answers.items():
        if type(encoded) is str:
            _STORED.setdefault(key, encoded)


def save(path: Path) -> None:
    """Keep the answers this run used (stale ones drop out); atomically, best effort."""
    global _ADDED
    if not _ADDED and len(_USED) == len(_STORED):
        return
    if len(_USED) > MAX_ENTRIES:
        return
    kept: dict[str, str] = {}
    for key in _USED:
        if key not in _MEMO:
            continue
        joined = _SEP.join(key)
        encoded = _STORED.get(joined)
        if encoded is None:
            try:
                encoded = _STORED[joined] = store.dumps(_MEMO[key])
            except (TypeError, ValueError, RecursionError):
                continue
        kept[joined] = encoded
    if store.write_document(path, "sqlmemo", {"answers": kept}):
        _ADDED = False
        dialect = path.stem.rpartition("-")[2]
        try:  # answers of other builds of the tool are never read again
            for old in path.parent.glob(f"sqlmemo-*-{dialect}.json"):
                if old != path:
                    old.unlink(missing_ok=True)
        except OSError:
            pass
