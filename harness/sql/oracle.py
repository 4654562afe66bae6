"""SQLite's own parser as the last word on SQLite syntax.

sqlglot does not know every SQLite form (a STRICT table's ``ANY`` type, ``ON CONFLICT IGNORE``
column constraints, ``UNIQUE (a DESC)``...). Before a statement is reported as a syntax error
under the sqlite dialect, SQLite compiles it with ``EXPLAIN`` in a private in-memory database:
nothing runs, no user database is opened, and only a *syntax* complaint confirms the finding
(``no such table`` and the like mean the syntax is fine).

PostgreSQL's parser is reached through ``pglast`` (the ``postgres`` extra), which wraps the
server's own grammar (libpg_query). Without it, nothing is said that only it could decide.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from functools import lru_cache

from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import TokenError
from sqlglot.tokenizer_core import Token, TokenType

from harness.sql.placeholders import find_placeholders

_TRAILING = re.compile(r",\s*\)")

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


def postgres_accepts(statement: str) -> bool | None:
    """True/False when PostgreSQL's own parser (through ``pglast``, the ``postgres`` extra)
    accepts ``statement``; None when pglast is not installed, so nothing is guessed.

    Placeholders must already be written as ``$n`` (``native_params``). Only the grammar is
    judged: names, types and functions are not looked up, as ``raw_parser`` does not."""
    return _pg_accepts(statement)


@lru_cache(maxsize=4096)
def _pg_accepts(statement: str) -> bool | None:
    try:
        from pglast import parser  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    try:
        parser.parse_sql(statement)
    except parser.ParseError:
        return False
    except Exception:  # pglast's other failures (encoding, stack depth) say nothing on syntax
        return None
    return True


def with_params(statement: str, spans: list[tuple[int, int]], dialect: str,
                lists: frozenset[int] | set[int] = frozenset()) -> str:
    """``statement`` with each placeholder span (start, end offsets in it) written as a
    parameter the database parses (``$n`` for postgres, ``?`` otherwise), so a DB-API
    ``%s``/``%(name)s``/``?``/``:name`` reads as one; a span starting at an offset in
    ``lists`` is written in parentheses (a list the driver expands)."""
    out, last = [], 0
    for n, (start, end) in enumerate(sorted(spans), 1):
        out.append(statement[last:start])
        param = f"${n}" if dialect == "postgres" else "?"
        out.append(f"({param})" if start in lists else param)
        last = end
    out.append(statement[last:])
    return "".join(out)


def _tokens(text: str, dialect: str) -> list[Token] | None:
    try:
        return list(Dialect.get_or_raise(dialect).tokenizer_class().tokenize(text))
    except (TokenError, ValueError):
        return None


def trailing_comma(text: str, dialect: str) -> int | None:
    """The offset of a ``,`` directly before a ``)`` (``CREATE TABLE t (a TEXT,)``), which
    sqlglot accepts and neither SQLite nor PostgreSQL does; None when there is none."""
    if not _TRAILING.search(text):
        return None
    tokens = _tokens(text, dialect)
    if tokens is None:
        return None
    for a, b in itertools.pairwise(tokens):
        if a.token_type == TokenType.COMMA and b.token_type == TokenType.R_PAREN:
            return a.start
    return None


def database_rejects(text: str, dialect: str) -> bool:
    """True only when the database's own parser rejects ``text``: SQLite's (EXPLAIN, above)
    or PostgreSQL's (pglast; False when it is not installed). Other dialects: False.
    DB-API placeholders of any style are first written as the database's own."""
    if dialect == "sqlite":
        return not sqlite_accepts(native_params(text, dialect))
    if dialect == "postgres":
        return postgres_accepts(native_params(text, dialect)) is False
    return False


def database_accepts(text: str, dialect: str) -> bool:
    """True only when the database's own parser accepts ``text`` (see database_rejects)."""
    if dialect == "sqlite":
        return sqlite_accepts(native_params(text, dialect))
    if dialect == "postgres":
        return postgres_accepts(native_params(text, dialect)) is True
    return False


def native_params(text: str, dialect: str) -> str:
    """``text`` with its DB-API placeholders (found by the tokenizer) written as the
    database's own: ``$n`` for PostgreSQL, ``?`` for SQLite."""
    tokens = _tokens(text, dialect)
    if tokens is None:
        return text
    spans = [(p.start, p.end) for p in find_placeholders(tokens).items]
    # ``IN %s`` with a tuple: psycopg2 writes the tuple as ``(a, b)`` (psycopg2 docs, "Tuples
    # adaptation"), so the parameter is read as a parenthesised list there.
    lists = {t.start for a, t in itertools.pairwise(tokens)
             if a.token_type == TokenType.IN and dialect == "postgres"}
    return with_params(text, spans, dialect, lists) if spans else text
