"""Rules registered later in the pipeline (migrations, DDL self-checks)."""

from __future__ import annotations

from harness.rules.base import Rule

RULES: tuple[Rule, ...] = ()
