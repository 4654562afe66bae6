"""Run the app's own migration code against every legacy snapshot and prove nothing was lost.

For each snapshot, on copies in a temporary directory (the original is never written):
schema equals a fresh install's; every legacy row survives; integrity and foreign keys are
clean; a second run changes nothing; a run killed after any statement, then rerun, converges
to the uninterrupted result; records shaped like the routers' round-trip through the writer.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from harness.config import Config
from harness.errors import SnapshotError
from harness.migrations.compare import data_differences, integrity_problems, lost_rows, read
from harness.migrations.runner import RunOutcome, run_entry
from harness.migrations.snapshots import Snapshot, materialize
from harness.sql.diff import diff_schemas
from harness.sql.schema import Schema

CHECKS = ("schema", "rows", "integrity", "idempotent", "crash-safe", "round-trip")
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

    def _run(self, db: Path, **kwargs: object) -> RunOutcome:
        outcome = run_entry(self.entry, db, self.config.root, self.config.timeout,
                            **kwargs)  # type: ignore[arg-type]
        return outcome

    def verify(self, snapshots: list[Snapshot]) -> Iterator[Outcome]:
        import time

        start = time.perf_counter()
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
        self.timings.total = time.perf_counter() - start

    def _verify_one(self, snapshot: Snapshot, work: Path, fresh: Schema | None,
                    fresh_error: str | None) -> Iterator[Outcome]:
        name = snapshot.name
        migrated = work / "migrated.sqlite"
        try:
            materialize(snapshot, migrated)
        except SnapshotError as err:
            for check in self.checks:
                yield Outcome(name, check, ERROR, str(err))
            return
        # The legacy side of every comparison: the original file itself for binary snapshots
        # (attached read-only and immutable, so it can never be written), else a second copy.
        sidecar = snapshot.path.with_name(snapshot.path.name + "-wal").exists()
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
