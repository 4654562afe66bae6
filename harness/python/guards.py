"""Migration guards (``try``/``except`` around a probe, ``if "c" not in PRAGMA table_info``)
and DDL found anywhere in the module."""

from __future__ import annotations

import ast

from harness.python.context import Scope
from harness.python.facts import (
    ExecuteFact,
    GuardFact,
    TextArg,
)
from harness.python.positions import literal_map
from harness.python.sites import Calls
from harness.python.text import literal
from harness.sql.hints import ADD_COLUMN_HINT, DDL_HINT, PROBE_HINT


class Guards(Calls):
    # --- migration guards ------------------------------------------------------------------------
    def _try_guard(self, probes: list[ExecuteFact], actions: list[ExecuteFact],
                   block: tuple[int, int]) -> None:
        probe = next((e.sql.text for e in reversed(probes) if isinstance(e.sql, TextArg)
                      and PROBE_HINT.match(e.sql.text.text)), None)
        if probe is None:
            return
        for action in actions:
            if isinstance(action.sql, TextArg) and ADD_COLUMN_HINT.search(action.sql.text.text):
                self.guards.append(GuardFact("try", probe, None, action.sql.text, action.line,
                                             action.col, block))

    def _membership_guard(self, stmt: ast.If, scope: Scope,
                          actions: list[ExecuteFact]) -> None:
        test = stmt.test
        if scope.last_pragma is None or not (
            isinstance(test, ast.Compare) and len(test.ops) == 1
            and isinstance(test.ops[0], ast.NotIn) and isinstance(test.left, ast.Constant)
            and isinstance(test.left.value, str)
        ):
            return
        for action in actions:
            if isinstance(action.sql, TextArg) and ADD_COLUMN_HINT.search(action.sql.text.text):
                self.guards.append(GuardFact("membership", scope.last_pragma, test.left.value,
                                             action.sql.text, action.line, action.col,
                                             self.pos(stmt)))

    def _collect_loose_ddl(self) -> None:
        """String literals anywhere (a tuple of migrations run in a loop, say)."""
        if not self._has_ddl:
            return
        skipped = {id(n) for stmt in self.tree.body
                   if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
                   and self._is_downgrade(stmt, self.module_scope) for n in ast.walk(stmt)}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                    DDL_HINT.search(node.value) and id(node) not in skipped:
                text = literal(node.value, literal_map(node, self.lines))
                if not any(t.text.find(node.value) >= 0 and t.line <= node.lineno
                           for t in self.ddl.values()):
                    self.ddl[(text.line, text.col, text.text)] = text
