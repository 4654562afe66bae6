"""Run the app's own migration code against every legacy snapshot and prove nothing was lost.

For each snapshot, on copies in a temporary directory (the original is never written):
schema equals a fresh install's; every legacy row survives; integrity and foreign keys are
clean; a second run changes nothing; a run killed after any statement, then rerun, converges
to the uninterrupted result; records shaped like the routers' round-trip through the writer.

The originals (and their sidecars) are hashed with sha256 before the first run; after every
run of the entry point their ``stat`` is compared (and a file whose stat changed is hashed
again), and at the end every original is hashed again. A change is an ``error`` result of the
check ``original`` naming the file: an entry point that writes the files it was handed copies
of is reported, not trusted.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from harness.config import Config
from harness.errors import SnapshotError
from harness.migrations.compare import data_differences, integrity_problems, lost_rows, read
from harness.migrations.runner import RunOutcome, check_timeout, run_entry
from harness.migrations.snapshots import Snapshot, digest, materialize
from harness.sql.diff import diff_schemas
from harness.sql.schema import Schema

CHECKS = ("schema", "rows", "integrity", "idempotent", "crash-safe", "round-trip")
ORIGINAL = "original"  # not a selectable check: the result that reports a changed original
PASS, FAIL, ERROR, SKIP = "pass", "fail", "error", "skip"


@dataclass(frozen=True)
class Outcome:
    snapshot: str
    check: str
    status: str
    message: str
    details: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"snapshot": self.snapshot, "check": self.check, "status": self.status,
                "message": self.message, "details": list(self.details)}


@dataclass
class Timings:
    migration: float = 0.0
    total: float = 0.0
    per_check: dict[str, float] = field(default_factory=dict)


def _copy(src: Path, dest: Path) -> Path:
    shutil.copyfile(src, dest)
    return dest


def _signature(path: Path) -> tuple[int, ...] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


class Originals:
    """The snapshot files as they were before any run, to prove no run changed them.

    The stat signatures are taken at once; the sha256 digests in a background thread, so
    hashing large originals overlaps the fresh install (a file whose signature moves while
    it is hashed counts as changed). ``changed()`` compares stat signatures (cheap: after
    every run) and hashes again only the files whose signature moved; ``changed(full=True)``
    hashes every file again."""

    def __init__(self, snapshots: list[Snapshot]) -> None:
        self._owner: dict[Path, str] = {}
        for snapshot in snapshots:
            for path in snapshot.files():
                self._owner[path] = snapshot.name
        self._signature = {p: _signature(p) for p in self._owner}
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._digests = self._pool.submit(self._hash_all)
        self._pool.shutdown(wait=False)
        self._reported: set[Path] = set()
        self._lock = threading.Lock()

    def _hash_all(self) -> dict[Path, str]:
        out = {}
        for path, signature in self._signature.items():
            value = digest(path)
            out[path] = value if _signature(path) == signature else "changed while hashed"
        return out

    def changed(self, full: bool = False) -> list[Outcome]:
        out = []
        with self._lock:
            moved = [p for p, sig in self._signature.items() if p not in self._reported
                     and (full or _signature(p) != sig)]
            if not moved:
                return []  # no wait for the digests: hashing goes on beside the runs
            digests = self._digests.result()
            for path in moved:
                before = digests[path]
                after = digest(path)
                if after == before:
                    self._signature[path] = _signature(path)
                    continue
                self._reported.add(path)
                name = self._owner[path]
                out.append(Outcome(name, ORIGINAL, ERROR,
                                   f"the original {path.name} was changed during the run "
                                   f"(sha256 {before[:12]} -> {after[:12]}): the entry point "
                                   "wrote a file it was never given; results for it are "
                                   "not trustworthy", (str(path),)))
        return out


class Verifier:
    def __init__(self, config: Config, entry: str, checks: tuple[str, ...] = CHECKS,
                 max_crash_points: int = 200,
                 roundtrip: Callable[[Path, str], list[str] | None] | None = None) -> None:
        self.config = config
        self.entry = entry
        self.checks = checks
        self.max_crash_points = max_crash_points
        self.roundtrip = roundtrip
        self.timings = Timings()
        self._again: Future[tuple[Path, RunOutcome]] | None = None
        self._originals: Originals | None = None
        self._tampered: list[Outcome] = []
        check_timeout(config.timeout)

    def _run(self, db: Path, **kwargs: object) -> RunOutcome:
        outcome = run_entry(self.entry, db, self.config.root, self.config.timeout,
                            **kwargs)  # type: ignore[arg-type]
        if self._originals is not None:
            self._tampered.extend(self._originals.changed())
        return outcome

    def _tamper_reports(self, full: bool = False) -> list[Outcome]:
        if self._originals is not None and full:
            self._tampered.extend(self._originals.changed(full=True))
        out, self._tampered = self._tampered, []
        return out

    def verify(self, snapshots: list[Snapshot]) -> Iterator[Outcome]:
        import time

        start = time.perf_counter()
        self._originals = Originals(snapshots)
        with tempfile.TemporaryDirectory(prefix="dbharness-") as tmp:
            work = Path(tmp)
            fresh = work / "fresh.sqlite"
            outcome = self._run(fresh)
            fresh_schema: Schema | None = None
            fresh_error = None
            if outcome.ok and not fresh.exists():
                fresh_error = "fresh install: the entry point left no database file"
            elif outcome.ok:
                fresh_schema = read(fresh)
            else:
                fresh_error = f"fresh install failed: {outcome.describe()}"
            for index, snapshot in enumerate(snapshots):
                folder = work / f"s{index}"
                folder.mkdir()
                yield from self._verify_one(snapshot, folder, fresh_schema, fresh_error)
                yield from self._tamper_reports()
            yield from self._tamper_reports(full=True)
        self.timings.total = time.perf_counter() - start

    def _verify_one(self, snapshot: Snapshot, work: Path, fresh: Schema | None,
                    fresh_error: str | None) -> Iterator[Outcome]:
        name = snapshot.name
        migrated = work / "migrated.sqlite"
        try:
            materialize(snapshot, migrated, self.config.timeout)
        except SnapshotError as err:
            for check in self.checks:
                yield Outcome(name, check, ERROR, str(err))
            return
        # The legacy side of every comparison: the original file itself for binary snapshots
        # without sidecars (attached read-only and immutable, so it can never be written),
        # else a second copy of the recovered working copy.
        sidecar = bool(snapshot.sidecars())
        legacy = snapshot.path if not (snapshot.is_dump or sidecar) else _copy(
            migrated, work / "legacy.sqlite")
        first = self._run(migrated, count="crash-safe" in self.checks)
        self.timings.migration += first.seconds
        if not first.ok or not migrated.exists():
            why = first.describe() if not first.ok else "the entry point deleted the database"
            for check in self.checks:
                yield Outcome(name, check, ERROR, f"migrating {name}: {why}",
                              tuple(first.stderr.strip().splitlines()[-8:]))
            return
        try:
            migrated_schema = read(migrated)
        except sqlite3.DatabaseError as err:
            for check in self.checks:
                yield Outcome(name, check, ERROR, f"the migrated database is unreadable: {err}")
            return
        with ThreadPoolExecutor(max_workers=1) as pool:
            # The second run (copy + entry point in a subprocess) overlaps the comparisons.
            self._again = pool.submit(self._second_run, work, migrated) \
                if "idempotent" in self.checks else None
            for check in self.checks:
                try:
                    yield self._check(check, name, work, legacy, migrated, migrated_schema,
                                      fresh, fresh_error, first)
                except (sqlite3.Error, OSError, SnapshotError) as err:
                    yield Outcome(name, check, ERROR, f"{type(err).__name__}: {err}")

    def _check(self, check: str, name: str, work: Path, legacy: Path, migrated: Path,
               migrated_schema: Schema, fresh: Schema | None, fresh_error: str | None,
               first: RunOutcome) -> Outcome:
        import time

        start = time.perf_counter()
        try:
            if check == "schema":
                return self._schema(name, migrated_schema, fresh, fresh_error)
            if check == "rows":
                losses = lost_rows(legacy, migrated)
                if losses:
                    return Outcome(name, check, FAIL, f"legacy rows lost in {len(losses)} "
                                   f"table{'s' if len(losses) != 1 else ''}: "
                                   + "; ".join(str(x) for x in losses),
                                   tuple(str(x) for x in losses))
                return Outcome(name, check, PASS, "every legacy row survives")
            if check == "integrity":
                problems = integrity_problems(migrated)
                if problems:
                    return Outcome(name, check, FAIL, "integrity: " + "; ".join(problems),
                                   tuple(problems))
                return Outcome(name, check, PASS, "integrity_check and foreign_key_check clean")
            if check == "idempotent":
                return self._idempotent(name, work, migrated, migrated_schema)
            if check == "crash-safe":
                return self._crash_safe(name, work, legacy, migrated, migrated_schema, first)
            if check == "round-trip":
                return self._roundtrip(name, work, migrated)
            return Outcome(name, check, ERROR, f"unknown check {check}")
        finally:
            self.timings.per_check[check] = self.timings.per_check.get(check, 0.0) + (
                time.perf_counter() - start)

    def _schema(self, name: str, migrated: Schema, fresh: Schema | None,
                fresh_error: str | None) -> Outcome:
        if fresh is None:
            return Outcome(name, "schema", ERROR, fresh_error or "no fresh install")
        changes = diff_schemas(fresh, migrated)
        if changes:
            details = tuple(str(c).replace("added", "only upgraded has").replace(
                "removed", "upgraded lacks") for c in changes)
            return Outcome(name, "schema", FAIL,
                           "upgraded schema differs from a fresh install: " + "; ".join(details),
                           details)
        return Outcome(name, "schema", PASS, "upgraded schema equals a fresh install")

    def _second_run(self, work: Path, migrated: Path) -> tuple[Path, RunOutcome]:
        again = _copy(migrated, work / "again.sqlite")
        return again, self._run(again)

    def _idempotent(self, name: str, work: Path, migrated: Path, schema: Schema) -> Outcome:
        if self._again is None:
            self._again = Future()
            self._again.set_result(self._second_run(work, migrated))
        again, outcome = self._again.result()
        if not outcome.ok:
            return Outcome(name, "idempotent", FAIL, f"a second run fails: {outcome.describe()}")
        changes = [str(c) for c in diff_schemas(schema, read(again))]
        changes += data_differences(migrated, again)
        if changes:
            return Outcome(name, "idempotent", FAIL, "a second run changes the database: "
                           + "; ".join(changes), tuple(changes))
        return Outcome(name, "idempotent", PASS, "a second run changes nothing")

    def _crash_safe(self, name: str, work: Path, legacy: Path, migrated: Path,
                    schema: Schema, first: RunOutcome) -> Outcome:
        total = first.statements or 0
        if total == 0:
            return Outcome(name, "crash-safe", PASS, "the migration executes no statement")
        points = list(range(1, total + 1))
        if len(points) > self.max_crash_points:
            step = len(points) / self.max_crash_points
            points = sorted({points[int(i * step)] for i in range(self.max_crash_points)})
        for k in points:
            crashed = _copy(legacy, work / "crash.sqlite")
            for side in ("-journal", "-wal", "-shm"):
                work.joinpath("crash.sqlite" + side).unlink(missing_ok=True)
            killed = self._run(crashed, kill_at=k)
            if not killed.killed and not killed.ok:
                return Outcome(name, "crash-safe", FAIL,
                               f"run killed at statement {k}: {killed.describe()}")
            rerun = self._run(crashed)
            if not rerun.ok:
                return Outcome(name, "crash-safe", FAIL,
                               f"after a crash at statement {k} of {total}, the rerun fails: "
                               f"{rerun.describe()}")
            changes = [str(c) for c in diff_schemas(schema, read(crashed))]
            changes += data_differences(migrated, crashed)
            if changes:
                return Outcome(name, "crash-safe", FAIL,
                               f"killed after statement {k - 1} of {total} and rerun, the "
                               "database differs from an uninterrupted run: " + "; ".join(changes),
                               tuple(changes))
        return Outcome(name, "crash-safe", PASS,
                       f"killed at each of {len(points)} statement(s) and rerun: converges")

    def _roundtrip(self, name: str, work: Path, migrated: Path) -> Outcome:
        if self.roundtrip is None:
            return Outcome(name, "round-trip", SKIP, "no contract names a writer to round-trip")
        target = _copy(migrated, work / "roundtrip.sqlite")
        problems = self.roundtrip(target, name)
        if problems is None:
            return Outcome(name, "round-trip", SKIP, "no contract names a writer to round-trip")
        if problems:
            return Outcome(name, "round-trip", FAIL, "; ".join(problems), tuple(problems))
        return Outcome(name, "round-trip", PASS, "records written through the writer read back "
                       "with every key intact")
