"""What a DML statement writes: target table, columns, and which placeholder feeds which column."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from harness.sql.resolve import offset_of, ref_name


@dataclass(frozen=True)
class ColumnFeed:
    """Column ``column`` receives positional placeholder ``index`` or named ``name``."""

    column: str
    offset: int | None
    index: int | None = None
    name: str | None = None


@dataclass(frozen=True)
class DmlInfo:
    kind: str  # insert, update, delete, select, other
    table: str | None
    table_offset: int | None
    columns: tuple[str, ...] | None  # INSERT column list; None when omitted
    column_offsets: tuple[int | None, ...]
    feeds: tuple[ColumnFeed, ...]
    row_lengths: tuple[int, ...]
    select_width: int | None
    values_offset: int | None


def _target(node: exp.Expr) -> exp.Table | None:
    target = node.this
    if isinstance(target, exp.Schema):
        target = target.this
    return target if isinstance(target, exp.Table) else None


def describe(expression: exp.Expr) -> DmlInfo:
    """What the statement writes (asked through ``harness.sql.memo.written``, which keeps
    the answer by statement text)."""
    return _describe(expression)


def _describe(expression: exp.Expr) -> DmlInfo:
    if isinstance(expression, exp.Insert):
        return _insert(expression)
    if isinstance(expression, exp.Update):
        return _update(expression)
    kind = "delete" if isinstance(expression, exp.Delete) else (
        "select" if isinstance(expression, exp.Query) else "other")
    target = _target(expression) if kind == "delete" else None
    return DmlInfo(kind, ref_name(target) if target else None,
                   offset_of(target) if target else None, None, (), (), (), None, None)


def _placeholder_index(expression: exp.Expr) -> dict[int, int]:
    """Positional number of each ``?`` in textual order (depth-first, pre-order)."""
    order: dict[int, int] = {}
    for node in expression.walk(bfs=False):
        if isinstance(node, exp.Placeholder) and not node.name:
            order[id(node)] = len(order)
    return order


def _feed(column: str, offset: int | None, value: exp.Expr,
          order: dict[int, int]) -> ColumnFeed | None:
    if isinstance(value, exp.Placeholder):
        if value.name:
            return ColumnFeed(column, offset, name=value.name)
        return ColumnFeed(column, offset, index=order.get(id(value)))
    return None


def _insert(node: exp.Insert) -> DmlInfo:
    target = _target(node)
    columns: tuple[str, ...] | None = None
    offsets: tuple[int | None, ...] = ()
    if isinstance(node.this, exp.Schema):
        idents = [i for i in node.this.expressions if isinstance(i, exp.Identifier)]
        columns = tuple(i.name for i in idents)
        offsets = tuple(offset_of(i) for i in idents)
    source = node.expression
    rows: list[int] = []
    feeds: list[ColumnFeed] = []
    select_width = None
    values_offset = None
    order = _placeholder_index(node)
    if isinstance(source, exp.Values):
        for row in source.expressions:
            items = row.expressions if isinstance(row, exp.Tuple) else [row]
            rows.append(len(items))
            if columns is not None and len(rows) == 1:
                for name, off, value in zip(columns, offsets, items):
                    feed = _feed(name, off, value, order)
                    if feed is not None:
                        feeds.append(feed)
        first = source.expressions[0] if source.expressions else None
        values_offset = _first_offset(first) if first is not None else None
    elif isinstance(source, exp.Query) and not any(
        isinstance(s, exp.Star) or (isinstance(s, exp.Column) and s.is_star) for s in source.selects
    ):
        select_width = len(source.selects)
    return DmlInfo("insert", ref_name(target) if target else None,
                   offset_of(target) if target else None, columns, offsets, tuple(feeds),
                   tuple(rows), select_width, values_offset)


def _first_offset(node: exp.Expr) -> int | None:
    for sub in node.walk(bfs=False):
        if isinstance(sub, exp.Identifier) and sub.meta.get("start") is not None:
            return int(sub.meta["start"])
    return None


def _update(node: exp.Update) -> DmlInfo:
    target = _target(node)
    order = _placeholder_index(node)
    feeds = []
    for assignment in node.expressions:
        if isinstance(assignment, exp.EQ) and isinstance(assignment.this, exp.Column):
            col = assignment.this
            feed = _feed(col.name, offset_of(col), assignment.expression, order)
            if feed is not None:
                feeds.append(feed)
    return DmlInfo("update", ref_name(target) if target else None,
                   offset_of(target) if target else None, None, (), tuple(feeds), (), None, None)
