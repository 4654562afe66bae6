"""The reference app in each state of the seed's fix (shared/seed): what the check reports."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.check import run_check
from harness.config import Config

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "modelforge"  # the fixed app, checked by the repo's own config
PRE_FIX = REPO / "examples" / "modelforge-before-fix"  # the seed's app, a project of its own
DB = "modelforge/utilities/db_manager.py"
ROUTER = "modelforge/routers/finetuning_router.py"

COLUMN = "    model_path TEXT NOT NULL,\n    is_custom_base_model BOOLEAN DEFAULT 0\n"
NO_COLUMN = "    model_path TEXT NOT NULL\n"
INSERT_COLS = ",\n                 is_custom_base_model)"
INSERT_VALUES = "VALUES (?, ?, ?, ?, ?, ?, ?)"
INSERT_PARAM = '                model_data.get("is_custom_base_model", False),\n'
SELECT_COL = ', model_path, "\n            "is_custom_base_model FROM'
MIGRATION_START = "        try:\n            self.cursor.execute(\"SELECT is_custom_base_model"
MIGRATION_END = "        self.cursor.execute(f\"PRAGMA user_version"


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"the reference app changed: {old!r} is gone from {rel}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _without_migration(root: Path) -> None:
    path = root / DB
    text = path.read_text(encoding="utf-8")
    start, end = text.index(MIGRATION_START), text.index(MIGRATION_END)
    path.write_text(text[:start] + text[end:], encoding="utf-8")


def _state(tmp_path: Path, column: bool, insert: bool) -> Path:
    root = tmp_path / "app"
    shutil.copytree(EXAMPLE, root / "modelforge")
    if not column:
        _edit(root, DB, COLUMN, NO_COLUMN)
        _edit(root, DB, SELECT_COL, ', model_path "\n            "FROM')
        _without_migration(root)
    if not insert:
        _edit(root, DB, INSERT_COLS, ")")
        _edit(root, DB, INSERT_VALUES, "VALUES (?, ?, ?, ?, ?, ?)")
        _edit(root, DB, INSERT_PARAM, "")
    return root


def _check(root: Path) -> list[tuple[str, str, int, str | None]]:
    result = run_check(Config.from_sources(root, cache=False))
    return [(d.rule, d.path, d.line, d.key or d.column) for d in result.diagnostics]


def _router_line(root: Path, needle: str) -> int:
    lines = (root / ROUTER).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def test_fixed_state_is_clean(tmp_path: Path) -> None:
    assert _check(_state(tmp_path, column=True, insert=True)) == []


def test_buggy_state_reports_the_seed_bug_at_the_router(tmp_path: Path) -> None:
    root = _state(tmp_path, column=False, insert=False)
    line = _router_line(root, '"is_custom_base_model"')
    assert _check(root) == [("key-without-column", ROUTER, line, "is_custom_base_model")]


def test_column_added_but_insert_unchanged(tmp_path: Path) -> None:
    root = _state(tmp_path, column=True, insert=False)
    line = _router_line(root, '"is_custom_base_model"')
    assert _check(root) == [("key-not-written", ROUTER, line, "is_custom_base_model")]


def test_insert_changed_but_no_column(tmp_path: Path) -> None:
    root = _state(tmp_path, column=False, insert=True)
    got = _check(root)
    assert [(r, p, k) for r, p, _, k in got] == [("unknown-column", DB, "is_custom_base_model")]


def test_bundled_example_via_project_config() -> None:
    """The repository's own [tool.dbharness] points at the example: the README's first command."""
    root = Path(__file__).resolve().parent.parent
    result = run_check(Config.from_sources(root, cache=False))
    assert result.diagnostics == ()
    assert {b.table for b in result.model.bindings} == {"fine_tuned_models", "training_runs"}


def test_buggy_state_suggests_the_exact_alter(tmp_path: Path) -> None:
    root = _state(tmp_path, column=False, insert=False)
    result = run_check(Config.from_sources(root, cache=False))
    (d,) = result.diagnostics
    assert d.fix is not None and d.fix.startswith(
        "ALTER TABLE fine_tuned_models ADD COLUMN is_custom_base_model BOOLEAN DEFAULT 0")


SNAPSHOTS = EXAMPLE.parent.parent / "contracts" / "snapshots"


def test_column_and_insert_but_no_migration_breaks_old_databases(tmp_path: Path) -> None:
    root = _state(tmp_path, column=True, insert=True)
    shutil.copytree(SNAPSHOTS, root / "contracts" / "snapshots")
    assert _check(root) == []  # with the migration, old databases get the column
    _without_migration(root)
    got = run_check(Config.from_sources(root, cache=False)).diagnostics
    assert sorted({(d.rule, d.column) for d in got}) == [
        ("missing-migration", "is_custom_base_model")]
    assert {d.message.split(" never")[0] for d in got} == {
        "databases like snapshot contracts/snapshots/v1_1_runs.sqlite",
        "databases like snapshot contracts/snapshots/v1_pre_fix.sql"}
    assert all(d.path == DB and "ALTER TABLE fine_tuned_models ADD COLUMN is_custom_base_model "
               "BOOLEAN DEFAULT 0" in (d.fix or "") for d in got)


def test_corrupt_snapshot_is_reported_by_check(tmp_path: Path) -> None:
    root = _state(tmp_path, column=True, insert=True)
    (root / "contracts" / "snapshots").mkdir(parents=True)
    (root / "contracts" / "snapshots" / "broken.sqlite").write_bytes(b"garbage" * 20)
    got = run_check(Config.from_sources(root, cache=False)).diagnostics
    assert [(d.rule, d.path) for d in got] == [
        ("file-error", "contracts/snapshots/broken.sqlite")]


def test_bundled_pre_fix_app_reports_the_seed_bug_with_its_fix() -> None:
    result = run_check(Config.from_sources(PRE_FIX, cache=False))
    line = _router_line(PRE_FIX, '"is_custom_base_model"')
    assert [(d.rule, d.path, d.line, d.key) for d in result.diagnostics] == [
        ("key-without-column", ROUTER, line, "is_custom_base_model")]
    (d,) = result.diagnostics
    assert d.fix is not None and d.fix.startswith(
        "ALTER TABLE fine_tuned_models ADD COLUMN is_custom_base_model BOOLEAN DEFAULT 0")


def test_bundled_pre_fix_app_is_the_fixed_app_without_the_fix(tmp_path: Path) -> None:
    """The two bundled states agree with the fix undone by hand on a copy of the fixed app."""
    undone = _state(tmp_path, column=False, insert=False)
    assert _check(PRE_FIX) == _check(undone)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", "check", "--no-cache", *args],
                          cwd=REPO, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_quick_start_shows_the_bug_then_the_fixed_app_clean() -> None:
    """The README's first quick-start command, on the two bundled states, from the repo root."""
    before = _cli("--config", "examples/modelforge-before-fix/pyproject.toml")
    assert before.returncode == 1, before.stderr
    assert f"{ROUTER}:" in before.stdout
    assert "DBH201 [key-without-column] key 'is_custom_base_model'" in before.stdout
    assert ("    fix: ALTER TABLE fine_tuned_models ADD COLUMN is_custom_base_model BOOLEAN "
            "DEFAULT 0" in before.stdout)
    after = _cli()
    assert after.returncode == 0, after.stdout + after.stderr
    assert "no problems" in after.stdout + after.stderr
