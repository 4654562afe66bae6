"""The rule registry. Slugs and codes are a public interface: never reuse or rename them."""

from __future__ import annotations

from harness.diagnostics import Severity
from harness.rules import records, sql_rules
from harness.rules.base import Rule, RuleDoc

FILE_ERROR = Rule(
    "DBH002", "file-error", "a file could not be read or parsed", Severity.ERROR,
    RuleDoc(
        what="A Python or SQL file could not be read, decoded or parsed, so nothing in it was "
             "checked. A Python file with a syntax error (Python 2 code such as a vendored "
             "library, a template) is a note, not an error: it is no disagreement between "
             "schema and code, so it does not fail the run; the coverage line counts it as "
             "not analysed (Python syntax error).",
        why="A file the checker cannot read is a file whose SQL and records nobody checked.",
        example="def f(:\n    pass",
        fix="Fix the syntax or encoding, or exclude the path in [tool.dbharness] exclude.",
    ),
)
INTERNAL_ERROR = Rule(
    "DBH900", "internal-error", "dbharness failed on this file (a bug in dbharness)",
    Severity.ERROR,
    RuleDoc(
        what="The checker hit an unexpected error while analysing this file; the other files "
             "were still checked.",
        why="So that one odd file never stops the run, and the bug is visible.",
        example="(any input that triggers a bug)",
        fix="Report it with the file (or a reduced copy); exclude the file meanwhile.",
    ),
)

RULES: tuple[Rule, ...] = (
    FILE_ERROR, *sql_rules.RULES, *records.RULES, INTERNAL_ERROR,
)


def all_rules() -> tuple[Rule, ...]:
    from harness.rules import extra

    return RULES + extra.RULES


def find_rule(name: str) -> Rule | None:
    wanted = name.strip().lower()
    for rule in all_rules():
        if rule.slug == wanted or rule.code.lower() == wanted:
            return rule
    return None
