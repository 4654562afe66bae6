"""Iterate the SQL the project runs, parsed once, with positions mapped back to the file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from harness.diagnostics import Location
from harness.link.model import Model, SqlSite
from harness.sql.parse import ParsedSql, Statement, parse_sql


@dataclass(frozen=True)
class ParsedSite:
    site: SqlSite
    parsed: ParsedSql

    def location(self, statement: Statement | None, offset: int | None) -> Location:
        base = statement.start if statement is not None else 0
        line, col = self.site.text.locate(base + (offset or 0))
        return Location(self.site.path, line, col)

    @property
    def executed(self) -> bool:
        return self.site.execute is not None

    def is_sentinel(self, name: str | None) -> bool:
        """A name that holds a hole's sentinel, alone or glued to literal text."""
        return name is not None and self.site.text.touches_hole(name)


def parsed_sites(model: Model, *, executed_only: bool = False) -> Iterator[ParsedSite]:
    """Each distinct SQL string once (an executed site wins over the same DDL constant)."""
    seen: dict[tuple[str, int, int, str], SqlSite] = {}
    for site in model.sites:
        key = (site.path, site.text.line, site.text.col, site.text.text)
        if key not in seen or (seen[key].execute is None and site.execute is not None):
            seen[key] = site
    for site in seen.values():
        if executed_only and site.execute is None and site.module:
            continue
        yield ParsedSite(site, parse_sql(site.text.text, model.dialect))


def not_modelled(model: Model) -> list[tuple[Location, str]]:
    """Statements skipped because sqlglot has no model of their kind (``CREATE OPERATOR``,
    ``CREATE AGGREGATE``...): where, and why, for ``contracts`` to say what was not analysed."""
    out = []
    for ps in parsed_sites(model):
        for err in ps.parsed.unmodelled:
            out.append((ps.location(None, err.start), err.message))
    return sorted(out)
