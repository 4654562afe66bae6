"""Round-trip: records shaped like the routers' ones, written through the app's own writer,
read back with every key intact (on a fresh install and on every migrated snapshot)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.config import Config
from harness.link.model import Model
from harness.migrations.compare import q
from harness.migrations.runner import run_entry


@dataclass(frozen=True)
class WriterContract:
    """A writer and the keys records bound to it carry (key -> column it lands in)."""

    entry: str  # module:Class.method or module:function
    table: str
    columns: tuple[tuple[str, str], ...]


def contracts_from_model(model: Model) -> list[WriterContract]:
    found: dict[tuple[str, str], dict[str, str]] = {}
    for b in model.bindings:
        w = b.writer
        if w.via or w.param == "<inline>" or "<locals>" in w.qualname:
            continue
        table = model.schema.table(b.table)
        if table is None:
            continue
        columns = found.setdefault((f"{w.module}:{w.qualname}", table.name), {})
        for key in b.record.keys:
            read = w.reads_key(key.name)
            column = read.column if read is not None and read.column else key.name
            if table.has_column(column):
                columns[key.name] = column
        for read in w.reads:
            if read.required and read.column and table.has_column(read.column):
                columns.setdefault(read.key, read.column)
    return [WriterContract(entry, table, tuple(sorted(cols.items())))
            for (entry, table), cols in sorted(found.items()) if cols]


def _value(conn: sqlite3.Connection, column: str, declared: str, default: str | None,
           fks: dict[str, tuple[str, str]], key: str) -> Any:
    """A value of the column's type that differs from its DEFAULT, so a dropped key shows."""
    if column in fks:
        parent, parent_col = fks[column]
        row = conn.execute(f"SELECT {q(parent_col)} FROM {q(parent)} LIMIT 1").fetchone()
        return row[0] if row else None
    t = declared.upper()
    if "BOOL" in t:
        choices: list[Any] = [True, False]
    elif "INT" in t:
        choices = [7, 8]
    elif any(x in t for x in ("REAL", "FLOA", "DOUB", "NUM", "DEC")):
        choices = [1.5, 2.5]
    else:
        choices = [f"dbh-{key}", f"dbh-{key}-2"]
    for choice in choices:
        if default is None or str(_normal(choice)) != default.strip("'\"()"):
            return choice
    return choices[-1]


def _normal(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    return value


def make_roundtrip(config: Config, model: Model,
                   timeout: float | None = None) -> Callable[[Path, str], list[str] | None]:
    contracts = contracts_from_model(model)

    def run(db: Path, snapshot: str) -> list[str] | None:
        if not contracts:
            return None
        problems: list[str] = []
        for contract in contracts:
            problems.extend(_one(config, contract, db, timeout or config.timeout))
        return problems

    return run


def _one(config: Config, contract: WriterContract, db: Path, timeout: float) -> list[str]:
    with closing(sqlite3.connect(db)) as conn:
        info = {r[1].lower(): (r[2] or "", r[4]) for r in
                conn.execute(f"PRAGMA table_xinfo({q(contract.table)})")}
        fks = {r[3].lower(): (r[2], r[4] or "rowid") for r in
               conn.execute(f"PRAGMA foreign_key_list({q(contract.table)})")}
        record: dict[str, Any] = {}
        for key, column in contract.columns:
            if column.lower() not in info:
                return [f"{contract.entry}: table {contract.table} has no column {column} here"]
            declared, default = info[column.lower()]
            value = _value(conn, column.lower(), declared, default, fks, key)
            if value is None:
                return []  # a foreign key with no parent row to point at: nothing to prove
            record[key] = value
        before = conn.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {q(contract.table)}"
                              ).fetchone()[0]
    record_file = db.with_suffix(".record.json")
    record_file.write_text(json.dumps(record), encoding="utf-8")
    outcome = run_entry(contract.entry, db, config.root, timeout, record_json=record_file)
    if not outcome.ok:
        return [f"writing through {contract.entry} failed: {outcome.describe()}"]
    with closing(sqlite3.connect(db)) as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute(f"SELECT * FROM {q(contract.table)} WHERE rowid > ? ORDER BY rowid "
                           "LIMIT 1", (before,)).fetchone()
    if row is None:
        return [f"{contract.entry} wrote no row to {contract.table}"]
    stored = {k.lower(): row[k] for k in row.keys()}  # noqa: SIM118 - sqlite3.Row
    lost = []
    for key, column in contract.columns:
        got, want = stored.get(column.lower()), _normal(record[key])
        if got != want:
            lost.append(f"key '{key}' -> {contract.table}.{column}: wrote {want!r}, "
                        f"read back {got!r}")
    return [f"{contract.entry}: " + "; ".join(lost)] if lost else []
