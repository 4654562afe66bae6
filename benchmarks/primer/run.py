"""The primer: run dbharness over real projects pinned to commits, and measure it.

    python benchmarks/primer/run.py --mirrors /work/.mirror [--dbharness PATH]
        [--corpus corpus.json] [--only ID ...] [--json OUT.json] [--diff OLD.json]
        [--jobs N] [--timeout SECONDS]

For each corpus entry (benchmarks/primer/corpus.json) the commit — and for a bug entry both
its buggy and its fixing commit — is exported from the bare mirror
``<mirrors>/<owner>+<name>/repo`` with ``git archive | tar -x`` into a temporary folder, and
there, as subprocesses:

* ``dbharness check --format json --dialect D --no-cache --exit-zero [paths]`` (timed: *wall*);
* ``dbharness contracts --format json --dialect D [paths]`` (records bound / unbound from
  ``bindings`` / ``unbound``; SQL sites checked / seen from ``coverage`` when present);
* a floor: a fresh Python reading every file of the same set and ``ast.parse``-ing the
  ``.py`` ones (timed the same way; *x parse* is wall / floor).

Findings are matched to the entry's ``expected`` list (see matching.py): expected, unexpected,
missed (notes, which fail no run, are kept in the run's findings but never unexpected);
for a bug entry, whether each expectation is present at the buggy commit and gone at
the fixing one. One row per project, then a totals row.

``--json OUT`` writes ``{"results": ..., "timings": ..., "meta": ...}``: ``results`` holds
every finding (full JSON), the contracts counts and the matching, sorted, with no timing, so
two runs of the same dbharness are byte-identical there; ``--diff OLD`` prints, per project,
the findings added and removed since OLD.

Exit status: 0 (a benchmark), or 2 when dbharness itself failed on some project (exit code
other than 0/1, output that is not JSON, or a timeout), or on bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from matching import (  # noqa: E402
    diff_results,
    match_all,
    present,
    sort_findings,
)

# The same files dbharness discovers by default (harness/config.py DEFAULT_EXCLUDES and
# TEST_EXCLUDES: tests are not checked unless configured), for the floor and the counts.
FLOOR = r"""
import ast, fnmatch, json, os, sys, time
root, paths = sys.argv[1], sys.argv[2:] or ["."]
skip = (".git", ".hg", ".venv", "venv", ".tox", ".nox", "node_modules", "__pycache__", "build",
        "dist", ".dbharness_cache", ".mypy_cache", ".ruff_cache", ".pytest_cache",
        "site-packages", "tests", "test", "testing", "test_*.py", "*_test.py", "conftest.py")
def skipped(name):
    return any(fnmatch.fnmatch(name, p) for p in skip)
files = lines = parse_errors = 0
start = time.perf_counter()
for given in paths:
    top = os.path.join(root, given)
    walk = [(os.path.dirname(top), [], [os.path.basename(top)])] if os.path.isfile(top) \
        else os.walk(top)
    for dirpath, dirnames, filenames in walk:
        dirnames[:] = sorted(d for d in dirnames if not skipped(d)
                             and not os.path.islink(os.path.join(dirpath, d)))
        for name in sorted(filenames):
            if not name.endswith((".py", ".sql")) or skipped(name):
                continue
            data = open(os.path.join(dirpath, name), "rb").read()
            files += 1
            lines += data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
            if name.endswith(".py"):
                try:
                    ast.parse(data)
                except (SyntaxError, ValueError):
                    parse_errors += 1
print(json.dumps({"files": files, "lines": lines, "parse_errors": parse_errors,
                  "seconds": time.perf_counter() - start}))
"""


class RunError(Exception):
    """dbharness failed on a project (crash, bad output, timeout): the runner exits 2."""


@dataclass
class CommitRun:
    """What one commit of one project gave: deterministic part and timings apart."""

    result: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    error: str | None = None  # a runner-level problem (no mirror, unknown commit)
    crashed: bool = False  # dbharness itself failed


def mirror_of(mirrors: Path, repo: str) -> Path | None:
    """The bare git directory for ``owner/name``, as the fetch tool lays it out."""
    base = mirrors / repo.replace("/", "+") / "repo"
    for candidate in (base / ".git", base):
        if (candidate / "HEAD").is_file() and (candidate / "objects").is_dir():
            return candidate
    return None


# What dbharness reads: when a snapshot lacks some large blobs (the fetch tool may leave the
# largest files out), only these are exported.
SOURCE_SUFFIXES = (".py", ".sql", ".toml")


def _archive(git_dir: Path, commit: str, paths: Sequence[str], into: Path) -> str | None:
    """Extract ``paths`` (all when empty) of ``commit``; None, or git's last error line."""
    archive = subprocess.run(["git", f"--git-dir={git_dir}", "archive", "--format=tar", commit,
                              *(["--", *paths] if paths else [])], capture_output=True)
    if archive.returncode != 0:
        lines = archive.stderr.decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else "failed"
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True,
                   capture_output=True)
    return None


def export(git_dir: Path, commit: str, into: Path) -> str:
    """``git archive COMMIT | tar -x -C into``: "full", or "sources" when the whole tree could
    not be read and only files ending in SOURCE_SUFFIXES were; raises ValueError with git's
    message."""
    message = _archive(git_dir, commit, (), into)
    if message is None:
        return "full"
    listing = subprocess.run(["git", f"--git-dir={git_dir}", "ls-tree", "-r", "-z",
                              "--name-only", commit], capture_output=True)
    sources = [name for name in listing.stdout.decode(errors="replace").split("\0")
               if name.endswith(SOURCE_SUFFIXES)]
    if listing.returncode == 0 and sources:
        # A pathspec is a glob: quote each name literally.
        message = _archive(git_dir, commit, [f":(literal){name}" for name in sources], into)
        if message is None:
            return "sources"
    raise ValueError(f"git archive {commit[:12]}: {message}")


def timed(argv: Sequence[str], cwd: Path, timeout: float) -> tuple[subprocess.CompletedProcess[str],
                                                                   float]:
    start = time.perf_counter()
    try:
        proc = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as err:
        raise RunError(f"{' '.join(argv[1:3])}: no answer after {timeout:.0f} s") from err
    return proc, time.perf_counter() - start


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def parse_check(stdout: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """(findings, summary) from ``check --format json``: a list of findings, possibly with a
    final summary object (no ``rule`` key), or an object with ``findings`` (+ a summary)."""
    data = json.loads(stdout) if stdout.strip() else []
    if isinstance(data, dict):
        findings = data.get("findings", [])
        summary = {k: v for k, v in data.items() if k != "findings"} or None
    else:
        findings = [item for item in data if isinstance(item, dict) and "rule" in item]
        rest = [item for item in data if not (isinstance(item, dict) and "rule" in item)]
        summary = rest[-1] if rest and isinstance(rest[-1], dict) else None
    return findings, summary


def contracts_counts(data: dict[str, Any]) -> dict[str, Any]:
    """Records bound / unbound and SQL-site coverage (None until contracts carries it)."""
    coverage = data.get("coverage")
    return {
        "bound": len(data.get("bindings", [])),
        "unbound": len(data.get("unbound", [])),
        "coverage": coverage if isinstance(coverage, dict) else None,
    }


def run_commit(tool: Sequence[str], git_dir: Path, commit: str, dialect: str,
               paths: Sequence[str], timeout: float) -> CommitRun:
    """Export one commit and run the floor, ``check`` and ``contracts`` on it."""
    with tempfile.TemporaryDirectory(prefix="primer-") as tmp:
        root = Path(tmp)
        try:
            scope = export(git_dir, commit, root)
        except ValueError as err:
            return CommitRun({"commit": commit, "error": str(err)}, error=str(err))
        floor, floor_s = timed([sys.executable, "-c", FLOOR, str(root), *paths], root, timeout)
        counts = json.loads(floor.stdout) if floor.returncode == 0 else {}
        common = ["--format", "json", "--dialect", dialect]
        check, check_s = timed([*tool, "check", *common, "--no-cache", "--exit-zero", *paths],
                               root, timeout)
        if check.returncode not in (0, 1):
            raise RunError(f"check exited {check.returncode}: {_last_line(check.stderr)}")
        try:
            findings, summary = parse_check(check.stdout)
        except json.JSONDecodeError as err:
            raise RunError(f"check printed no JSON ({err})") from err
        contracts, contracts_s = timed([*tool, "contracts", *common, *paths], root, timeout)
        if contracts.returncode != 0:
            raise RunError(f"contracts exited {contracts.returncode}: "
                           f"{_last_line(contracts.stderr)}")
        try:
            model = json.loads(contracts.stdout)
        except json.JSONDecodeError as err:
            raise RunError(f"contracts printed no JSON ({err})") from err
        result = {
            "commit": commit,
            "export": scope,
            "files": counts.get("files"),
            "lines": counts.get("lines"),
            "parse_errors": counts.get("parse_errors"),
            "findings": sort_findings(findings),
            "check_summary": summary,
            "contracts": contracts_counts(model),
        }
        timings = {"check": round(check_s, 3), "contracts": round(contracts_s, 3),
                   "floor": round(floor_s, 3),
                   "ratio": round(check_s / floor_s, 1) if floor_s > 0 else 0.0}
        return CommitRun(result, timings)


def evaluate(entry: dict[str, Any], runs: dict[str, CommitRun]) -> dict[str, Any]:
    """The deterministic result of one entry: runs, matching and a summary of counts."""
    expectations = entry.get("expected", [])
    buggy = runs["buggy"].result
    # a note (what was not analysed, e.g. a Python 2 file) fails no run: never unexpected
    findings = [f for f in buggy.get("findings", []) if f.get("severity") != "note"]
    matched = match_all(findings, expectations)
    fixed = runs["fixed"].result if "fixed" in runs else None
    fixed_findings = [f for f in (fixed.get("findings", []) if fixed else [])
                      if f.get("severity") != "note"]
    fixed_ok = fixed is not None and "error" not in fixed
    checks = []
    for e, expectation in enumerate(expectations):
        pair = matched.pairs[e]
        checks.append({
            "expectation": expectation,
            "at_buggy": findings[pair] if pair is not None else None,
            # another real bug found on the way, still there at the entry's fixing commit
            "gone_at_fixed": None if expectation.get("also_at_fixed") or not fixed_ok
            else not present(fixed_findings, expectation),
        })
    fixed_unexpected = [f for f in fixed_findings
                        if not any(present([f], x) for x in expectations)]
    summary = {
        "expected": matched.found,
        "unexpected": len(matched.unexpected),
        "missed": matched.missed,
        "caught": matched.found,
        "gone": sum(1 for c in checks if c["gone_at_fixed"]),
        "entry_bugs": sum(1 for x in expectations if not x.get("also_at_fixed")),
        "unexpected_at_fixed": len(fixed_unexpected) if fixed_ok else None,
    }
    return {
        "id": entry["id"], "repo": entry["repo"], "kind": entry["kind"],
        "dialect": entry["dialect"], "paths": entry.get("paths", []),
        "runs": {role: run.result for role, run in sorted(runs.items())},
        "expectations": checks,
        "unexpected": [findings[i] for i in matched.unexpected],
        "summary": summary,
    }


def run_entry(entry: dict[str, Any], mirrors: Path, tool: Sequence[str], timeout: float
              ) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    """(result, timings, crash message or None) for one corpus entry."""
    git_dir = mirror_of(mirrors, entry["repo"])
    roles = {"buggy": entry["buggy_commit"]}
    if entry.get("fixed_commit"):
        roles["fixed"] = entry["fixed_commit"]
    runs: dict[str, CommitRun] = {}
    crash = None
    for role, commit in roles.items():
        if git_dir is None:
            message = f"no mirror for {entry['repo']} under {mirrors} (fetch it)"
            runs[role] = CommitRun({"commit": commit, "error": message}, error=message)
            continue
        try:
            runs[role] = run_commit(tool, git_dir, commit, entry["dialect"],
                                    entry.get("paths", []), timeout)
        except RunError as err:
            crash = f"{entry['id']} @{role} {commit[:12]}: {err}"
            runs[role] = CommitRun({"commit": commit, "error": f"dbharness failed: {err}"},
                                   crashed=True, error=str(err))
    timings = {role: run.timings for role, run in sorted(runs.items())}
    return evaluate(entry, runs), timings, crash


# ---- table ----

def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def row_of(result: dict[str, Any], timings: dict[str, Any]) -> list[str]:
    buggy = result["runs"]["buggy"]
    if "error" in buggy:  # the message follows the table
        return [result["id"], result["kind"], "error"] + ["-"] * (len(HEADER) - 3)
    s, t = result["summary"], timings.get("buggy", {})
    contracts = buggy["contracts"]
    coverage = contracts["coverage"]
    sites = "-" if coverage is None else \
        f"{_cell(coverage.get('sql_sites_checked'))}/{_cell(coverage.get('sql_sites_seen'))}"
    bug = "-"
    if result["kind"] == "bug":
        total = len(result["expectations"])
        own = s.get("entry_bugs", total)
        gone = "-" if s["unexpected_at_fixed"] is None else str(s["gone"])
        bug = f"{s['caught']}/{total} {gone}/{own} +{_cell(s['unexpected_at_fixed'])}"
    return [result["id"], result["kind"], _cell(buggy["files"]), _cell(buggy["lines"]),
            f"{t.get('check', 0):.1f}", f"{t.get('ratio', 0):.0f}x",
            str(s["expected"]), str(s["unexpected"]), str(s["missed"]), bug,
            f"{contracts['bound']}/{contracts['unbound']}", sites]


HEADER = ["project", "kind", "files", "lines", "wall s", "x parse", "exp", "unexp", "missed",
          "bug caught/gone +fix", "bound/unbound", "sites chk/seen"]


def totals_row(results: list[dict[str, Any]], timings: dict[str, Any]) -> list[str]:
    ok = [r for r in results if "error" not in r["runs"]["buggy"]]

    def total(get: Any) -> int:
        return sum(get(r) or 0 for r in ok)

    wall = sum(timings[r["id"]].get("buggy", {}).get("check", 0.0) for r in ok)
    floor = sum(timings[r["id"]].get("buggy", {}).get("floor", 0.0) for r in ok)
    bugs = [r for r in ok if r["kind"] == "bug"]
    expected = sum(len(r["expectations"]) for r in bugs)
    covered = [r["runs"]["buggy"]["contracts"]["coverage"] for r in ok
               if r["runs"]["buggy"]["contracts"]["coverage"] is not None]
    sites = "-" if not covered else (
        f"{sum(c.get('sql_sites_checked') or 0 for c in covered)}/"
        f"{sum(c.get('sql_sites_seen') or 0 for c in covered)}")
    bug = (f"{total(lambda r: r['summary']['caught'] if r['kind'] == 'bug' else 0)}/{expected} "
           f"{total(lambda r: r['summary']['gone'] if r['kind'] == 'bug' else 0)}/{expected} "
           f"+{total(lambda r: r['summary']['unexpected_at_fixed'] if r['kind'] == 'bug' else 0)}")
    return [f"TOTAL ({len(ok)}/{len(results)})", f"{len(bugs)} bugs",
            str(total(lambda r: r["runs"]["buggy"]["files"])),
            str(total(lambda r: r["runs"]["buggy"]["lines"])), f"{wall:.1f}",
            f"{wall / floor:.0f}x" if floor else "-",
            str(total(lambda r: r["summary"]["expected"])),
            str(total(lambda r: r["summary"]["unexpected"])),
            str(total(lambda r: r["summary"]["missed"])), bug,
            f"{total(lambda r: r['runs']['buggy']['contracts']['bound'])}/"
            f"{total(lambda r: r['runs']['buggy']['contracts']['unbound'])}", sites]


def format_table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(len(rows[0]))]
    out = []
    for n, row in enumerate(rows):
        cells = [c.ljust(widths[i]) if i < 2 else c.rjust(widths[i]) for i, c in enumerate(row)]
        out.append("  ".join(cells).rstrip())
        if n == 0 or n == len(rows) - 2:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def format_diff(old: dict[str, Any], new: dict[str, Any]) -> str:
    changes = diff_results(old, new)
    if not changes:
        return "diff: no findings added or removed"
    out = []
    for change in changes:
        out.append(f"{change.project} @{change.role}: +{len(change.added)} "
                   f"-{len(change.removed)}")
        for sign, items in (("+", change.added), ("-", change.removed)):
            for f in items:
                out.append(f"  {sign} {f.get('path')}:{f.get('line')} [{f.get('rule')}] "
                           f"{f.get('message')}")
    return "\n".join(out)


# ---- command line ----

def default_tool() -> str | None:
    sibling = Path(sys.executable).parent / "dbharness"
    return str(sibling) if sibling.is_file() else shutil.which("dbharness")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mirrors", required=True, type=Path,
                   help="folder of bare mirrors, <owner>+<name>/repo (the fetch tool's layout)")
    p.add_argument("--dbharness", default=None,
                   help="the dbharness executable (default: next to this Python, or on PATH)")
    p.add_argument("--corpus", type=Path, default=HERE / "corpus.json")
    p.add_argument("--only", nargs="+", default=None, metavar="ID", help="run these entries")
    p.add_argument("--json", type=Path, default=None, metavar="OUT", help="write the result")
    p.add_argument("--diff", type=Path, default=None, metavar="OLD",
                   help="print findings added and removed since an earlier --json")
    p.add_argument("--jobs", type=int, default=1, help="projects run at once (default 1)")
    p.add_argument("--timeout", type=float, default=1800.0,
                   help="seconds for each dbharness command (default 1800)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    tool = args.dbharness or default_tool()
    if tool is None:
        print("primer: no dbharness executable found; pass --dbharness PATH", file=sys.stderr)
        return 2
    try:
        corpus = json.loads(args.corpus.read_text(encoding="utf-8"))
        old = json.loads(args.diff.read_text(encoding="utf-8")) if args.diff else None
    except (OSError, json.JSONDecodeError) as err:
        print(f"primer: {err}", file=sys.stderr)
        return 2
    entries = [e for e in corpus if args.only is None or e["id"] in args.only]
    unknown = sorted(set(args.only or ()) - {e["id"] for e in corpus})
    if unknown:
        print(f"primer: not in the corpus: {', '.join(unknown)}", file=sys.stderr)
        return 2
    if not args.mirrors.is_dir():
        print(f"primer: no folder {args.mirrors}", file=sys.stderr)
        return 2

    def one(entry: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], str | None]:
        outcome = run_entry(entry, args.mirrors, [tool], args.timeout)
        print(f"primer: {entry['id']} done", file=sys.stderr, flush=True)
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        outcomes = list(pool.map(one, entries))
    results = {r["id"]: r for r, _, _ in outcomes}
    timings = {r["id"]: t for r, t, _ in outcomes}
    crashes = [c for _, _, c in outcomes if c]
    ordered = [results[e["id"]] for e in entries]
    rows = [HEADER] + [row_of(r, timings[r["id"]]) for r in ordered]
    rows.append(totals_row(ordered, timings))
    print(format_table([r + [""] * (len(HEADER) - len(r)) for r in rows]))
    for entry in ordered:
        if "error" in entry["runs"]["buggy"] or "error" in entry["runs"].get("fixed", {}):
            for role, run in entry["runs"].items():
                if "error" in run:
                    print(f"primer: {entry['id']} @{role}: {run['error']}", file=sys.stderr)
    if args.json:
        meta = {"dbharness": tool, "corpus": str(args.corpus),
                "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "python": sys.version.split()[0], "cpus": os.cpu_count()}
        document = {"results": dict(sorted(results.items())),
                    "timings": dict(sorted(timings.items())), "meta": meta}
        args.json.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n",
                             encoding="utf-8")
    if old is not None:  # with --only, only those entries are compared
        before = {k: v for k, v in old.get("results", {}).items() if k in results}
        print(format_diff(before, results))
    if crashes:
        for crash in crashes:
            print(f"primer: dbharness failed: {crash}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
