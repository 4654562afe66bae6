"""SQL script files as their command-line clients read them: client meta-commands.

A ``.sql`` file is often a script for a client, not a bare statement list. psql reads a line
whose first non-blank character is a backslash (``\\i file``, ``\\ir file``, ``\\set x y``,
``\\connect db``) as a meta-command that ends at its newline (PostgreSQL docs, "psql",
Meta-Commands: "the command ends at the end of the line"). SQLite's shell reads a line that
starts with a dot at the start of a statement (``.read file``, ``.mode csv``) the same way
(SQLite docs, "Command Line Shell For SQLite", Special commands to sqlite3).

``blank_client_commands`` replaces those lines with spaces, so the text keeps its length and
every offset (and so every line and column) stays valid for the SQL tokenizer that follows.
Quotes, dollar-quoted bodies and comments are tracked so a backslash or dot inside them is
never read as a command.
"""

from __future__ import annotations

import re

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


def blank_client_commands(source: str) -> str:
    """``source`` with every client meta-command line blanked (same length).

    A line is a meta-command when, outside any string, quoted identifier, dollar-quoted body
    or comment, its first non-blank character is ``\\`` (psql), or is ``.`` followed by a letter
    while no statement is open (sqlite3 shell). Nothing else changes."""
    if "\\" not in source and "\n." not in source and not source.lstrip().startswith("."):
        return source
    out = list(source)
    i, n = 0, len(source)
    line_start = True  # only blanks seen on this line so far, outside any quote
    statement_open = False  # non-blank SQL since the last ';'
    while i < n:
        ch = source[i]
        if ch == "\n":
            line_start = True
            i += 1
            continue
        if ch in " \t\r\f":
            i += 1
            continue
        if line_start and (ch == "\\" or (ch == "." and not statement_open and
                                          i + 1 < n and source[i + 1].isalpha())):
            end = source.find("\n", i)
            end = n if end < 0 else end
            for k in range(i, end):
                out[k] = " "
            i = end
            continue
        line_start = False
        if ch == "-" and source.startswith("--", i):
            end = source.find("\n", i)
            i = n if end < 0 else end
            continue
        if ch == "/" and source.startswith("/*", i):
            i = _block_comment_end(source, i)
            continue
        if ch in ("'", '"', "`"):
            i = _quote_end(source, i, ch)
            statement_open = True
            continue
        if ch == "$":
            tag = _DOLLAR_TAG.match(source, i)
            if tag is not None and not (i and (source[i - 1].isalnum() or source[i - 1] == "_")):
                close = source.find(tag.group(0), tag.end())
                i = n if close < 0 else close + len(tag.group(0))
                statement_open = True
                continue
        statement_open = ch != ";"
        i += 1
    return "".join(out)


def _quote_end(source: str, i: int, quote: str) -> int:
    """The offset after the string or quoted name opening at ``i`` (a doubled quote is one
    quote character inside it)."""
    j = i + 1
    n = len(source)
    while j < n:
        if source[j] == quote:
            if j + 1 < n and source[j + 1] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    return n


def _block_comment_end(source: str, i: int) -> int:
    """The offset after the ``/* ... */`` comment opening at ``i`` (PostgreSQL nests them)."""
    depth, j, n = 0, i, len(source)
    while j < n:
        if source.startswith("/*", j):
            depth += 1
            j += 2
        elif source.startswith("*/", j):
            depth -= 1
            j += 2
            if depth == 0:
                return j
        else:
            j += 1
    return n
