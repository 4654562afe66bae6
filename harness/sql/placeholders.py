"""Find DB-API placeholders with sqlglot's tokenizer and rewrite them to one form.

sqlglot parses ``?`` and ``:name`` in every dialect we support, but ``%s`` is a syntax
error under sqlite/mysql, ``%(a)s`` parses *silently wrongly* under mysql, and ``$b`` becomes
a column under sqlite. So before parsing, each placeholder is rewritten in place to ``?``
(positional) or ``:name`` (named), padded with spaces to the same length: every offset in
the rewritten text is the offset in the original, and no position map is needed.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlglot.tokenizer_core import Token, TokenType

QMARK = "qmark"
NUMERIC = "numeric"
NAMED = "named"
FORMAT = "format"
PYFORMAT = "pyformat"


@dataclass(frozen=True)
class Placeholder:
    """One placeholder: its paramstyle, its name or 1-based number, and where it starts."""

    style: str
    name: str | None
    number: int | None
    start: int
    end: int  # exclusive


@dataclass(frozen=True)
class Placeholders:
    """All placeholders of a SQL text, and what the driver will expect for them."""

    items: tuple[Placeholder, ...]

    @property
    def styles(self) -> frozenset[str]:
        return frozenset(p.style for p in self.items)

    @property
    def mixed(self) -> bool:
        """Named and positional together: no driver accepts that."""
        named = {NAMED, PYFORMAT} & self.styles
        positional = {QMARK, FORMAT, NUMERIC} & self.styles
        return bool(named) and bool(positional)

    @property
    def named(self) -> bool:
        return bool(self.items) and self.styles <= {NAMED, PYFORMAT}

    @property
    def names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.items if p.name is not None)

    @property
    def positional_count(self) -> int:
        """How many positional parameters the driver expects."""
        numbered = [p.number for p in self.items if p.number is not None]
        plain = sum(1 for p in self.items if p.style in (QMARK, FORMAT) and p.number is None)
        return max([plain, *numbered]) if numbered else plain


def _adjacent(a: Token, b: Token) -> bool:
    return b.start == a.end + 1


def find_placeholders(tokens: Sequence[Token]) -> Placeholders:
    """Recognise every paramstyle from a token stream (strings and comments are not tokens)."""
    found: list[Placeholder] = []
    i = 0
    n = len(tokens)
    while i < n:
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < n else None
        ttype, text = tok.token_type, tok.text
        if ttype == TokenType.PLACEHOLDER and text == "?":
            if nxt is not None and nxt.token_type == TokenType.NUMBER and nxt.text.isdigit() \
                    and _adjacent(tok, nxt):
                found.append(Placeholder(NUMERIC, None, int(nxt.text), tok.start, nxt.end + 1))
                i += 2
                continue
            found.append(Placeholder(QMARK, None, None, tok.start, tok.end + 1))
        elif ttype == TokenType.PLACEHOLDER and text.startswith(":") and len(text) > 1:
            found.append(_colon(text[1:], tok.start, tok.end + 1))
        elif ttype == TokenType.PLACEHOLDER and text == "%s":
            found.append(Placeholder(FORMAT, None, None, tok.start, tok.end + 1))
        elif ttype == TokenType.COLON and nxt is not None and _adjacent(tok, nxt):
            prev = tokens[i - 1] if i > 0 else None
            # `a::int` casts and `x:y` slices are not placeholders.
            # Any word may follow: ``:comment`` and ``:select`` arrive as keyword tokens.
            named = nxt.text.isdigit() or nxt.text.isidentifier()
            if named and not (
                prev is not None and prev.token_type == TokenType.COLON and _adjacent(prev, tok)
            ):
                found.append(_colon(nxt.text, tok.start, nxt.end + 1))
                i += 2
                continue
        elif ttype == TokenType.MOD and nxt is not None and _adjacent(tok, nxt):
            if nxt.token_type == TokenType.VAR and nxt.text == "s":
                found.append(Placeholder(FORMAT, None, None, tok.start, nxt.end + 1))
                i += 2
                continue
            match = _pyformat(tokens, i)
            if match is not None:
                found.append(match)
                i += 5
                continue
        elif ttype == TokenType.PARAMETER and text == "$" and nxt is not None:
            if nxt.token_type == TokenType.NUMBER and nxt.text.isdigit() and _adjacent(tok, nxt):
                found.append(Placeholder(NUMERIC, None, int(nxt.text), tok.start, nxt.end + 1))
                i += 2
                continue
        elif ttype == TokenType.VAR and text.startswith("$") and text[1:].isdigit():
            found.append(Placeholder(NUMERIC, None, int(text[1:]), tok.start, tok.end + 1))
        i += 1
    return Placeholders(tuple(found))


_FORMAT_IN_TEXT = re.compile(r"%(\([^()]*\))?s")


def quoted_format_placeholder(tokens: Sequence[Token]) -> bool:
    """A ``%s`` or ``%(name)s`` inside a string literal (``SET value = '%s'::jsonb``).

    psycopg and the MySQL drivers substitute ``%s`` wherever it stands, quotes or not
    (psycopg docs, "Passing parameters to SQL queries": a placeholder must not be quoted,
    yet it is still replaced), so the placeholders outside strings are not all the driver
    fills: such a text's parameter count cannot be judged from its tokens.
    """
    return any(t.token_type in (TokenType.STRING, TokenType.NATIONAL_STRING)
               and _FORMAT_IN_TEXT.search(t.text) for t in tokens)


def _colon(name: str, start: int, end: int) -> Placeholder:
    if name.isdigit():
        return Placeholder(NUMERIC, None, int(name), start, end)
    return Placeholder(NAMED, name, None, start, end)


def _pyformat(tokens: Sequence[Token], i: int) -> Placeholder | None:
    """``%(name)s`` arrives as MOD L_PAREN VAR R_PAREN VAR('s'), all adjacent."""
    if i + 4 >= len(tokens):
        return None
    parts = tokens[i : i + 5]
    kinds = [t.token_type for t in parts]
    if kinds[1] != TokenType.L_PAREN or kinds[3] != TokenType.R_PAREN:
        return None
    if parts[4].text != "s" or not all(_adjacent(a, b) for a, b in itertools.pairwise(parts)):
        return None
    return Placeholder(PYFORMAT, parts[2].text, None, parts[0].start, parts[4].end + 1)


def normalise(text: str, placeholders: Placeholders) -> str:
    """Rewrite placeholders to ``?`` / ``:name`` of the same length (offsets stay valid)."""
    if not placeholders.items:
        return text
    out: list[str] = []
    last = 0
    for p in placeholders.items:
        width = p.end - p.start
        token = f":{p.name}" if p.name is not None and p.name.isidentifier() else "?"
        if len(token) > width:
            token = "?"
        out.append(text[last : p.start])
        out.append(token.ljust(width))
        last = p.end
    out.append(text[last:])
    return "".join(out)
