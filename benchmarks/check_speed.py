"""Benchmark ``dbharness check`` against the floor: reading and ``ast.parse``-ing every file once.

    .venv/bin/python benchmarks/check_speed.py --lines 500000 [--seed 7] [--jobs N]

Generates a synthetic project (benchmarks/generate_project.py, reproducible by seed) and, in
one run on the same files, measures:

* floor: read + ``ast.parse`` of every Python file once, in one process;
* cold: ``dbharness check`` with an empty cache (a real subprocess, interpreter start included);
* warm: again, nothing changed;
* touched: again after one file's content changed;
* peak memory (max RSS of the check process and of any worker).

Ratios are to the floor measured in the same round (floor, cold, warm, touched alternate, so
a busy neighbour on a shared machine slows both sides of a ratio alike); the table shows the
median over ``--repeat`` rounds of each ratio, and of each absolute time.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate_project import generate  # noqa: E402

PYTHON = sys.executable  # --python: another interpreter, e.g. a venv with dbharness[fast]
# The caches of the measured runs (DBHARNESS_CACHE_DIR): emptied for each cold run, never the
# user's own cache directory.
CACHE = Path(tempfile.mkdtemp(prefix="dbh-speed-cache-"))

RUNNER = r"""
import json, resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
elapsed = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": elapsed, "rc": proc.returncode, "maxrss_kb": usage.ru_maxrss,
                  "cpu": usage.ru_utime + usage.ru_stime, "stderr": proc.stderr[-2000:]}))
"""


def floor(root: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of reading and parsing every file once."""
    start, cpu = time.perf_counter(), time.process_time()
    for path in sorted(root.rglob("*.py")):
        ast.parse(path.read_bytes(), filename=str(path))
    return time.perf_counter() - start, time.process_time() - cpu


def check(root: Path, jobs: int | None) -> dict[str, float]:
    cmd = [PYTHON, "-m", "harness", "check", "--exit-zero", "--stats"]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    out = subprocess.run([sys.executable, "-c", RUNNER, *cmd], cwd=root, capture_output=True,
                         text=True, check=True, env={**os.environ,
                                                     "PYTHONPATH": str(HERE.parent),
                                                     "DBHARNESS_CACHE_DIR": str(CACHE)})
    data = json.loads(out.stdout)
    if data["rc"] != 0:
        raise SystemExit(f"dbharness failed: {data['stderr']}")
    data["stats"] = data["stderr"].strip().splitlines()[-1]
    return data


def median_of(runs: list[dict[str, float]]) -> float:
    return statistics.median(r["seconds"] for r in runs)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="generate into (and keep) this directory")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter that runs dbharness (e.g. one with sqlglotc)")
    args = parser.parse_args()
    global PYTHON
    PYTHON = args.python
    tmp = None
    if args.keep:
        root = args.keep
    else:
        tmp = tempfile.TemporaryDirectory(prefix="dbh-speed-")
        root = Path(tmp.name)
    try:
        if not (root / "app").is_dir():
            total = generate(root, args.lines, args.seed)
        else:
            total = sum(p.read_text().count("\n") for p in root.rglob("*.py"))
        files = len(list(root.rglob("*.py")))
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
              f"{platform.python_version()}; project: {total:,} lines in {files:,} files "
              f"(seed {args.seed})")
        # Floor and check alternate, so a busy neighbour on this shared machine slows both
        # alike; each ratio is taken within one round, and the table shows their medians.
        floors, colds, warms, touched = [], [], [], []
        for _ in range(args.repeat):
            floors.append(floor(root))
            shutil.rmtree(CACHE, ignore_errors=True)
            colds.append(check(root, args.jobs))
            warms.append(check(root, args.jobs))
            victim = next(iter(sorted((root / "app").rglob("m0.py"))))
            victim.write_text(victim.read_text() + "\n\ndef touched():\n    return 1\n")
            touched.append(check(root, args.jobs))
        base = statistics.median(f[0] for f in floors)
        base_cpu = statistics.median(f[1] for f in floors)
        rows = [("floor: read + ast.parse, 1 process", None),
                ("dbharness check, cold", colds),
                ("dbharness check, warm (nothing changed)", warms),
                ("dbharness check, one file touched", touched)]
        print(f"{'measurement':<42}{'seconds':>9}{'x floor':>9}{'CPU s':>8}{'x floor':>9}"
              f"{'peak RSS':>11}")
        for label, runs in rows:
            if runs is None:
                print(f"{label:<42}{base:>9.2f}{1:>9.2f}{base_cpu:>8.2f}{1:>9.2f}")
                continue
            ratio = statistics.median(r["seconds"] / f[0] for r, f in zip(runs, floors))
            cpu_ratio = statistics.median(r["cpu"] / f[1] for r, f in zip(runs, floors))
            rss = f"{max(r['maxrss_kb'] for r in runs) / 1024:.0f} MiB"
            print(f"{label:<42}{median_of(runs):>9.2f}{ratio:>9.2f}"
                  f"{statistics.median(r['cpu'] for r in runs):>8.2f}{cpu_ratio:>9.2f}{rss:>11}")
        print("floors of the rounds:", ", ".join(f"{f[0]:.2f}" for f in floors))
        print("last cold run:", colds[-1]["stats"])
    finally:
        shutil.rmtree(CACHE, ignore_errors=True)
        if tmp is not None:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
