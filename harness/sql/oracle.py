"""SQLite's own parser as the last word on SQLite syntax.

sqlglot does not know every SQLite form (a STRICT table's ``ANY`` type, ``ON CONFLICT IGNORE``
column constraints, ``UNIQUE (a DESC)``...). Before a statement is reported as a syntax error
under the sqlite dialect, SQLite compiles it with ``EXPLAIN`` in a private in-memory database:
nothing runs, no user database is opened, and only a *syntax* complaint confirms the finding
(``no such table`` and the like mean the syntax is fine).
"""

from __future__ import annotations

import sqlite3
from functools import lru_cache

_SYNTAX = ("syntax error", "incomplete input", "unrecognized token")


@lru_cache(maxsize=1)
def _connection() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.set_authorizer(lambda action, *args: sqlite3.SQLITE_DENY
                        if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH)
                        else sqlite3.SQLITE_OK)
    return conn


@lru_cache(maxsize=4096)
def sqlite_accepts(statement: str) -> bool:
    """True when SQLite parses ``statement`` (one statement, placeholders allowed)."""
    try:
        _connection().execute("EXPLAIN " + statement).fetchall()
    except sqlite3.ProgrammingError:
        return True  # missing bindings: it parsed
    except (sqlite3.Error, ValueError, OverflowError) as err:
        return not any(word in str(err) for word in _SYNTAX)
    return True
