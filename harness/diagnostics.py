"""Diagnostics: the one data type every rule produces and every formatter reads."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, order=True)
class Location:
    """A place in a file: 1-based line, 1-based column."""

    path: str
    line: int
    col: int


@dataclass(frozen=True)
class Related:
    """A second place that explains a finding (where the table or writer is)."""

    location: Location
    message: str


@dataclass(frozen=True)
class Diagnostic:
    """One finding. ``code`` and ``rule`` are stable public identifiers."""

    code: str
    rule: str
    severity: Severity
    location: Location
    message: str
    table: str | None = None
    column: str | None = None
    key: str | None = None
    fix: str | None = None
    related: tuple[Related, ...] = field(default=())

    @property
    def path(self) -> str:
        return self.location.path

    @property
    def line(self) -> int:
        return self.location.line

    @property
    def col(self) -> int:
        return self.location.col

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.col, self.code, self.message)

    def fingerprint(self) -> str:
        """Identity that survives unrelated edits: used by baselines (no line numbers)."""
        parts = [self.rule, self.path, self.table or "", self.column or "", self.key or ""]
        return "|".join([*parts, self.message])

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.code} [{self.rule}] {self.message}"
