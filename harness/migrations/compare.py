"""Comparisons computed inside SQLite (ATTACH + EXCEPT), never by loading rows into Python."""

from __future__ import annotations

import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from harness.sql.live import read_schema
from harness.sql.schema import Schema


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class RowLoss:
    table: str
    missing: int
    examples: tuple[str, ...]
    detail: str = ""

    def __str__(self) -> str:
        text = f"{self.table}: {self.missing} legacy row{'s' if self.missing != 1 else ''} " \
               f"{self.detail or 'missing or changed'}"
        if self.examples:
            text += "; e.g. " + "; ".join(self.examples)
        return text


def read(path: Path) -> Schema:
    with closing(sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)) as conn:
        return read_schema(conn)


def _tables(conn: sqlite3.Connection, schema: str) -> list[str]:
    rows = conn.execute(f"SELECT name FROM {q(schema)}.sqlite_master WHERE type = 'table' "
                        "AND name NOT LIKE 'sqlite_%' ORDER BY name").fetchall()
    return [r[0] for r in rows]


def _columns(conn: sqlite3.Connection, schema: str, table: str) -> list[tuple[str, bool]]:
    """(name, is_primary_key) of the stored (not generated) columns."""
    rows = conn.execute(f"PRAGMA {q(schema)}.table_xinfo({q(table)})").fetchall()
    return [(r[1], bool(r[5])) for r in rows if r[6] == 0]


# Bytes of the SQLite header that count commits, not content (file change counter and
# version-valid-for): two files equal but for these hold the same database.
_COUNTERS = ((24, 28), (92, 96))
_CHUNK = 1 << 20


def same_content(a: Path, b: Path) -> bool:
    """A cheap proof of equality: the files are identical but for commit counters."""
    if a.stat().st_size != b.stat().st_size:
        return False
    with a.open("rb") as fa, b.open("rb") as fb:
        head_a, head_b = bytearray(fa.read(_CHUNK)), bytearray(fb.read(_CHUNK))
        for start, end in _COUNTERS:
            head_a[start:end] = head_b[start:end] = b"\0" * (end - start)
        if head_a != head_b:
            return False
        while True:
            x, y = fa.read(_CHUNK), fb.read(_CHUNK)
            if x != y:
                return False
            if not x:
                return True


def _rowid_table(conn: sqlite3.Connection, schema: str, table: str) -> bool:
    sql = conn.execute(f"SELECT sql FROM {q(schema)}.sqlite_master WHERE name = ?",
                       (table,)).fetchone()
    return bool(sql) and "WITHOUT ROWID" not in " ".join(str(sql[0]).upper().split())


def _open_pair(legacy: Path, migrated: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(migrated, uri=True, check_same_thread=False)
    conn.execute("ATTACH DATABASE ? AS legacy",
                  (legacy.resolve().as_uri() + "?mode=ro&immutable=1",))
    return conn


def _missing_by_rowid(legacy: Path, migrated: Path, table: str, target: str,
                      common: list[str], workers: int) -> int:
    """Legacy rows with no row of the same rowid and values: a B-tree lookup per row, no sort,
    split by rowid range over the cores (SQLite runs queries without the GIL). Zero proves
    nothing was lost; anything else is re-counted by value (rows may have moved)."""
    same = " AND ".join(f"n.{q(c)} IS o.{q(c)}" for c in common)
    sql = (f"SELECT COUNT(*) FROM legacy.{q(table)} AS o WHERE o.rowid BETWEEN ? AND ? AND "
           f"NOT EXISTS (SELECT 1 FROM main.{q(target)} AS n WHERE n.rowid = o.rowid AND "
           f"{same})")
    with closing(_open_pair(legacy, migrated)) as conn:
        low, high = conn.execute(f"SELECT MIN(rowid), MAX(rowid) FROM legacy.{q(table)}"
                                 ).fetchone()
    if low is None:
        return 0
    step = (high - low) // max(workers, 1) + 1
    ranges = [(start, min(start + step - 1, high)) for start in range(low, high + 1, step)]

    def count(bounds: tuple[int, int]) -> int:
        with closing(_open_pair(legacy, migrated)) as conn:
            return int(conn.execute(sql, bounds).fetchone()[0])

    if len(ranges) == 1:
        return count(ranges[0])
    with ThreadPoolExecutor(max_workers=len(ranges)) as pool:
        return sum(pool.map(count, ranges))


def lost_rows(legacy: Path, migrated: Path, limit: int = 3,
              workers: int | None = None) -> list[RowLoss]:
    """Legacy rows that are not in the migrated database with the same values in every
    column that still exists."""
    losses = []
    workers = workers or os.cpu_count() or 1
    with closing(_open_pair(legacy, migrated)) as conn:
        now = {t.lower(): t for t in _tables(conn, "main")}
        for table in _tables(conn, "legacy"):
            old_count = conn.execute(f"SELECT COUNT(*) FROM legacy.{q(table)}").fetchone()[0]
            target = now.get(table.lower())
            if target is None:
                if old_count:
                    losses.append(RowLoss(table, old_count, (), "lost: the table is gone"))
                continue
            new_cols = {c.lower() for c, _ in _columns(conn, "main", target)}
            old_cols = _columns(conn, "legacy", table)
            common = [c for c, _ in old_cols if c.lower() in new_cols]
            if not common:
                continue
            cols = ", ".join(q(c) for c in common)
            if _rowid_table(conn, "legacy", table) and _rowid_table(conn, "main", target) and \
                    _missing_by_rowid(legacy, migrated, table, target, common, workers) == 0:
                continue
            missing = conn.execute(
                f"SELECT COUNT(*) FROM (SELECT {cols} FROM legacy.{q(table)} "
                f"EXCEPT SELECT {cols} FROM main.{q(target)})").fetchone()[0]
            new_count = conn.execute(f"SELECT COUNT(*) FROM main.{q(target)}").fetchone()[0]
            if missing:
                keys = [c for c, pk in old_cols if pk and c in common] or common[:3]
                key_cols = ", ".join(q(c) for c in keys)
                rows = conn.execute(
                    f"SELECT {key_cols} FROM (SELECT {cols} FROM legacy.{q(table)} "
                    f"EXCEPT SELECT {cols} FROM main.{q(target)}) LIMIT {limit}").fetchall()
                examples = tuple(", ".join(f"{k}={v!r}" for k, v in zip(keys, r)) for r in rows)
                losses.append(RowLoss(table, missing, examples))
            elif new_count < old_count:
                losses.append(RowLoss(table, old_count - new_count, (),
                                      "lost (duplicates collapsed)"))
    return losses


def data_differences(a: Path, b: Path) -> list[str]:
    """Tables whose rows differ between two databases (and a user_version change)."""
    if same_content(a, b):
        return []
    out = []
    with closing(sqlite3.connect(a)) as conn:
        conn.execute("ATTACH DATABASE ? AS other", (str(b),))
        va = conn.execute("PRAGMA main.user_version").fetchone()[0]
        vb = conn.execute("PRAGMA other.user_version").fetchone()[0]
        if va != vb:
            out.append(f"user_version {va} -> {vb}")
        left = {t.lower(): t for t in _tables(conn, "main")}
        right = {t.lower(): t for t in _tables(conn, "other")}
        for key in sorted(left.keys() | right.keys()):
            if key not in left or key not in right:
                out.append(f"table {left.get(key) or right.get(key)} exists on one side only")
                continue
            la, rb = left[key], right[key]
            cols_a = [c for c, _ in _columns(conn, "main", la)]
            cols_b = {c.lower() for c, _ in _columns(conn, "other", rb)}
            if {c.lower() for c in cols_a} != cols_b:
                out.append(f"table {la}: columns differ")
                continue
            cols = ", ".join(q(c) for c in cols_a)
            only_a = conn.execute(f"SELECT COUNT(*) FROM (SELECT {cols} FROM main.{q(la)} "
                                  f"EXCEPT SELECT {cols} FROM other.{q(rb)})").fetchone()[0]
            only_b = conn.execute(f"SELECT COUNT(*) FROM (SELECT {cols} FROM other.{q(rb)} "
                                  f"EXCEPT SELECT {cols} FROM main.{q(la)})").fetchone()[0]
            na = conn.execute(f"SELECT COUNT(*) FROM main.{q(la)}").fetchone()[0]
            nb = conn.execute(f"SELECT COUNT(*) FROM other.{q(rb)}").fetchone()[0]
            if only_a or only_b or na != nb:
                out.append(f"table {la}: {na} rows -> {nb} rows ({only_a} only before, "
                           f"{only_b} only after)")
    return out


def integrity_problems(db: Path, limit: int = 5) -> list[str]:
    with closing(sqlite3.connect(db)) as conn:
        problems = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()
                    if r[0] != "ok"][:limit]
        for table, rowid, parent, _fkid in conn.execute("PRAGMA foreign_key_check").fetchmany(
                limit):
            problems.append(f"foreign key: {table} rowid {rowid} references a missing row in "
                            f"{parent}")
    return problems
