"""Pure logic of the primer: match findings to a corpus entry's expectations, and diff runs.

No I/O here, so tests/test_primer.py can check it directly.

A *finding* is one object of ``dbharness check --format json`` (keys ``rule``, ``path``,
``line``, and where the rule has them ``table``, ``column``, ``key``, ``message``...).
An *expectation* is one object of a corpus entry's ``expected`` list (keys ``finding`` — a
rule slug —, ``table``, ``name``, ``file``, ``line``, optional ``reason``).

A finding matches an expectation when:

* its ``rule`` equals the expectation's ``finding``;
* its ``path`` is the expectation's ``file`` or ends with ``/`` + it (a file suffix);
* if the finding names a table: it equals the expected ``table`` case-insensitively, or is a
  schema-qualified form of it (``mapping.cache`` for ``cache``);
* if the finding names a column or key: one of them equals the expected ``name``
  case-insensitively. Rules that name neither (``insert-arity``, ``sql-syntax``...) carry a
  descriptive ``name`` in the corpus, which is then only informational.

``line`` is informational (code moves); when several findings match, each expectation takes
the one nearest its line, one finding per expectation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

Finding = dict[str, Any]
Expectation = dict[str, Any]


def canonical(finding: Finding) -> str:
    """The finding as one deterministic JSON line (sorted keys): its identity in a diff."""
    return json.dumps(finding, sort_keys=True, separators=(",", ":"))


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Findings in a stable order: path, line, col, rule, then the whole object."""
    return sorted(findings, key=lambda f: (str(f.get("path", "")), int(f.get("line") or 0),
                                           int(f.get("col") or 0), str(f.get("rule", "")),
                                           canonical(f)))


def _same_table(found: str, expected: str) -> bool:
    found, expected = found.lower(), expected.lower()
    return found == expected or found.endswith("." + expected) \
        or expected.endswith("." + found)


def matches(finding: Finding, expectation: Expectation) -> bool:
    """True when ``finding`` is the one ``expectation`` describes (see the module doc)."""
    if finding.get("rule") != expectation.get("finding"):
        return False
    path, file = str(finding.get("path", "")), str(expectation.get("file", ""))
    if not file or not (path == file or path.endswith("/" + file.lstrip("/"))):
        return False
    table, expected_table = finding.get("table"), expectation.get("table")
    if table and expected_table and not _same_table(str(table), str(expected_table)):
        return False
    names = [str(finding[k]).lower() for k in ("column", "key") if finding.get(k)]
    if names:
        expected_name = str(expectation.get("name", "")).lower()
        if expected_name not in names:
            return False
    return True


@dataclass(frozen=True)
class Matched:
    """The outcome of matching one run's findings against an entry's expectations.

    ``pairs[i]`` is the index into ``findings`` matched by expectation ``i``, or None (missed);
    ``unexpected`` are the indices of findings no expectation took.
    """

    pairs: tuple[int | None, ...]
    unexpected: tuple[int, ...]

    @property
    def found(self) -> int:
        return sum(1 for p in self.pairs if p is not None)

    @property
    def missed(self) -> int:
        return sum(1 for p in self.pairs if p is None)


def match_all(findings: Sequence[Finding], expectations: Sequence[Expectation]) -> Matched:
    """Pair each expectation with at most one finding, nearest line first (stable order)."""
    candidates: list[tuple[int, int, int]] = []  # (line distance, expectation, finding)
    for e, expectation in enumerate(expectations):
        for f, finding in enumerate(findings):
            if matches(finding, expectation):
                distance = abs(int(finding.get("line") or 0) - int(expectation.get("line") or 0))
                candidates.append((distance, e, f))
    pairs: list[int | None] = [None] * len(expectations)
    taken: set[int] = set()
    for _, e, f in sorted(candidates):
        if pairs[e] is None and f not in taken:
            pairs[e] = f
            taken.add(f)
    return Matched(tuple(pairs), tuple(f for f in range(len(findings)) if f not in taken))


def present(findings: Sequence[Finding], expectation: Expectation) -> bool:
    """Does any finding match ``expectation`` (used for 'gone at the fixing commit')?"""
    return any(matches(f, expectation) for f in findings)


@dataclass(frozen=True)
class Change:
    """Findings one run has that the other has not, for one project and commit role."""

    project: str
    role: str  # "buggy" (also a clean project's commit) or "fixed"
    added: tuple[Finding, ...]
    removed: tuple[Finding, ...]


def _multiset(findings: Iterable[Finding]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for f in findings:
        key = canonical(f)
        counts[key] = counts.get(key, 0) + 1
    return counts


def diff_findings(old: Iterable[Finding], new: Iterable[Finding]
                  ) -> tuple[list[Finding], list[Finding]]:
    """(added, removed): findings in ``new`` not in ``old`` and the reverse, as multisets
    of whole findings (a finding whose message or line changed is one removed + one added)."""
    before, after = _multiset(old), _multiset(new)
    added = [json.loads(k) for k, n in sorted(after.items()) for _ in range(n - before.get(k, 0))]
    removed = [json.loads(k) for k, n in sorted(before.items())
               for _ in range(n - after.get(k, 0))]
    return sort_findings(added), sort_findings(removed)


def diff_results(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Per project and commit role, what ``new`` added and removed relative to ``old``.

    Both are the ``results`` objects the runner writes (``{id: {"runs": {role: {"findings":
    [...]}}}}``); a project or role present on one side only counts all its findings as
    added or removed. Changes come sorted by project id, then role.
    """
    changes: list[Change] = []
    for project in sorted(set(old) | set(new)):
        old_runs = old.get(project, {}).get("runs", {})
        new_runs = new.get(project, {}).get("runs", {})
        for role in sorted(set(old_runs) | set(new_runs)):
            added, removed = diff_findings(old_runs.get(role, {}).get("findings", []),
                                           new_runs.get(role, {}).get("findings", []))
            if added or removed:
                changes.append(Change(project, role, tuple(added), tuple(removed)))
    return changes
