"""What a run covered and what it could not: SQL sites seen and checked, and why not.

A SQL site is a place in the code that runs SQL through a driver (calls.py) or through one of
the app's own query wrappers (each call of the wrapper is a site). It is *checked* when its SQL
text is known and parses; otherwise it is counted under the reason it was not analysed.
Records: distinct dicts bound to a table, and distinct dicts known to reach SQL whose table
could not be told (``contracts`` says why for each).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from harness.link.model import Model, NotAnalysed
from harness.sql.parse import parse_sql

FILES_UNPARSED = "Python syntax error"


@dataclass(frozen=True)
class Coverage:
    """Counts for one run; ``not_analysed`` maps a reason (``NotAnalysed``) to a count."""

    sql_sites_seen: int
    sql_sites_checked: int
    statements_checked: int
    not_analysed: tuple[tuple[NotAnalysed, int], ...]
    records_bound: int
    records_unbound: int
    files_unparsed: int = 0  # Python files not analysed: a syntax error (Python 2, a template)

    def as_dict(self) -> dict[str, Any]:
        """The ``coverage`` object of ``dbharness contracts --format json`` (a stable shape:
        the primer's runner reads these keys)."""
        return {
            "sql_sites_seen": self.sql_sites_seen,
            "sql_sites_checked": self.sql_sites_checked,
            "statements_checked": self.statements_checked,
            "not_analysed": {reason.value: n for reason, n in self.not_analysed},
            "records_bound": self.records_bound,
            "records_unbound": self.records_unbound,
            "files_not_analysed": ({FILES_UNPARSED: self.files_unparsed}
                                   if self.files_unparsed else {}),
        }

    def line(self) -> str:
        """``checked 412 statements at 380 sites; 23 sites not analysed: 17 computed SQL, 6
        unknown driver``."""
        sites = "site" if self.sql_sites_checked == 1 else "sites"
        text = (f"checked {self.statements_checked} statement"
                f"{'' if self.statements_checked == 1 else 's'} at {self.sql_sites_checked} "
                f"{sites}")
        missed = sum(n for _, n in self.not_analysed)
        if missed:
            parts = ", ".join(f"{n} {reason.value}" for reason, n in self.not_analysed)
            text += f"; {missed} site{'' if missed == 1 else 's'} not analysed: {parts}"
        if self.files_unparsed:
            text += (f"; {self.files_unparsed} file{'' if self.files_unparsed == 1 else 's'}"
                     f" not analysed: {FILES_UNPARSED}")
        return text


def coverage(model: Model) -> Coverage:
    """Count the executed SQL sites of ``model`` (each distinct place and text once)."""
    reasons: Counter[NotAnalysed] = Counter(u.reason for u in model.unanalysed)
    seen_places: set[tuple[str, int, int, str]] = set()
    checked = statements = 0
    for site in model.sites:
        execute = site.execute
        if execute is None:
            continue
        key = (site.path, execute.line, execute.col, site.text.text)
        if key in seen_places:
            continue
        seen_places.add(key)
        parsed = parse_sql(site.text.text, model.dialect)
        if parsed.skipped:
            reasons[NotAnalysed.TOO_LARGE] += 1
        elif not any(st.category != "command" for st in parsed.statements):
            # nothing sqlglot models: a parse error only, or statements it kept whole
            reasons[NotAnalysed.NOT_PARSED] += 1
        else:
            checked += 1
            statements += sum(1 for st in parsed.statements if st.category != "command")
    bound = {(b.record.path, b.record.line, b.record.col) for b in model.bindings}
    unbound = {(u.location.path, u.location.line, u.location.col) for u in model.unbound
               if u.what.startswith("record ")} - bound
    ordered = tuple((r, reasons[r]) for r in NotAnalysed if reasons[r])
    seen = len(seen_places) + len(model.unanalysed)  # with text, and without
    unparsed = sum(1 for f in model.files if f.syntax_error)
    return Coverage(seen, checked, statements, ordered, len(bound), len(unbound), unparsed)
