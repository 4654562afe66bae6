"""Schema declared through Alembic operations and SQLAlchemy tables and models, read
statically and rendered as the DDL it stands for, so it joins the project's schema like any
CREATE TABLE string. Only literal arguments are understood; anything else is left out."""

from __future__ import annotations

import ast

import sqlglot
from sqlglot.errors import ParseError, TokenError

TYPES = {
    "Integer": "INTEGER", "BigInteger": "BIGINT", "SmallInteger": "SMALLINT",
    "String": "VARCHAR", "Unicode": "VARCHAR", "Text": "TEXT", "UnicodeText": "TEXT",
    "Boolean": "BOOLEAN", "DateTime": "DATETIME", "Date": "DATE", "Time": "TIME",
    "Float": "FLOAT", "Numeric": "NUMERIC", "Double": "DOUBLE", "LargeBinary": "BLOB",
    "JSON": "JSON", "Enum": "VARCHAR", "Uuid": "UUID", "Interval": "INTERVAL",
    "INTEGER": "INTEGER", "TEXT": "TEXT", "VARCHAR": "VARCHAR", "BOOLEAN": "BOOLEAN",
    "REAL": "REAL", "BLOB": "BLOB", "TIMESTAMP": "TIMESTAMP",
}
COLUMN_FACTORIES = frozenset({"Column", "mapped_column"})
ALEMBIC_OPS = frozenset({"create_table", "add_column", "drop_column", "alter_column",
                         "drop_table", "rename_table"})


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        return _name(node.func)
    return ""


def _str(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _type(node: ast.expr) -> str:
    """The SQL type a SQLAlchemy type stands for; a type we have no spelling for
    (``postgresql.JSONB()``, ``Vector(384)``) keeps its own name, as the dialect's DDL does."""
    written = _name(node)
    sql = TYPES.get(written, "") or (written.upper() if written.isidentifier() and
                                     written[:1].isupper() else "")
    if sql and isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
            and isinstance(node.args[0].value, int):
        sql += f"({node.args[0].value})"
    return sql


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def column_sql(call: ast.Call, name: str | None = None) -> str | None:
    """``Column("n", Integer, primary_key=True, nullable=False, server_default="0")``."""
    args = list(call.args)
    if name is None and args and _str(args[0]) is not None:
        name = _str(args.pop(0))
    elif args and _str(args[0]) is not None:
        args.pop(0)
    if not name:
        return None
    parts = [_quote(name)]
    if args and _type(args[0]):
        parts.append(_type(args[0]))
    elif _keyword(call, "type_") is not None:
        parts.append(_type(_keyword(call, "type_")))  # type: ignore[arg-type]
    pk = _keyword(call, "primary_key")
    if isinstance(pk, ast.Constant) and pk.value is True:
        parts.append("PRIMARY KEY")
    default = _keyword(call, "server_default")
    default_sql = _default_sql(default)
    nullable = _keyword(call, "nullable")
    if isinstance(nullable, ast.Constant) and nullable.value is False and (
            default is None or default_sql is not None):
        # a server default we cannot spell still fills the column: not claimed NOT NULL
        # without a default, which would demand every INSERT supply it
        parts.append("NOT NULL")
    if default_sql is not None:
        parts.append(default_sql)
    return " ".join(parts)


def _default_sql(default: ast.expr | None) -> str | None:
    """``server_default="0"`` or ``server_default=sa.text("now()")`` as a DEFAULT clause;
    None for no default or one we cannot spell (``func.now()``, a variable)."""
    if isinstance(default, ast.Constant) and isinstance(default.value, (str, int, float)):
        value = default.value
        return "DEFAULT " + (repr(value) if isinstance(value, str) and
                             not value.lstrip("-").replace(".", "").isdigit() else str(value))
    if isinstance(default, ast.Call) and _name(default.func) == "text" and \
            len(default.args) == 1 and _str(default.args[0]) is not None:
        text = _str(default.args[0]) or ""
        try:
            sqlglot.parse_one(text)
        except (ParseError, TokenError):
            return None
        return f"DEFAULT ({text})"
    return None


def _columns(args: list[ast.expr]) -> list[str]:
    out = []
    for arg in args:
        if isinstance(arg, ast.Call) and _name(arg.func) in COLUMN_FACTORIES:
            sql = column_sql(arg)
            if sql:
                out.append(sql)
    return out


def alembic_ddl(call: ast.Call) -> str | None:
    """``op.create_table`` / ``add_column`` / ``drop_column`` / ``alter_column`` /
    ``drop_table`` / ``rename_table`` with literal names."""
    op = _name(call.func)
    table = _str(call.args[0]) if call.args else _str(_keyword(call, "table_name"))
    if op not in ALEMBIC_OPS or table is None:
        return None
    rest = call.args[1:]
    if op == "create_table":
        cols = _columns(rest)
        return f"CREATE TABLE {_quote(table)} ({', '.join(cols)})" if cols else None
    if op == "add_column" and rest and isinstance(rest[0], ast.Call):
        col = column_sql(rest[0])
        return f"ALTER TABLE {_quote(table)} ADD COLUMN {col}" if col else None
    if op == "drop_column" and rest and _str(rest[0]):
        return f"ALTER TABLE {_quote(table)} DROP COLUMN {_quote(_str(rest[0]) or '')}"
    if op == "alter_column" and rest and _str(rest[0]):
        new = _str(_keyword(call, "new_column_name"))
        if new:
            return (f"ALTER TABLE {_quote(table)} RENAME COLUMN {_quote(_str(rest[0]) or '')} "
                    f"TO {_quote(new)}")
        return None
    if op == "drop_table":
        return f"DROP TABLE {_quote(table)}"
    if op == "rename_table" and rest and _str(rest[0]):
        return f"ALTER TABLE {_quote(table)} RENAME TO {_quote(_str(rest[0]) or '')}"
    return None


def table_ddl(call: ast.Call) -> str | None:
    """SQLAlchemy Core: ``Table("t", metadata, Column(...), ...)``."""
    if _name(call.func) != "Table" or not call.args or _str(call.args[0]) is None:
        return None
    cols = _columns(call.args[1:])
    return f"CREATE TABLE {_quote(_str(call.args[0]) or '')} ({', '.join(cols)})" if cols else None


def model_ddl(node: ast.ClassDef) -> str | None:
    """Declarative models: ``__tablename__`` plus ``x = Column(...)`` / ``mapped_column``."""
    table = None
    cols = []
    for stmt in node.body:
        target, value = None, None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign):
            target, value = stmt.target, stmt.value
        if not isinstance(target, ast.Name) or value is None:
            continue
        if target.id == "__tablename__":
            table = _str(value)
        elif isinstance(value, ast.Call) and _name(value.func) in COLUMN_FACTORIES:
            sql = column_sql(value, name=_str(value.args[0]) if value.args and _str(
                value.args[0]) else target.id)
            if sql:
                cols.append(sql)
    if table and cols:
        return f"CREATE TABLE {_quote(table)} ({', '.join(cols)})"
    return None
