"""End to end on a generated project of realistic shape: exactly the planted stray keys are
reported (no false alarms from thousands of ordinary dicts), and the cache changes nothing."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest

from harness.check import run_check
from harness.config import Config


def generate(root: Path, lines: int, seed: int) -> Any:
    """benchmarks/generate_project.py, loaded by path (benchmarks/ is no package)."""
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "generate_project.py"
    spec = importlib.util.spec_from_file_location("generate_project", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate(root, lines, seed)


def _planted(root: Path) -> set[tuple[str, str]]:
    found = set()
    for path in root.rglob("*.py"):
        for key in re.findall(r'"(stray_\w+)"', path.read_text(encoding="utf-8")):
            found.add((path.relative_to(root).as_posix(), key))
    return found


@pytest.mark.parametrize("seed", [3, 11])
@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_exactly_the_planted_stray_keys(tmp_path: Path, seed: int) -> None:
    generate(tmp_path, 12_000, seed)
    planted = _planted(tmp_path)
    assert planted, "the seed must plant at least one stray key"
    result = run_check(Config.from_sources(tmp_path, jobs=1))
    got = {(d.path, d.key) for d in result.diagnostics}
    assert all(d.rule == "key-without-column" for d in result.diagnostics), [
        str(d) for d in result.diagnostics]
    assert got == {(p, k) for p, k in planted}
    warm = run_check(Config.from_sources(tmp_path, jobs=1))
    assert warm.stats.extracted == 0 and warm.diagnostics == result.diagnostics


@pytest.mark.slow
def test_parallel_extraction_matches_serial(tmp_path: Path) -> None:
    generate(tmp_path, 60_000, 5)
    serial = run_check(Config.from_sources(tmp_path, jobs=1, cache=False))
    parallel = run_check(Config.from_sources(tmp_path, jobs=2, cache=False))
    assert serial.diagnostics == parallel.diagnostics


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_speed_benchmark_prints_its_table(tmp_path: Path) -> None:
    """benchmarks/check_speed.py end to end on a tiny project (numbers are not asserted:
    the machines are shared; the script must run and report every row)."""
    import subprocess
    import sys

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "check_speed.py"
    out = subprocess.run([sys.executable, str(script), "--lines", "3000", "--repeat", "1",
                          "--keep", str(tmp_path / "proj")], capture_output=True, text=True,
                         check=True, timeout=300).stdout
    for row in ("floor: read + ast.parse", "cold", "warm (nothing changed)",
                "one file touched", "floors of the rounds"):
        assert row in out, out
