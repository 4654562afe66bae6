"""The columns of a sqlglot scope, found in one walk of the scope's tree.

sqlglot's ``Scope.columns`` (and ``external_columns``, which uses it) walks from every column
up to its nearest SELECT/ORDER/HAVING... ancestor. In ``WHERE a=0 AND a=1 AND ...`` the AND
chain is a left-deep tree as deep as it has terms, so that is quadratic: 10,000 terms took
minutes. ``ScopeColumns`` gives the same answers (the same filter, the same order) from one
top-down walk that carries each node's nearest such ancestor and nearest enclosing query.
"""

from __future__ import annotations

import itertools

from sqlglot import exp
from sqlglot.optimizer.scope import Scope

# The ancestors sqlglot's Scope.columns looks for, in its order (sqlglot/optimizer/scope.py).
ANCESTORS: tuple[type[exp.Expr], ...] = (
    exp.Select, exp.Qualify, exp.Order, exp.Cluster, exp.Having, exp.Hint, exp.Table,
    exp.Star, exp.Distinct)


class ScopeColumns:
    """Columns of the scopes of one query; ``visits`` counts the tree nodes walked (the
    work, for tests that check it stays linear)."""

    def __init__(self) -> None:
        self.visits = 0
        self._columns: dict[int, tuple[Scope, list[exp.Column]]] = {}
        self._query: dict[int, exp.Expr | None] = {}

    def nearest_query(self, column: exp.Column) -> exp.Expr | None:
        """The innermost query (SELECT, UNION...) holding ``column``, as found by the walk of
        a scope holding it; None when no walk has seen it."""
        return self._query.get(id(column))

    def columns(self, scope: Scope) -> list[exp.Column]:
        """sqlglot's ``scope.columns``: the scope's own columns plus the columns of its
        correlated subqueries that point out of them."""
        found = self._columns.get(id(scope))
        if found is not None and found[0] is scope:
            return found[1]
        ancestor = self._walk(scope.expression)
        own = list(_own_columns(scope))
        external = [c for s in itertools.chain(
            scope.subquery_scopes, scope.udtf_scopes,
            (d for d in scope.derived_table_scopes if d.can_be_correlated))
            for c in self.external(s)]
        expr = scope.expression
        named = set(expr.named_selects) if isinstance(expr, exp.Query) else set()
        out = []
        for column in own + external:
            near = ancestor.get(id(column))
            if near is None and id(column) not in ancestor:
                near = column.find_ancestor(*ANCESTORS)
            if _kept(column, near, named):
                out.append(column)
        self._columns[id(scope)] = (scope, out)
        return out

    def external(self, scope: Scope) -> list[exp.Column]:
        """sqlglot's ``scope.external_columns``."""
        if isinstance(scope.expression, exp.SetOperation):
            left, right = scope.set_operation_scopes
            return self.external(left) + self.external(right)
        local = {name for name, _ in scope.references}
        anti = scope.semi_or_anti_join_tables
        return [c for c in self.columns(scope)
                if c.text("table") not in local and c.text("table") not in anti]

    def _walk(self, root: exp.Expr) -> dict[int, exp.Expr | None]:
        """Each column under ``root`` -> its nearest ANCESTORS node (as ``find_ancestor``
        would answer); records each column's nearest query on the way."""
        seed = root if isinstance(root, ANCESTORS) else root.find_ancestor(*ANCESTORS)
        seed_query = root if isinstance(root, exp.Query) else root.find_ancestor(exp.Query)
        out: dict[int, exp.Expr | None] = {}
        stack: list[tuple[exp.Expr, exp.Expr | None, exp.Expr | None]] = [
            (child, seed, seed_query) for child in root.iter_expressions()]
        while stack:
            node, near, query = stack.pop()
            self.visits += 1
            if type(node) is exp.Column:
                out[id(node)] = near
                self._query[id(node)] = query
            below = node if isinstance(node, ANCESTORS) else near
            below_query = node if isinstance(node, exp.Query) else query
            stack.extend((child, below, below_query) for child in node.iter_expressions())
        return out


def _own_columns(scope: Scope) -> list[exp.Column]:
    """The scope's raw columns (not stars), in sqlglot's collection order."""
    return [c for c in scope.walk() if type(c) is exp.Column and id(c) in scope.column_index
            and not isinstance(c.this, exp.Star)]


def _kept(column: exp.Column, ancestor: exp.Expr | None, named: set[str]) -> bool:
    """sqlglot's filter: a column under ORDER BY/DISTINCT that names a select alias is that
    alias, not a column (sqlglot/optimizer/scope.py, ``Scope.columns``)."""
    return (
        not ancestor
        or bool(column.text("table"))
        or isinstance(ancestor, exp.Select)
        or (isinstance(ancestor, exp.Table) and not isinstance(ancestor.this, exp.Func))
        or (isinstance(ancestor, (exp.Order, exp.Cluster, exp.Distinct)) and (
            isinstance(ancestor.parent, (exp.Window, exp.WithinGroup))
            or not isinstance(ancestor.parent, exp.Select)
            or column.name not in named))
        or (isinstance(ancestor, exp.Star) and column.arg_key != "except_")
    )
