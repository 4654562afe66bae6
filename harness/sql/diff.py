"""Semantic difference of two schemas: what a fresh and an upgraded database disagree on."""

from __future__ import annotations

from dataclasses import dataclass

from harness.sql.schema import Column, Schema, Table, canonical_type

COMPARED = ("not_null", "default", "primary_key", "generated")


@dataclass(frozen=True)
class SchemaChange:
    """``kind``: table-added, table-removed, column-added, column-removed, column-changed,
    table-changed. "added" means present in ``right`` only."""

    kind: str
    table: str
    column: str | None = None
    detail: str = ""

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        return f"{self.kind}: {where}" + (f" ({self.detail})" if self.detail else "")


def diff_schemas(left: Schema, right: Schema) -> list[SchemaChange]:
    """Changes that turn ``left`` into ``right``; empty when they are equivalent."""
    changes: list[SchemaChange] = []
    for key in sorted(set(left.tables) | set(right.tables)):
        a, b = left.tables.get(key), right.tables.get(key)
        if a is None and b is not None:
            changes.append(SchemaChange("table-added", b.name))
        elif b is None and a is not None:
            changes.append(SchemaChange("table-removed", a.name))
        elif a is not None and b is not None:
            changes.extend(_diff_table(a, b))
    return changes


def _diff_table(a: Table, b: Table) -> list[SchemaChange]:
    changes = []
    for flag in ("without_rowid", "strict", "is_view"):
        if getattr(a, flag) != getattr(b, flag):
            changes.append(SchemaChange("table-changed", a.name, None,
                                        f"{flag}: {getattr(a, flag)} -> {getattr(b, flag)}"))
    names = {c.key: c for c in a.columns}
    other = {c.key: c for c in b.columns}
    for key in names.keys() - other.keys():
        changes.append(SchemaChange("column-removed", a.name, names[key].name))
    for col in b.columns:
        if col.key not in names:
            changes.append(SchemaChange("column-added", a.name, col.name, _describe(col)))
    if a.is_view or b.is_view:
        return changes
    for key in names.keys() & other.keys():
        detail = _column_detail(names[key], other[key])
        if detail:
            changes.append(SchemaChange("column-changed", a.name, names[key].name, detail))
    return changes


def _column_detail(a: Column, b: Column) -> str:
    parts = []
    if canonical_type(a.type) != canonical_type(b.type):
        parts.append(f"type: {a.type!r} -> {b.type!r}")
    for attr in COMPARED:
        x, y = getattr(a, attr), getattr(b, attr)
        if x != y:
            parts.append(f"{attr}: {x!r} -> {y!r}")
    return "; ".join(parts)


def _describe(col: Column) -> str:
    bits = [col.type or "(no type)"]
    if col.not_null:
        bits.append("NOT NULL")
    if col.default is not None:
        bits.append(f"DEFAULT {col.default}")
    return " ".join(bits)


def render_changes(changes: list[SchemaChange]) -> str:
    return "\n".join(f"  {c}" for c in changes)
