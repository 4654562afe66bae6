"""What a rule is: a stable code and slug, its documentation, and a pure check function."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from harness.diagnostics import Diagnostic, Location, Related, Severity
from harness.link.model import Model


@dataclass(frozen=True)
class RuleDoc:
    what: str
    why: str
    example: str
    fix: str


@dataclass(frozen=True)
class Rule:
    code: str
    slug: str
    summary: str
    severity: Severity
    doc: RuleDoc
    check: Callable[[Model], Iterator[Diagnostic]] | None = None

    def diagnostic(self, location: Location, message: str, *, table: str | None = None,
                   column: str | None = None, key: str | None = None, fix: str | None = None,
                   related: tuple[Related, ...] = ()) -> Diagnostic:
        return Diagnostic(self.code, self.slug, self.severity, location, message, table=table,
                          column=column, key=key, fix=fix, related=related)
