"""Benchmark ``dbharness check`` against the floor: reading and ``ast.parse``-ing every file once.

    .venv/bin/python benchmarks/check_speed.py --lines 500000 [--seed 7] [--jobs N]
    .venv/bin/python benchmarks/check_speed.py --tree DIR [--touch REL] [--repeat 3]

Input: a synthetic project (benchmarks/generate_project.py, reproducible by seed), or any
real tree (``--tree``: copied to a temporary folder first, since the touched round edits a
file; the original is never written). In one run on the same files it measures:

* floor: read + ``ast.parse`` of every Python file ``check`` reads (its own discovery, so
  excluded folders count on neither side), in one process;
* cold: ``dbharness check`` with an empty cache (a real subprocess, interpreter start included);
* warm: again, nothing changed;
* touched: again after one file's content changed (``--touch``; default: the largest file);
* peer: ``pyflakes`` on the same files (one process; a benchmark-only dependency, never a
  runtime one: skipped with a note when it is not installed);
* peak memory (max RSS of the check process and of any worker).

Ratios are to the floor measured in the same round (floor, cold, warm, touched and peer
alternate, so a busy neighbour on a shared machine slows both sides of a ratio alike); the
table shows the median over ``--repeat`` rounds of each ratio, and of each absolute time.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib.util
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
sys.path.insert(0, str(HERE.parent))

from generate_project import generate  # noqa: E402

from harness.config import Config  # noqa: E402
from harness.discovery import discover  # noqa: E402

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

Run = dict[str, float]


def python_files(root: Path) -> list[Path]:
    """The Python files ``check`` reads in ``root`` (its discovery and configuration)."""
    config = Config.from_sources(root)
    return sorted(p for p in discover(config) if p.suffix == ".py")


def floor(files: list[Path]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of reading and parsing every file once (a file that is
    not Python 3 costs its failed parse, as in ``check``)."""
    start, cpu = time.perf_counter(), time.process_time()
    for path in files:
        with contextlib.suppress(SyntaxError, ValueError, RecursionError, MemoryError):
            ast.parse(path.read_bytes(), filename=str(path))
    return time.perf_counter() - start, time.process_time() - cpu


def measured(cmd: list[str], root: Path) -> Run:
    out = subprocess.run([sys.executable, "-c", RUNNER, *cmd], cwd=root, capture_output=True,
                         text=True, check=True, env={**os.environ,
                                                     "PYTHONPATH": str(HERE.parent),
                                                     "DBHARNESS_CACHE_DIR": str(CACHE)})
    data: Run = json.loads(out.stdout)
    return data


def check(root: Path, jobs: int | None) -> Run:
    cmd = [PYTHON, "-m", "harness", "check", "--exit-zero", "--stats"]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    data = measured(cmd, root)
    if data["rc"] != 0:
        raise SystemExit(f"dbharness failed: {data['stderr']}")
    data["stats"] = data["stderr"].strip().splitlines()[-1]  # type: ignore[assignment]
    return data


def pyflakes(root: Path, files: list[Path]) -> Run | None:
    """pyflakes over the same files, one process (its exit status says whether it found
    anything: not a failure here)."""
    if importlib.util.find_spec("pyflakes") is None:
        return None
    listing = root / ".dbh-speed-files"
    return measured([sys.executable, "-c",
                     "import sys; from pyflakes.api import main; "
                     "sys.argv = ['pyflakes', *open(sys.argv[1]).read().splitlines()]; main()",
                     str(listing)], root)


def touch_target(root: Path, files: list[Path], given: str | None) -> Path:
    if given:
        target = root / given
        if not target.is_file():
            raise SystemExit(f"--touch {given}: not a file of the tree")
        return target
    return max(files, key=lambda p: (p.stat().st_size, str(p)))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tree", type=Path, help="a real project to measure (copied first)")
    parser.add_argument("--touch", help="with --tree: the file (relative) the touched round "
                                        "edits; default: the largest Python file")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="generate into (and keep) this directory")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter that runs dbharness (e.g. one with sqlglotc)")
    args = parser.parse_args()
    global PYTHON
    PYTHON = args.python
    tmp = None
    if args.tree:
        tmp = tempfile.TemporaryDirectory(prefix="dbh-speed-")
        root = Path(tmp.name) / args.tree.resolve().name
        shutil.copytree(args.tree, root, symlinks=True)
        label = f"tree {args.tree}"
    elif args.keep:
        root = args.keep
        label = f"generated (seed {args.seed})"
    else:
        tmp = tempfile.TemporaryDirectory(prefix="dbh-speed-")
        root = Path(tmp.name)
        label = f"generated (seed {args.seed})"
    try:
        if not args.tree and not (root / "app").is_dir():
            generate(root, args.lines, args.seed)
        files = python_files(root)
        total = sum(p.read_bytes().count(b"\n") for p in files)
        (root / ".dbh-speed-files").write_text("".join(f"{p}\n" for p in files))
        if args.tree:
            victim = touch_target(root, files, args.touch)
        else:
            victim = next(iter(sorted((root / "app").rglob("m0.py"))))
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
              f"{platform.python_version()}; {label}: {total:,} lines in {len(files):,} "
              f"Python files check reads; touched: {victim.relative_to(root)}")
        # Floor and the measured runs alternate, so a busy neighbour on this shared machine
        # slows both alike; each ratio is taken within one round, the table shows medians.
        floors: list[tuple[float, float]] = []
        colds: list[Run] = []
        warms: list[Run] = []
        touched: list[Run] = []
        peers: list[Run] = []
        for _ in range(args.repeat):
            floors.append(floor(files))
            shutil.rmtree(CACHE, ignore_errors=True)
            colds.append(check(root, args.jobs))
            warms.append(check(root, args.jobs))
            victim.write_text(victim.read_text(encoding="utf-8", errors="surrogateescape")
                              + "\n\ndef touched():\n    return 1\n",
                              encoding="utf-8", errors="surrogateescape")
            touched.append(check(root, args.jobs))
            peer = pyflakes(root, files)
            if peer is not None:
                peers.append(peer)
        base = statistics.median(f[0] for f in floors)
        base_cpu = statistics.median(f[1] for f in floors)
        rows: list[tuple[str, list[Run] | None]] = [
            ("floor: read + ast.parse, 1 process", None),
            ("dbharness check, cold", colds),
            ("dbharness check, warm (nothing changed)", warms),
            ("dbharness check, one file touched", touched)]
        if peers:
            rows.append(("peer: pyflakes, same files, 1 process", peers))
        print(f"{'measurement':<42}{'seconds':>9}{'x floor':>9}{'CPU s':>8}{'x floor':>9}"
              f"{'peak RSS':>11}")
        for name, runs in rows:
            if runs is None:
                print(f"{name:<42}{base:>9.2f}{1:>9.2f}{base_cpu:>8.2f}{1:>9.2f}")
                continue
            ratio = statistics.median(r["seconds"] / f[0] for r, f in zip(runs, floors))
            cpu_ratio = statistics.median(r["cpu"] / f[1] for r, f in zip(runs, floors))
            rss = f"{max(r['maxrss_kb'] for r in runs) / 1024:.0f} MiB"
            print(f"{name:<42}{statistics.median(r['seconds'] for r in runs):>9.2f}"
                  f"{ratio:>9.2f}{statistics.median(r['cpu'] for r in runs):>8.2f}"
                  f"{cpu_ratio:>9.2f}{rss:>11}")
        if not peers:
            print("peer: pyflakes is not installed in this interpreter (pip install pyflakes)")
        print("floors of the rounds:", ", ".join(f"{f[0]:.2f}" for f in floors))
        print("last cold run:", colds[-1]["stats"])
    finally:
        shutil.rmtree(CACHE, ignore_errors=True)
        if tmp is not None:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
