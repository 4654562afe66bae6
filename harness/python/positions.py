"""Map offsets inside a Python string's *value* back to line and column in the file.

SQL positions come from sqlglot as offsets into the string value; the user needs the line
and column in the ``.py`` file, through implicit concatenation, triple quotes, escapes and
f-string holes. This module is the only place that knows how. Columns are 1-based
characters (not UTF-8 bytes as in ``ast``).
"""

from __future__ import annotations

import ast
import bisect
import io
import re
import tokenize
from dataclasses import dataclass

_PREFIX = re.compile(r"^([A-Za-z]*)('''|\"\"\"|'|\")")
_SIMPLE_ESCAPES = {
    "\n": "", "\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b", "f": "\f", "n": "\n",
    "r": "\r", "t": "\t", "v": "\v",
}


@dataclass(frozen=True)
class Run:
    """Value offsets ``start .. start+length`` sit at ``line``, ``col`` .. ``col+length``."""

    start: int
    length: int
    line: int
    col: int


@dataclass(frozen=True)
class PosMap:
    runs: tuple[Run, ...]
    line: int
    col: int

    def locate(self, offset: int) -> tuple[int, int]:
        if not self.runs:
            return self.line, self.col
        starts = [r.start for r in self.runs]
        i = bisect.bisect_right(starts, offset) - 1
        if i < 0:
            return self.line, self.col
        run = self.runs[i]
        delta = min(offset - run.start, max(run.length - 1, 0))
        return run.line, run.col + delta

    def shifted(self, by: int) -> tuple[Run, ...]:
        return tuple(Run(r.start + by, r.length, r.line, r.col) for r in self.runs)


def char_col(line: str, byte_col: int) -> int:
    """``ast`` columns count UTF-8 bytes; users count characters."""
    if line.isascii():
        return byte_col
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="replace"))


def _compress(chars: list[tuple[int, int]]) -> tuple[Run, ...]:
    runs: list[Run] = []
    for offset, (line, col) in enumerate(chars):
        if runs:
            last = runs[-1]
            if last.line == line and last.col + last.length == col and \
                    last.start + last.length == offset:
                runs[-1] = Run(last.start, last.length + 1, line, last.col)
                continue
        runs.append(Run(offset, 1, line, col))
    return tuple(runs)


@dataclass(frozen=True)
class Piece:
    """A literal run of a string token, or an f-string hole (``text`` is None)."""

    text: str | None
    chars: tuple[tuple[int, int], ...]


def _decode(body: str, raw: bool, line: int, col: int, fstring: bool) -> list[Piece]:
    """Walk a token body, emitting each value char with its source position."""
    pieces: list[Piece] = []
    text: list[str] = []
    chars: list[tuple[int, int]] = []
    i, n = 0, len(body)
    cur_line, cur_col = line, col

    def advance(count: int) -> None:
        nonlocal i, cur_line, cur_col
        for ch in body[i : i + count]:
            if ch == "\n":
                cur_line, cur_col = cur_line + 1, 1
            else:
                cur_col += 1
        i += count

    def flush() -> None:
        if text:
            pieces.append(Piece("".join(text), tuple(chars)))
            text.clear()
            chars.clear()

    while i < n:
        ch = body[i]
        here = (cur_line, cur_col)
        if fstring and ch in "{}":
            if i + 1 < n and body[i + 1] == ch:
                text.append(ch)
                chars.append(here)
                advance(2)
                continue
            if ch == "{":
                flush()
                depth, j = 0, i
                while j < n:
                    if body[j] == "{":
                        depth += 1
                    elif body[j] == "}":
                        depth -= 1
                        if depth == 0:
                            break
                    j += 1
                pieces.append(Piece(None, (here,)))
                advance(j + 1 - i)
                continue
        if ch == "\\" and not raw and i + 1 < n:
            nxt = body[i + 1]
            if nxt in _SIMPLE_ESCAPES:
                value, width = _SIMPLE_ESCAPES[nxt], 2
            elif nxt in "01234567":
                m = re.match(r"[0-7]{1,3}", body[i + 1 :])
                assert m is not None
                value, width = chr(int(m.group(), 8)), 1 + len(m.group())
            elif nxt in "xuU":
                size = {"x": 2, "u": 4, "U": 8}[nxt]
                digits = body[i + 2 : i + 2 + size]
                value, width = chr(int(digits, 16)), 2 + size
            elif nxt == "N":
                end = body.find("}", i)
                import unicodedata

                value, width = unicodedata.lookup(body[i + 3 : end]), end + 1 - i
            else:
                value, width = "\\" + nxt, 2
            for c in value:
                text.append(c)
                chars.append(here)
            advance(width)
            continue
        text.append(ch)
        chars.append(here)
        advance(1)
    flush()
    return pieces


def string_pieces(node: ast.expr, lines: list[str]) -> list[Piece] | None:
    """Tokenize the source behind a string node into literal pieces and f-string holes."""
    end_line = node.end_lineno or node.lineno
    if node.end_col_offset is None:
        return None
    first = lines[node.lineno - 1]
    start_col = char_col(first, node.col_offset)
    last = lines[end_line - 1]
    end_col = char_col(last, node.end_col_offset)
    if end_line == node.lineno:
        snippet = first[start_col:end_col]
    else:
        snippet = "\n".join([first[start_col:], *lines[node.lineno : end_line - 1], last[:end_col]])
    pieces: list[Piece] = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO("(" + snippet + ")").readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None
    for tok in tokens:
        if tok.type != tokenize.STRING:
            continue
        row, col = tok.start
        line = node.lineno + row - 1
        col = (start_col + col - 1) if row == 1 else col
        m = _PREFIX.match(tok.string)
        if m is None:
            return None
        prefix, quote = m.group(1).lower(), m.group(2)
        body = tok.string[len(m.group(0)) : len(tok.string) - len(quote)]
        body_col = col + len(m.group(0)) + 1
        try:
            pieces.extend(_decode(body, "r" in prefix, line, body_col, "f" in prefix))
        except (ValueError, KeyError, AssertionError):
            return None
    return pieces


def literal_map(node: ast.Constant, lines: list[str]) -> PosMap:
    """Position map of a (possibly implicitly concatenated) string constant."""
    col = char_col(lines[node.lineno - 1], node.col_offset) + 1
    fallback = PosMap((), node.lineno, col)
    if not isinstance(node.value, str) or len(node.value) > 200_000:
        return fallback
    pieces = string_pieces(node, lines)
    if pieces is None or any(p.text is None for p in pieces):
        return fallback
    chars = [c for p in pieces for c in p.chars]
    if "".join(p.text or "" for p in pieces) != node.value:
        return fallback
    return PosMap(_compress(chars), node.lineno, col)


def compress(chars: list[tuple[int, int]]) -> tuple[Run, ...]:
    return _compress(chars)
