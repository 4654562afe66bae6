"""Legacy database snapshots: find them, and make working copies (originals are never opened
for writing, or opened at all: every check runs on a copy)."""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ConfigError, SnapshotError
from harness.paths import inside_root
from harness.sql.ddl import SchemaBuilder
from harness.sql.live import read_schema
from harness.sql.parse import parse_sql
from harness.sql.schema import Schema

SQLITE_HEADER = b"SQLite format 3\x00"
BINARY = (".sqlite", ".sqlite3", ".db")
DUMP = (".sql",)
# Files SQLite keeps beside a database (https://sqlite.org/tempfiles.html): a hot rollback
# journal or an uncheckpointed WAL holds part of the database's committed state.
SIDECARS = ("-journal", "-wal", "-shm")
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Snapshot:
    path: Path
    name: str

    @property
    def is_dump(self) -> bool:
        return self.path.suffix.lower() in DUMP

    def sidecars(self) -> list[Path]:
        """The sidecar files present beside the snapshot: regular files, never symlinks (a
        sidecar is SQLite's own file, so a symlinked one is not followed anywhere)."""
        found = []
        for suffix in SIDECARS:
            side = self.path.with_name(self.path.name + suffix)
            try:
                if stat.S_ISREG(os.lstat(side).st_mode):
                    found.append(side)
            except OSError:
                continue
        return found

    def files(self) -> list[Path]:
        """The snapshot file and its sidecars: what a run must never change."""
        return [self.path, *self.sidecars()]


@dataclass(frozen=True)
class Skipped:
    """A file the snapshots glob matched but that is not read, and why."""

    name: str
    reason: str


@dataclass(frozen=True)
class Discovery:
    snapshots: tuple[Snapshot, ...]
    skipped: tuple[Skipped, ...]


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def check_pattern(pattern: str) -> None:
    """A snapshots glob from the configuration must stay under the project root: relative,
    with no ``..`` component. Raises ConfigError naming the key otherwise."""
    parts = Path(pattern).parts
    if Path(pattern).is_absolute() or pattern.startswith("~") or ".." in parts:
        raise ConfigError(f"snapshots = {pattern!r} reaches outside the project root: give a "
                          "glob relative to the root (e.g. 'contracts/snapshots/*'), or pass "
                          "--snapshots on the command line")


def scan(pattern: str, root: Path, *, trusted: bool = False) -> Discovery:
    """Snapshot files matching ``pattern`` (a glob, ``**`` recursive, relative to ``root``).

    Unless ``trusted`` (a glob the user typed on the command line), the glob must stay under
    the root (:func:`check_pattern`, ConfigError) and a match whose real path (symlinks
    resolved) is outside the root is skipped. Only regular files are ever read: a FIFO, a
    device or a directory is skipped whatever its name."""
    if not trusted:
        check_pattern(pattern)
    full = pattern if Path(pattern).is_absolute() else str(root / pattern)
    found, skipped = [], []
    for match in sorted(glob.glob(full, recursive=True)):
        path = Path(match)
        if path.suffix.lower() not in BINARY + DUMP:
            continue
        try:
            name = path.relative_to(root).as_posix()
        except ValueError:
            name = path.as_posix()
        if not trusted and not inside_root(path, root):
            skipped.append(Skipped(name, "it resolves to a file outside the project root "
                                         "(a symlink out of the tree is not followed)"))
            continue
        if not _regular(path):
            if path.is_dir():
                continue
            skipped.append(Skipped(name, "not a regular file"))
            continue
        found.append(Snapshot(path, name))
    return Discovery(tuple(found), tuple(skipped))


def discover(pattern: str, root: Path, *, trusted: bool = False) -> list[Snapshot]:
    """The snapshots :func:`scan` finds (skipped files left out)."""
    return list(scan(pattern, root, trusted=trusted).snapshots)


def digest(path: Path) -> str:
    """sha256 of a file's bytes, hex; ``"missing"`` when it cannot be read."""
    h = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    except OSError:
        return "missing"
    return h.hexdigest()


def materialize(snapshot: Snapshot, dest: Path, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Write a working copy of ``snapshot`` at ``dest`` (a new SQLite file).

    A dump is loaded in the timed child process (:mod:`harness.migrations.dumpload`; at most
    ``timeout`` seconds). A binary snapshot is copied with its ``-journal``/``-wal``/``-shm``
    sidecars, so SQLite rolls a hot journal back (or replays the WAL) on the copy, exactly as
    it would on the original; then the copy is opened once, which does that recovery.
    Raises SnapshotError with a one-line message naming the snapshot."""
    for suffix in ("", *SIDECARS):
        dest.with_name(dest.name + suffix).unlink(missing_ok=True)
    if snapshot.is_dump:
        _load_dump(snapshot, dest, timeout)
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
        for sidecar in snapshot.sidecars():
            tail = sidecar.name[len(snapshot.path.name):]
            shutil.copyfile(sidecar, dest.with_name(dest.name + tail))
    except OSError as err:
        raise SnapshotError(f"cannot copy {snapshot.name}: {err.strerror or err}") from err
    conn = sqlite3.connect(dest)
    try:
        conn.execute("PRAGMA trusted_schema = OFF")
        # Reading the schema catches a bad header or a torn first page at once (and rolls a
        # hot journal back); damage deeper in the file surfaces as an error in the check that
        # reads it (never a crash).
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as err:
        raise SnapshotError(f"{snapshot.name} is corrupt or unreadable: {err}") from err
    finally:
        conn.close()


def _load_dump(snapshot: Snapshot, dest: Path, timeout: float) -> None:
    from harness.migrations.runner import run_child

    # The child's own time bound ends a little before the parent's kill, so a slow statement
    # is named in the message; the parent's timeout still bounds everything.
    budget = max(timeout * 0.8, timeout - 1.0)
    here = str(Path(__file__).resolve().parents[2])
    outcome, _ = run_child(["--load-dump", str(snapshot.path), str(dest), "--seconds",
                            repr(budget)], dest.parent, timeout, pythonpath=[here])
    if outcome.timed_out:
        raise SnapshotError(f"dump {snapshot.name} did not load within {timeout:g} s "
                            "(killed)")
    if outcome.returncode != 0:
        lines = [line for line in outcome.stderr.splitlines() if line.strip()]
        why = lines[-1].strip() if lines else f"the loader exited with {outcome.returncode}"
        raise SnapshotError(f"dump {snapshot.name}: {why}")
    if not dest.exists():
        raise SnapshotError(f"dump {snapshot.name}: the loader left no database")


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
