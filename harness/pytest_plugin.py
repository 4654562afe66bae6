"""pytest plugin: the static check and the migration checks as test items, plus fixtures.

Active when the project's pyproject.toml has ``[tool.dbharness]``, or with ``--dbharness``;
``-p no:dbharness`` turns it off. A thin layer: all the work is in ``harness.check`` and
``harness.migrations.verify``, which run the same way without pytest.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.check import CheckResult, run_check
from harness.config import Config
from harness.diagnostics import Diagnostic
from harness.migrations.snapshots import Snapshot, discover, materialize
from harness.migrations.verify import CHECKS, FAIL, ORIGINAL, Outcome, Verifier
from harness.report import format_text
from harness.sql.schema import Schema

_CHECK_KEY = pytest.StashKey[CheckResult]()
_OUTCOMES_KEY = pytest.StashKey[dict[str, dict[str, Outcome]]]()
_CONFIG_KEY = pytest.StashKey[Config]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dbharness")
    group.addoption("--dbharness", action="store_true",
                    help="add dbharness check and migration items (default when "
                         "[tool.dbharness] is configured)")
    group.addoption("--dbharness-no-migrations", action="store_true",
                    help="only the static check, no migration items")
    parser.addini("dbharness_checks", "migration checks to run as items (comma-separated)",
                  default=",".join(CHECKS))


def _active(config: pytest.Config) -> bool:
    if config.getoption("--dbharness"):
        return True
    return _harness_config(config).found_config


def _harness_config(config: pytest.Config) -> Config:
    if _CONFIG_KEY not in config.stash:
        config.stash[_CONFIG_KEY] = Config.from_sources(Path(str(config.rootpath)))
    return config.stash[_CONFIG_KEY]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "dbharness: items added by the dbharness plugin")


class DbharnessFailure(AssertionError):
    """One failure type for every dbharness item, with labelled context blocks."""


class CheckItem(pytest.Item):
    """The static check for one file: fails when the file has findings."""

    def __init__(self, *, path_label: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path_label = path_label
        self.add_marker("dbharness")

    def runtest(self) -> None:
        result = _check_result(self.config)
        mine = [d for d in result.diagnostics if d.path == self.path_label]
        if mine:
            raise DbharnessFailure(mine)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, DbharnessFailure):
            diags: list[Diagnostic] = excinfo.value.args[0]
            root = _harness_config(self.config).root
            return format_text(diags, root, show_source=True)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"dbharness check: {self.path_label}"


class MigrationItem(pytest.Item):
    """One migration check on one legacy snapshot."""

    def __init__(self, *, snapshot: Snapshot, check: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.snapshot = snapshot
        self.check = check
        self.add_marker("dbharness")
        self.add_marker(pytest.mark.xdist_group(f"dbharness-{snapshot.name}"))

    def runtest(self) -> None:
        outcomes = _outcomes(self.config, self.snapshot)
        if ORIGINAL in outcomes:  # a run changed the original: no result of it is trusted
            raise DbharnessFailure(outcomes[ORIGINAL])
        outcome = outcomes[self.check]
        if outcome.status == "skip":
            pytest.skip(outcome.message)
        if outcome.status != "pass":
            raise DbharnessFailure(outcome)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, DbharnessFailure):
            o: Outcome = excinfo.value.args[0]
            note = "" if o.status == FAIL else " (the check could not run)"
            lines = [f"Snapshot: {o.snapshot}", f"Check: {o.check}", f"Status: {o.status}{note}",
                     f"Message: {o.message}"]
            if o.details:
                lines.append("Details:")
                lines.extend(f"  {d}" for d in o.details)
            return "\n".join(lines)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.snapshot.path, 0, f"dbharness migrations: {self.snapshot.name} {self.check}"


def _check_result(config: pytest.Config) -> CheckResult:
    if _CHECK_KEY not in config.stash:
        config.stash[_CHECK_KEY] = run_check(_harness_config(config))
    return config.stash[_CHECK_KEY]


def _outcomes(config: pytest.Config, snapshot: Snapshot) -> dict[str, Outcome]:
    """Verify a snapshot once per process (each xdist worker works on its own copies)."""
    cache = config.stash.setdefault(_OUTCOMES_KEY, {})
    if snapshot.name not in cache:
        hc = _harness_config(config)
        assert hc.entry is not None
        checks = _checks(config)
        roundtrip = None
        if "round-trip" in checks:
            from harness.migrations.roundtrip import make_roundtrip

            roundtrip = make_roundtrip(hc, _check_result(config).model)
        verifier = Verifier(hc, hc.entry, checks, roundtrip=roundtrip)
        cache[snapshot.name] = {o.check: o for o in verifier.verify([snapshot])}
    return cache[snapshot.name]


def _checks(config: pytest.Config) -> tuple[str, ...]:
    raw = str(config.getini("dbharness_checks"))
    return tuple(c.strip() for c in raw.split(",") if c.strip() in CHECKS)


class DbharnessCollector(pytest.Collector):
    def collect(self) -> Iterator[pytest.Item]:
        hc = _harness_config(self.config)
        result = _check_result(self.config)
        labels = sorted({f.path for f in result.model.files}
                        | {d.path for d in result.diagnostics if d.path != "."})
        for label in labels:
            yield CheckItem.from_parent(self, name=f"check[{label}]", path_label=label,
                                        path=hc.root / label)
        if self.config.getoption("--dbharness-no-migrations") or not hc.entry:
            return
        for snapshot in discover(hc.snapshots, hc.root):
            for check in _checks(self.config):
                yield MigrationItem.from_parent(self, name=f"migrations[{snapshot.name}-{check}]",
                                                snapshot=snapshot, check=check)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    if not _active(config):
        return
    explicit = [a for a in map(str, config.invocation_params.args)
                if "::" in a or (not a.startswith("-") and Path(a).exists())]
    if explicit and not config.getoption("--dbharness"):
        return  # the user asked for specific tests: do not add the project-wide items
    collector = DbharnessCollector.from_parent(session, name="dbharness", nodeid="dbharness")
    items.extend(collector.collect())


# --- fixtures ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def dbharness_config(request: pytest.FixtureRequest) -> Config:
    """The resolved dbharness configuration of the project under test."""
    return _harness_config(request.config)


@pytest.fixture(scope="session")
def dbharness_schema(request: pytest.FixtureRequest) -> Schema:
    """The schema the project's DDL declares, built statically."""
    return _check_result(request.config).model.schema


def _run_entry_on(config: Config, db: Path) -> Path:
    from harness.migrations.runner import run_entry

    if not config.entry:
        pytest.skip("no migration entry point configured ([tool.dbharness] entry)")
    outcome = run_entry(config.entry, db, config.root, config.timeout)
    if not outcome.ok:
        pytest.fail(f"running {config.entry} on {db.name}: {outcome.describe()}")
    return db


@pytest.fixture
def fresh_db(dbharness_config: Config, tmp_path: Path) -> Path:
    """A database created by the app's own entry point from nothing (a fresh install)."""
    return _run_entry_on(dbharness_config, tmp_path / "fresh.sqlite")


@pytest.fixture
def legacy_db(request: pytest.FixtureRequest, dbharness_config: Config, tmp_path: Path) -> Path:
    """A temporary copy of one legacy snapshot, migrated by the app's own entry point
    (parametrized over every snapshot)."""
    snapshot: Snapshot = request.param
    db = tmp_path / "legacy.sqlite"
    materialize(snapshot, db, dbharness_config.timeout)
    return _run_entry_on(dbharness_config, db)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "legacy_db" in metafunc.fixturenames:
        hc = _harness_config(metafunc.config)
        snapshots = discover(hc.snapshots, hc.root)
        metafunc.parametrize("legacy_db", snapshots, indirect=True,
                             ids=[s.name for s in snapshots])


def copy_snapshot(snapshot: Snapshot, dest: Path) -> Path:
    """For user fixtures: a plain copy of a snapshot (not migrated)."""
    materialize(snapshot, dest)
    return dest

