"""An abstract string: text known so far, where each character came from, and holes.

A hole is a part of the string the code computes at run time (``{table}``, ``{cols}``). It
is rendered as a sentinel identifier (or ``?`` for a run of placeholders) so the rest still
parses, and remembered, so rules never judge what was not known.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.python.positions import PosMap, Run

PARAM = "param"  # a function parameter (a table name in generic helpers)
KEYS = "keys"  # column names from the keys of a dict parameter
PLACEHOLDERS = "placeholders"  # "?, ?, ?" built to match a dict's size
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Hole:
    sentinel: str
    kind: str
    param: str | None = None


@dataclass(frozen=True)
class Text:
    text: str
    runs: tuple[Run, ...]
    holes: tuple[Hole, ...]
    line: int
    col: int

    def locate(self, offset: int) -> tuple[int, int]:
        return PosMap(self.runs, self.line, self.col).locate(offset)

    def __add__(self, other: Text) -> Text:
        shift = len(self.text)
        runs = self.runs + tuple(Run(r.start + shift, r.length, r.line, r.col) for r in other.runs)
        return Text(self.text + other.text, runs, self.holes + other.holes, self.line, self.col)

    def slice(self, start: int, end: int) -> Text:
        """The characters ``start..end`` with their positions (holes inside are kept)."""
        runs = []
        for r in self.runs:
            a, b = max(r.start, start), min(r.start + r.length, end)
            if a < b:
                runs.append(Run(a - start, b - a, r.line, r.col + (a - r.start)))
        piece = self.text[start:end]
        holes = tuple(h for h in self.holes if h.sentinel in piece)
        line, col = self.locate(start)
        return Text(piece, tuple(runs), holes, line, col)

    def hole(self, name: str) -> Hole | None:
        low = name.lower()
        for h in self.holes:
            if h.sentinel.lower() == low:
                return h
        return None

    def touches_hole(self, name: str) -> bool:
        """Does ``name`` hold a hole's sentinel anywhere (``"{col}"``, ``idx_{col}``)? Such a
        name is partly computed, so no rule judges it."""
        low = name.lower()
        return any(h.sentinel.lower() in low for h in self.holes)

    @property
    def unknown_holes(self) -> bool:
        return any(h.kind == UNKNOWN for h in self.holes)

    @property
    def dynamic_placeholders(self) -> bool:
        return any(h.kind in (PLACEHOLDERS, KEYS, UNKNOWN) for h in self.holes)


def literal(value: str, posmap: PosMap) -> Text:
    return Text(value, posmap.runs, (), posmap.line, posmap.col)


def hole_text(hole: Hole, rendered: str, line: int, col: int) -> Text:
    return Text(rendered, (Run(0, 1, line, col),) if rendered else (), (hole,),
                line, col)
