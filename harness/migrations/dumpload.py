"""Load a ``.sql`` dump snapshot into a new SQLite file, accepting only what a dump holds.

A dump comes with the checkout, so it is untrusted input. It is loaded only inside the timed
child process (``python -m harness.migrations.child --load-dump``), never in the dbharness
process, and three independent fences apply to every statement:

1. **Statement kind.** Only the statements ``sqlite3 .dump`` and ``Connection.iterdump()``
   write are accepted (:class:`Kind`): ``BEGIN``/``COMMIT``/``ROLLBACK``, ``PRAGMA
   foreign_keys`` and ``PRAGMA user_version``, ``CREATE TABLE name (...)``, ``CREATE [UNIQUE]
   INDEX``, ``CREATE TRIGGER``, ``CREATE VIEW``, ``INSERT INTO name [(columns)] VALUES ...``,
   ``DELETE FROM sqlite_sequence`` and ``ANALYZE sqlite_master``. The kind is read from the
   statement's leading tokens (SQLite's lexical rules: quoted identifiers, comments), not by
   a pattern over the text. Anything else (``ATTACH``, ``VACUUM INTO``, ``SELECT``, ``UPDATE``,
   ``CREATE TABLE ... AS SELECT``, ``PRAGMA writable_schema``, ``CREATE VIRTUAL TABLE``, ...)
   is refused.
2. **Authorizer** (``sqlite3_set_authorizer``, https://sqlite.org/c3ref/set_authorizer.html):
   an allow-list of action codes; ``ATTACH``/``DETACH`` (which ``VACUUM INTO`` uses
   internally), ``DROP``, ``ALTER``, temporary and virtual tables and every other PRAGMA are
   denied, also inside triggers. ``SQLITE_LIMIT_ATTACHED`` is 0 as well
   (https://sqlite.org/c3ref/c_limit_attached.html), so no statement can reach another file.
3. **Time bound.** A progress handler (https://sqlite.org/c3ref/progress_handler.html)
   interrupts any statement once the deadline has passed, so a recursive CTE cannot run
   forever; the parent's timeout (which kills the process group) is the outer bound.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

PROGRESS_OPS = 10_000  # SQLite VM steps between two deadline checks


class Kind(Enum):
    """The statement kinds a ``.dump`` / ``iterdump()`` text holds."""

    TRANSACTION = "BEGIN/COMMIT/ROLLBACK"
    PRAGMA = "PRAGMA foreign_keys / user_version"
    CREATE_TABLE = "CREATE TABLE"
    CREATE_INDEX = "CREATE INDEX"
    CREATE_TRIGGER = "CREATE TRIGGER"
    CREATE_VIEW = "CREATE VIEW"
    INSERT = "INSERT INTO ... VALUES"
    DELETE_SEQUENCE = "DELETE FROM sqlite_sequence"
    ANALYZE = "ANALYZE sqlite_master"


@dataclass(frozen=True)
class Statement:
    """One statement of a dump: its text and the 1-based line it starts on."""

    text: str
    line: int


class DumpRefused(Exception):
    """The dump holds something a dump never holds, or a statement fails or runs too long.

    ``str()`` is a one-line message naming the line and the statement."""

    def __init__(self, statement: Statement | None, reason: str) -> None:
        self.statement = statement
        self.reason = reason
        where = ""
        if statement is not None:
            where = f"line {statement.line}: {_snippet(statement.text)}: "
        super().__init__(where + reason)


def _snippet(text: str, limit: int = 80) -> str:
    flat = " ".join(_strip_leading_comments(text).split()).rstrip(";").rstrip()
    flat = "".join(c if c.isprintable() else "?" for c in flat)
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _strip_leading_comments(text: str) -> str:
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            break
    return text[i:]


# --- lexing (SQLite's rules: https://sqlite.org/lang_keywords.html, lang_comment.html) -------

_QUOTES = {"'": "'", '"': '"', "`": "`", "[": "]"}


_SPECIAL = re.compile(r"""['"`\[;]|--|/\*""")


def split_statements(text: str, first_line: int = 1) -> Iterator[Statement]:
    """The statements of ``text``, split at semicolons outside strings, quoted identifiers and
    comments, and only where ``sqlite3.complete_statement`` agrees (so a trigger body's inner
    semicolons do not split it). A trailing fragment without a semicolon is a statement too.
    Linear in the text: a regex jumps between the characters that matter. ``first_line`` is
    the line number of the text's first character."""
    n, pos, start = len(text), 0, 0
    counted, line = 0, first_line  # ``line`` is the line number at offset ``counted``

    def line_of(offset: int) -> int:
        nonlocal counted, line
        line += text.count("\n", counted, offset)
        counted = offset
        return line

    while (m := _SPECIAL.search(text, pos)) is not None:
        token, i = m.group(), m.start()
        if token == ";":
            pos = i + 1
            chunk = text[start:pos]
            if sqlite3.complete_statement(chunk):
                body = _strip_leading_comments(chunk[:-1])
                if body.strip():
                    yield Statement(chunk, line_of(pos - 1 - len(body)))
                start = pos
        elif token == "--":
            j = text.find("\n", i)
            pos = n if j < 0 else j
        elif token == "/*":
            j = text.find("*/", i + 2)
            pos = n if j < 0 else j + 2
        else:
            close = _QUOTES[token]
            j = i + 1
            while True:
                j = text.find(close, j)
                if j < 0:
                    j = n
                    break
                if close != "]" and text.startswith(close * 2, j):
                    j += 2
                    continue
                break
            pos = j + 1
    rest = text[start:]
    body = _strip_leading_comments(rest)
    if body.strip():
        yield Statement(rest, line_of(n - len(body)))


_TOKEN = re.compile(r"""
    (?P<space>\s+|--[^\n]*|/\*.*?(?:\*/|\Z))
  | '(?:[^']|'')*'?
  | (?P<ident>"(?:[^"]|"")*"?|`(?:[^`]|``)*`?|\[[^\]]*\]?)
  | (?P<word>[^\W\d]\w*|\d[\w.]*)
  | (?P<other>.)
""", re.S | re.X)


def _tokens(text: str) -> Iterator[str]:
    """Leading tokens: bare words upper-cased, quoted identifiers unquoted (as ``"name``),
    strings as ``'``, numbers, and single punctuation characters."""
    pos, n = 0, len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        if m is None:  # pragma: no cover - the last alternative matches any character
            return
        pos = m.end()
        kind = m.lastgroup
        if kind == "space":
            continue
        tok = m.group()
        if kind == "ident":
            close = {'"': '"', "`": "`", "[": "]"}[tok[0]]
            body = tok[1:-1] if len(tok) > 1 and tok.endswith(close) else tok[1:]
            if close != "]":
                body = body.replace(close * 2, close)
            yield '"' + body
        elif kind == "word":
            yield tok.upper()
        elif kind is None:
            yield "'"
        else:
            yield tok


def _name(token: str | None) -> str | None:
    """An identifier token as a lower-case name, or None when it is not an identifier."""
    if token is None:
        return None
    if token.startswith('"'):
        return token[1:].lower()
    if token[:1].isalpha() or token[:1] == "_":
        return token.lower()
    return None


_PRAGMAS = {"foreign_keys", "user_version"}


# The four leading tokens of the statement a dump holds most (``INSERT INTO "t" VALUES(``), as
# the tokenizer reads them when no comment sits between them: a shortcut to the same decision.
_PLAIN_INSERT = re.compile(r'\s*INSERT\s+INTO\s+(?:"(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_$]*)'
                           r'\s*VALUES\b', re.IGNORECASE | re.ASCII)


def classify(text: str) -> Kind | None:
    """The kind of a dump statement, or None when a dump never holds such a statement."""
    if _PLAIN_INSERT.match(text):
        return Kind.INSERT
    toks = _tokens(text)

    def nxt() -> str | None:
        return next(toks, None)

    def at_end() -> bool:
        rest = nxt()
        return rest is None or (rest == ";" and nxt() is None)

    first = nxt()
    if first in ("BEGIN", "COMMIT", "END", "ROLLBACK"):
        second = nxt()
        if first == "BEGIN" and second in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE"):
            second = nxt()
        if second == "TRANSACTION":
            second = nxt()
        return Kind.TRANSACTION if second in (None, ";") else None
    if first == "PRAGMA":
        name = _name(nxt())
        if name == "main":
            name = _name(nxt()) if nxt() == "." else None
        if name not in _PRAGMAS or nxt() != "=":
            return None
        value = nxt()
        if value in ("-", "+"):
            value = nxt()
        if value is None or not (value.isdigit() or value in ("ON", "OFF", "TRUE", "FALSE")):
            return None
        return Kind.PRAGMA if at_end() else None
    if first == "CREATE":
        what = nxt()
        if what == "UNIQUE":
            return Kind.CREATE_INDEX if nxt() == "INDEX" else None
        if what == "INDEX":
            return Kind.CREATE_INDEX
        if what == "TRIGGER":
            return Kind.CREATE_TRIGGER
        if what == "VIEW":
            return Kind.CREATE_VIEW
        if what == "TABLE":
            name = nxt()
            if name == "IF":
                if nxt() != "NOT" or nxt() != "EXISTS":
                    return None
                name = nxt()
            if _name(name) is None:
                return None
            after = nxt()
            if after == ".":  # schema-qualified: only main
                if _name(name) != "main" or _name(nxt()) is None:
                    return None
                after = nxt()
            return Kind.CREATE_TABLE if after == "(" else None
        return None
    if first == "INSERT":
        if nxt() != "INTO" or _name(nxt()) is None:
            return None
        after = nxt()
        if after == "(":
            while True:
                tok = nxt()
                if tok is None:
                    return None
                if tok == ")":
                    break
                if tok != "," and _name(tok) is None:
                    return None
            after = nxt()
        return Kind.INSERT if after == "VALUES" else None
    if first == "DELETE":
        if nxt() != "FROM" or _name(nxt()) != "sqlite_sequence":
            return None
        return Kind.DELETE_SEQUENCE if at_end() else None
    if first == "ANALYZE":
        if _name(nxt()) not in ("sqlite_master", "sqlite_schema"):
            return None
        return Kind.ANALYZE if at_end() else None
    return None


# --- the authorizer ----------------------------------------------------------------------

_ALLOWED_ACTIONS = {
    sqlite3.SQLITE_CREATE_TABLE, sqlite3.SQLITE_CREATE_INDEX, sqlite3.SQLITE_CREATE_TRIGGER,
    sqlite3.SQLITE_CREATE_VIEW, sqlite3.SQLITE_INSERT, sqlite3.SQLITE_DELETE,
    sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_READ, sqlite3.SQLITE_SELECT, sqlite3.SQLITE_FUNCTION,
    sqlite3.SQLITE_RECURSIVE, sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_REINDEX,
    sqlite3.SQLITE_ANALYZE,
}
_ACTION_NAMES = {
    getattr(sqlite3, name): name.removeprefix("SQLITE_") for name in (
        "SQLITE_ATTACH", "SQLITE_DETACH", "SQLITE_ALTER_TABLE", "SQLITE_DROP_TABLE",
        "SQLITE_DROP_INDEX", "SQLITE_DROP_TRIGGER", "SQLITE_DROP_VIEW", "SQLITE_CREATE_VTABLE",
        "SQLITE_DROP_VTABLE", "SQLITE_CREATE_TEMP_TABLE", "SQLITE_CREATE_TEMP_INDEX",
        "SQLITE_CREATE_TEMP_TRIGGER", "SQLITE_CREATE_TEMP_VIEW", "SQLITE_DROP_TEMP_TABLE",
        "SQLITE_DROP_TEMP_INDEX", "SQLITE_DROP_TEMP_TRIGGER", "SQLITE_DROP_TEMP_VIEW",
        "SQLITE_PRAGMA", "SQLITE_SAVEPOINT")
    if hasattr(sqlite3, name)
}


class _Guard:
    """The authorizer and progress handler of one load; remembers why it said no."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.denied: str | None = None
        self.expired = False

    def authorize(self, action: int, arg1: str | None, arg2: str | None, _db: str | None,
                  _trigger: str | None) -> int:
        if action in _ALLOWED_ACTIONS:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in _PRAGMAS \
                and arg2 is not None:
            return sqlite3.SQLITE_OK  # setting one, as a dump does (reading one is a query)
        name = _ACTION_NAMES.get(action, f"action {action}")
        self.denied = f"{name} {arg1 or ''}".strip()
        return sqlite3.SQLITE_DENY

    def progress(self) -> int:
        if time.monotonic() > self.deadline:
            self.expired = True
            return 1
        return 0


def fence(conn: sqlite3.Connection, seconds: float) -> _Guard:
    """Install the authorizer, the ATTACH limit and the time bound (``seconds`` from now) on
    ``conn``; return the guard that remembers what it denied."""
    guard = _Guard(time.monotonic() + seconds)
    conn.execute("PRAGMA trusted_schema = OFF")  # https://sqlite.org/pragma.html#pragma_trusted_schema
    conn.execute("PRAGMA journal_mode = MEMORY")  # a scratch copy: no -journal file to leave
    conn.execute("PRAGMA synchronous = OFF")
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    conn.set_authorizer(guard.authorize)
    conn.set_progress_handler(guard.progress, PROGRESS_OPS)
    return guard


def _body(chunk: str) -> str:
    """``chunk`` from its first token on (whitespace and comments before it dropped)."""
    body = chunk.lstrip()
    return _strip_leading_comments(body) if body[:2] in ("--", "/*") else body


def _leading_newlines(chunk: str) -> int:
    return chunk.count("\n", 0, len(chunk) - len(_body(chunk)))


_JOIN_LIMIT = 64  # pieces joined before falling back to the exact splitter


def _chunks(text: str) -> Iterator[Statement]:
    """Statements cut at ``;`` + newline wherever ``sqlite3.complete_statement`` agrees: the
    way dumps are laid out (one statement per line, or per few lines), in C speed. A chunk may
    still hold several statements of one line; :func:`load_dump` splits those exactly. Falls
    back to :func:`split_statements` for the rest of a text whose pieces do not come
    together (a long string literal full of ``;`` + newline)."""
    pieces = text.split(";\n")
    buf: list[str] = []
    line, offset = 1, 0  # at the start of the buffer
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        buf.append(piece if last else piece + ";\n")
        if len(buf) > _JOIN_LIMIT:
            yield from split_statements(text[offset:], first_line=line)
            return
        chunk = "".join(buf) if len(buf) > 1 else buf[0]
        if not last and not sqlite3.complete_statement(chunk):
            continue
        body = _body(chunk)
        if body.strip():
            yield Statement(chunk, line + chunk.count("\n", 0, len(chunk) - len(body)))
        line += chunk.count("\n")
        offset += len(chunk)
        buf = []


def _run_all(statements: Iterator[Statement], conn: sqlite3.Connection, guard: _Guard,
             seconds: float, exact: bool) -> int:
    count = 0
    for statement in statements:
        kind = classify(statement.text)
        if kind is None:
            raise DumpRefused(statement, "not a statement sqlite3 .dump or iterdump() writes "
                                         "(only " + ", ".join(k.value for k in Kind) + ")")
        guard.denied = None
        try:
            conn.execute(statement.text)
        except sqlite3.ProgrammingError as err:
            if exact or "one statement at a time" not in str(err):
                raise DumpRefused(statement, f"does not load: {err}") from err
            # Several statements on one line: sqlite3 refused the whole text before running
            # any of it (https://docs.python.org/3/library/sqlite3.html#sqlite3.Cursor.execute);
            # split it exactly and take its statements one by one.
            first = statement.line - _leading_newlines(statement.text)
            count += _run_all(split_statements(statement.text, first_line=first), conn, guard,
                              seconds, exact=True)
            continue
        except sqlite3.Error as err:
            if guard.expired:
                raise DumpRefused(statement, f"still running after {seconds:g} s: stopped") \
                    from None
            if guard.denied is not None:
                raise DumpRefused(statement, f"refused: {guard.denied} is not allowed in a "
                                             "dump") from None
            raise DumpRefused(statement, f"does not load: {err}") from err
        count += 1
    return count


def load_dump(text: str, conn: sqlite3.Connection, seconds: float) -> int:
    """Run the statements of dump ``text`` on ``conn`` (a new, empty database opened with
    ``isolation_level=None``) within ``seconds``; return how many ran.

    Raises :class:`DumpRefused` at the first statement of a kind a dump never holds, one the
    authorizer denies, one SQLite rejects, or one still running at the deadline. An open
    transaction left at the end is committed (as the previous loader did)."""
    guard = fence(conn, seconds)
    count = _run_all(_chunks(text), conn, guard, seconds, exact=False)
    if conn.in_transaction:
        conn.execute("COMMIT")
    return count
