"""Read the same Schema model from a live SQLite connection (PRAGMA table_xinfo).

Takes an open connection: opening databases is the migration harness's job alone.
"""

from __future__ import annotations

import sqlite3

from harness.sql.schema import Column, Schema, Table, canonical_default


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_schema(conn: sqlite3.Connection, schema_name: str = "main",
                notes: list[str] | None = None) -> Schema:
    """The tables and views of ``schema_name`` on ``conn``.

    A view SQLite cannot resolve (it selects from a table that was dropped, or a column that
    is gone: ``PRAGMA table_xinfo`` fails with "no such table/column") is kept as a view whose
    columns are unknown (``columns_known=False``, as the static DDL reader does), so nothing
    is concluded from it; a one-line note saying why goes to ``notes`` when given. Other
    errors propagate (sqlite3.DatabaseError)."""
    rows = conn.execute(
        f"SELECT type, name, sql FROM {_quote(schema_name)}.sqlite_master "
        "WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()
    schema = Schema()
    for kind, name, sql in rows:
        try:
            table = _read_table(conn, schema_name, kind, name, sql or "")
        except sqlite3.OperationalError as err:
            if kind != "view":
                raise
            table = Table(name, (), is_view=True, columns_known=False)
            if notes is not None:
                notes.append(f"view {name} cannot be resolved ({err}): its columns are not read")
        schema = schema.put(table)
    return schema


def _read_table(conn: sqlite3.Connection, schema_name: str, kind: str, name: str,
                sql: str) -> Table:
    info = conn.execute(f"PRAGMA {_quote(schema_name)}.table_xinfo({_quote(name)})").fetchall()
    is_view = kind == "view"
    pk_cols = sorted((row[5], row[1]) for row in info if row[5])
    upper = sql.upper()
    columns = []
    uniques = _unique_columns(conn, schema_name, name)
    for _cid, col, declared, notnull, default, pk, hidden in info:
        columns.append(Column(
            name=col,
            type="" if is_view else " ".join(str(declared).split()).upper(),
            not_null=bool(notnull),
            default=canonical_default(default) if default is not None else None,
            primary_key=bool(pk),
            unique=(col,) in uniques,
            generated=hidden in (2, 3),
            autoincrement=bool(pk) and "AUTOINCREMENT" in upper and len(pk_cols) == 1,
        ))
    without_rowid = "WITHOUT" in upper and "ROWID" in upper.split("WITHOUT", 1)[-1]
    strict = _is_strict(conn, schema_name, name)
    return Table(
        name, tuple(columns), without_rowid=without_rowid, strict=strict, is_view=is_view,
        primary_key=tuple(c for _, c in pk_cols),
        unique_sets=tuple(u for u in uniques if len(u) > 1),
    )


def _unique_columns(conn: sqlite3.Connection, schema_name: str, table: str) -> set[tuple[str, ...]]:
    """Column sets behind UNIQUE constraints (origin 'u'), not user CREATE INDEX."""
    out: set[tuple[str, ...]] = set()
    for row in conn.execute(f"PRAGMA {_quote(schema_name)}.index_list({_quote(table)})"):
        index_name, unique, origin = row[1], row[2], row[3]
        if unique and origin == "u":
            cols = conn.execute(
                f"PRAGMA {_quote(schema_name)}.index_info({_quote(index_name)})"
            ).fetchall()
            out.add(tuple(c[2] for c in cols))
    return out


def _is_strict(conn: sqlite3.Connection, schema_name: str, table: str) -> bool:
    try:
        rows = conn.execute(f"PRAGMA {_quote(schema_name)}.table_list({_quote(table)})").fetchall()
    except sqlite3.DatabaseError:
        return False
    return any(len(r) > 5 and r[5] for r in rows)
