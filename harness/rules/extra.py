"""Rules over more than the Python and SQL files: legacy snapshots, DDL self-checks."""

from __future__ import annotations

from harness.rules import ddl_rules, migration_rules
from harness.rules.base import Rule

RULES: tuple[Rule, ...] = migration_rules.RULES + ddl_rules.RULES
