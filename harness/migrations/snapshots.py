"""Legacy database snapshots: find them, and make working copies (originals are never opened
for writing, or opened at all: every check runs on a copy)."""

from __future__ import annotations

import glob
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from harness.errors import SnapshotError
from harness.sql.ddl import SchemaBuilder
from harness.sql.live import read_schema
from harness.sql.parse import parse_sql
from harness.sql.schema import Schema

SQLITE_HEADER = b"SQLite format 3\x00"
BINARY = (".sqlite", ".sqlite3", ".db")
DUMP = (".sql",)


@dataclass(frozen=True)
class Snapshot:
    path: Path
    name: str

    @property
    def is_dump(self) -> bool:
        return self.path.suffix.lower() in DUMP


def discover(pattern: str, root: Path) -> list[Snapshot]:
    full = pattern if Path(pattern).is_absolute() else str(root / pattern)
    found = []
    for match in sorted(glob.glob(full, recursive=True)):
        path = Path(match)
        if path.is_file() and path.suffix.lower() in BINARY + DUMP:
            try:
                name = path.relative_to(root).as_posix()
            except ValueError:
                name = path.as_posix()
            found.append(Snapshot(path, name))
    return found


def materialize(snapshot: Snapshot, dest: Path) -> None:
    """Write a working copy of ``snapshot`` at ``dest`` (a new SQLite file)."""
    dest.unlink(missing_ok=True)
    if snapshot.is_dump:
        try:
            script = snapshot.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise SnapshotError(f"cannot read dump {snapshot.name}: {err}") from err
        conn = sqlite3.connect(dest)
        try:
            conn.executescript(script)
            conn.commit()
        except sqlite3.Error as err:
            raise SnapshotError(f"dump {snapshot.name} does not load: {err}") from err
        finally:
            conn.close()
        return
    try:
        with snapshot.path.open("rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except OSError as err:
        raise SnapshotError(f"cannot read {snapshot.name}: {err.strerror or err}") from err
    if header != SQLITE_HEADER:
        raise SnapshotError(f"{snapshot.name} is not a SQLite database (bad header)")
    try:
        shutil.copyfile(snapshot.path, dest)
        for suffix in ("-wal",):
            side = snapshot.path.with_name(snapshot.path.name + suffix)
            if side.exists():
                shutil.copyfile(side, dest.with_name(dest.name + suffix))
    except OSError as err:
        raise SnapshotError(f"cannot copy {snapshot.name}: {err.strerror or err}") from err
    conn = sqlite3.connect(dest)
    try:
        # Reading the schema catches a bad header or a torn first page at once; damage deeper
        # in the file surfaces as an error in the check that reads it (never a crash).
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as err:
        raise SnapshotError(f"{snapshot.name} is corrupt or unreadable: {err}") from err
    finally:
        conn.close()


def snapshot_schema(snapshot: Snapshot, workdir: Path) -> Schema:
    """The schema a snapshot holds: parsed statically from a dump, read from a copy otherwise."""
    if snapshot.is_dump:
        try:
            text = snapshot.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise SnapshotError(f"cannot read dump {snapshot.name}: {err}") from err
        builder = SchemaBuilder(strict=False)
        for statement in parse_sql(text).statements:
            builder.apply(statement)
        return builder.schema
    copy = workdir / "schema-probe.sqlite"
    materialize(snapshot, copy)
    conn = sqlite3.connect(copy)
    try:
        return read_schema(conn)
    finally:
        conn.close()
