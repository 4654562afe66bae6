"""Answers about one parsed statement, remembered across runs.

The rules and the linker ask the same few questions of every statement: which tables does it
name, what does it write, which of its columns does the schema lack. Each answer depends only
on the statement's text, the dialect (and, for columns, the schema), so it is kept by those,
next to the fact cache. A run in which one file changed then answers the other files'
statements from here, without rebuilding their trees (see ``Statement.expression``).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from harness.sql.dml import DmlInfo, describe
from harness.sql.parse import Statement
from harness.sql.resolve import NameRef, table_refs, unknown_columns
from harness.sql.schema import Schema

_MEMO: dict[tuple[str, ...], Any] = {}
_USED: set[tuple[str, ...]] = set()
_ADDED = False
_DIGESTS: dict[int, tuple[Schema, str]] = {}
MAX_ENTRIES = 500_000


_COUNTS = {"remembered": 0, "computed": 0}


def _answer(key: tuple[str, ...], compute: Any) -> Any:
    global _ADDED
    _USED.add(key)
    if key in _MEMO:
        _COUNTS["remembered"] += 1
        return _MEMO[key]
    value = _MEMO[key] = compute()
    _COUNTS["computed"] += 1
    _ADDED = True
    return value


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
    return list(_answer(("tables", dialect, st.text), lambda: table_refs(st.expression)))


def columns_missing(st: Statement, schema: Schema, dialect: str) -> list[NameRef]:
    return list(_answer(("columns", dialect, schema_digest(schema), st.text),
                        lambda: unknown_columns(st.expression, schema, dialect)))


def written(st: Statement, dialect: str) -> DmlInfo:
    info: DmlInfo = _answer(("written", dialect, st.text), lambda: describe(st.expression))
    return info


def load(path: Path) -> None:
    """Answers from an earlier run (nothing, if the file is missing or unreadable)."""
    try:
        with path.open("rb") as fh:
            loaded = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
            ValueError, TypeError, IndexError):
        return
    if isinstance(loaded, dict):
        for key, value in loaded.items():
            _MEMO.setdefault(key, value)


def save(path: Path) -> None:
    """Keep the answers this run used (stale ones drop out); atomically, best effort."""
    global _ADDED
    if not _ADDED and len(_USED) == len(_MEMO):
        return
    kept = {k: _MEMO[k] for k in _USED if k in _MEMO}
    if len(kept) > MAX_ENTRIES:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".memo-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(kept, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        return
    _ADDED = False
