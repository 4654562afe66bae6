"""Probes of which tables a database has: ``SELECT name FROM sqlite_master WHERE ...``.

Code that asks whether a table exists, then reads it, is written for databases an older
release left behind; the schema code of the python side (programs.py) and the rules (an
existence-checked read of an old table is not an unknown table) both recognise it here."""

from __future__ import annotations

from sqlglot import exp

from harness.sql.parse import parse_sql


def master_probe(text: str) -> tuple[str, ...] | None:
    """``SELECT name FROM sqlite_master WHERE type='table' AND name IN ('a', 'b')``: the
    tables it asks about (``*``: any table), or None when it is no such probe. SQLite keeps
    one row per table, index, view and trigger in ``sqlite_schema`` (alias ``sqlite_master``;
    https://sqlite.org/schematab.html)."""
    if "sqlite_master" not in text.lower() and "sqlite_schema" not in text.lower():
        return None
    parsed = parse_sql(text)
    if len(parsed.statements) != 1 or parsed.errors:
        return None
    select = parsed.statements[0].expression
    if not isinstance(select, exp.Select) or select.args.get("joins"):
        return None
    sources = [t.name.lower() for t in select.find_all(exp.Table)]
    if sources not in (["sqlite_master"], ["sqlite_schema"]):
        return None
    names: list[str] = []
    for node in select.find_all(exp.EQ, exp.In):
        column = node.this
        if not (isinstance(column, exp.Column) and column.name.lower() in ("name", "tbl_name")):
            continue
        values = [node.expression] if isinstance(node, exp.EQ) else node.expressions
        if not values or not all(isinstance(v, exp.Literal) and v.is_string for v in values):
            return None  # a placeholder or an expression: not known here
        names.extend(v.name for v in values)
    return tuple(names) or ("*",)
