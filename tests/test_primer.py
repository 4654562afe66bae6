"""The primer's runner (benchmarks/primer/): matching, diffing, and one real run over a tiny
local git mirror, so the benchmark cannot rot silently."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

PRIMER = Path(__file__).resolve().parents[1] / "benchmarks" / "primer"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"primer_{name}", PRIMER / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


matching = _load("matching")
run = _load("run")

EXPECTED = {"finding": "unknown-column", "table": "reminder", "name": "befor",
            "file": "tle/util/db/user_db_conn.py", "line": 566}


def finding(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {"rule": "unknown-column", "path": "tle/util/db/user_db_conn.py",
                               "line": 570, "col": 4, "table": "reminder", "column": "befor",
                               "message": "column befor does not exist in table reminder"}
    base.update(changes)
    return base


# ---- matching ----

def test_matches_by_rule_table_name_and_file_with_the_line_moved() -> None:
    assert matching.matches(finding(), EXPECTED)


def test_matches_a_file_suffix_and_a_schema_qualified_table() -> None:
    assert matching.matches(finding(path="src/tle/util/db/user_db_conn.py",
                                    table="main.reminder"), EXPECTED)


@pytest.mark.parametrize("change", [
    {"rule": "unknown-table"},
    {"column": "before"},
    {"table": "reminders"},
    {"path": "tle/util/db/cache_db_conn.py"},
    {"path": "xtle/util/db/user_db_conn.py"},  # a suffix only at a path boundary
])
def test_near_misses_do_not_match(change: dict[str, object]) -> None:
    assert not matching.matches(finding(**change), EXPECTED)


def test_a_rule_without_a_column_compares_rule_table_and_file_only() -> None:
    arity = {"finding": "insert-arity", "table": "assignments", "name": "20 columns, 19 values",
             "file": "front_end/server/content.py", "line": 1912}
    found = {"rule": "insert-arity", "path": "front_end/server/content.py", "line": 1913,
             "table": "assignments", "message": "INSERT gives 19 values for 20 columns"}
    assert matching.matches(found, arity)
    assert not matching.matches({**found, "table": "courses"}, arity)


def test_each_expectation_takes_the_nearest_finding_once() -> None:
    second = {**EXPECTED, "line": 600}
    findings = [finding(line=601), finding(line=566), finding(line=10, column="x")]
    result = matching.match_all(findings, [EXPECTED, second])
    assert result.pairs == (1, 0)
    assert result.unexpected == (2,)
    assert (result.found, result.missed) == (2, 0)


def test_an_expectation_without_a_finding_is_missed() -> None:
    result = matching.match_all([finding(column="other")], [EXPECTED])
    assert result.pairs == (None,) and result.missed == 1 and result.unexpected == (0,)


def test_a_note_is_never_unexpected_but_an_error_is() -> None:
    entry = {"id": "p", "repo": "o/p", "kind": "clean", "dialect": "sqlite", "expected": []}
    note = finding(rule="file-error", severity="note", message="not analysed: Python syntax")
    error = finding(severity="error")
    result = run.evaluate(entry, {"buggy": run.CommitRun({"findings": [note, error]}, {})})
    assert result["unexpected"] == [error] and result["summary"]["unexpected"] == 1


# ---- diff ----

def _results(*findings: dict[str, object]) -> dict[str, object]:
    return {"p": {"runs": {"buggy": {"findings": list(findings)}}}}


def test_diff_reports_added_and_removed_findings_as_multisets() -> None:
    a, b = finding(line=1), finding(line=2)
    changes = matching.diff_results(_results(a, a), _results(a, b))
    assert len(changes) == 1
    change = changes[0]
    assert (change.project, change.role) == ("p", "buggy")
    assert change.added == (b,) and change.removed == (a,)


def test_diff_of_equal_runs_is_empty_and_a_new_project_is_all_added() -> None:
    a = finding()
    assert matching.diff_results(_results(a), _results(a)) == []
    changes = matching.diff_results({}, _results(a))
    assert [(c.project, len(c.added), len(c.removed)) for c in changes] == [("p", 1, 0)]


def test_parse_check_takes_a_list_with_or_without_a_final_summary_object() -> None:
    assert run.parse_check('[{"rule": "x"}]') == ([{"rule": "x"}], None)
    summary = {"sql_sites_seen": 3}
    assert run.parse_check(json.dumps([{"rule": "x"}, summary])) == ([{"rule": "x"}], summary)
    assert run.parse_check(json.dumps({"findings": [{"rule": "x"}], "summary": summary})) == \
        ([{"rule": "x"}], {"summary": summary})


# ---- one real run: a git mirror made here, the real dbharness as a subprocess ----

BUGGY = '''import sqlite3

conn = sqlite3.connect("app.db")
conn.execute("CREATE TABLE IF NOT EXISTS reminder (guild_id TEXT, before TEXT)")


def settings(guild_id):
    return conn.execute("SELECT guild_id, befor FROM reminder WHERE guild_id = ?",
                        (guild_id,)).fetchone()
'''


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org",
                           "-c", "init.defaultBranch=main", *args], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture
def mirror(tmp_path: Path) -> tuple[Path, str, str]:
    work = tmp_path / "work"
    work.mkdir()
    _git("init", "-q", cwd=work)
    (work / "app.py").write_text(BUGGY)
    _git("add", "app.py", cwd=work)
    _git("commit", "-qm", "buggy", cwd=work)
    buggy = _git("rev-parse", "HEAD", cwd=work)
    (work / "app.py").write_text(BUGGY.replace("befor ", "before "))
    _git("commit", "-qam", "fixed", cwd=work)
    fixed = _git("rev-parse", "HEAD", cwd=work)
    mirrors = tmp_path / "mirrors"
    (mirrors / "someone+app").mkdir(parents=True)
    _git("clone", "-q", "--bare", str(work), str(mirrors / "someone+app" / "repo"), cwd=tmp_path)
    return mirrors, buggy, fixed


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_a_real_run_catches_the_bug_and_writes_byte_identical_results(
        mirror: tuple[Path, str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tool = run.default_tool()
    if tool is None:
        pytest.skip("dbharness is not installed next to this Python")
    mirrors, buggy, fixed = mirror
    corpus = tmp_path / "corpus.json"
    corpus.write_text(json.dumps([{
        "id": "app-befor", "repo": "someone/app", "buggy_commit": buggy, "fixed_commit": fixed,
        "kind": "bug", "dialect": "sqlite",
        "expected": [{"finding": "unknown-column", "table": "reminder", "name": "befor",
                      "file": "app.py", "line": 8}],
    }, {
        "id": "missing", "repo": "someone/absent", "buggy_commit": buggy, "fixed_commit": None,
        "kind": "clean", "dialect": "sqlite", "expected": [],
    }]))
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    argv = ["--mirrors", str(mirrors), "--corpus", str(corpus), "--dbharness", tool]
    assert run.main([*argv, "--json", str(first)]) == 0
    out = capsys.readouterr().out
    assert "app-befor" in out and "1/1 1/1 +0" in out and "TOTAL" in out

    result = json.loads(first.read_text())["results"]["app-befor"]
    assert result["summary"]["caught"] == 1 and result["summary"]["gone"] == 1
    assert result["summary"]["unexpected"] == 0 and result["summary"]["missed"] == 0
    assert result["expectations"][0]["at_buggy"]["column"] == "befor"
    assert result["runs"]["fixed"]["findings"] == []
    assert "no mirror" in json.loads(first.read_text())["results"]["missing"]["runs"]["buggy"][
        "error"]

    assert run.main([*argv, "--json", str(second), "--diff", str(first)]) == 0
    assert "no findings added or removed" in capsys.readouterr().out
    results = [json.dumps(json.loads(p.read_text())["results"], sort_keys=True)
               for p in (first, second)]
    assert results[0] == results[1]

    old = json.loads(first.read_text())["results"]
    old["app-befor"]["runs"]["buggy"]["findings"] = []
    text = run.format_diff(old, json.loads(second.read_text())["results"])
    assert "app-befor @buggy: +1 -0" in text and "+ app.py:8 [unknown-column]" in text


def test_an_unknown_id_is_a_usage_error(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.json"
    corpus.write_text("[]")
    assert run.main(["--mirrors", str(tmp_path), "--corpus", str(corpus),
                     "--dbharness", "dbharness", "--only", "nope"]) == 2


def test_a_snapshot_missing_a_large_blob_exports_its_sources(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    _git("init", "-q", cwd=work)
    (work / "pkg").mkdir()
    (work / "pkg" / "app.py").write_text(BUGGY)
    (work / "schema.sql").write_text("CREATE TABLE t (a TEXT);\n")
    (work / "video.bin").write_bytes(b"\0" * 4096)
    _git("add", ".", cwd=work)
    _git("commit", "-qm", "c", cwd=work)
    commit = _git("rev-parse", "HEAD", cwd=work)
    bare = tmp_path / "mirror.git"
    _git("clone", "-q", "--bare", "--no-local", str(work), str(bare), cwd=tmp_path)
    full = tmp_path / "full"
    full.mkdir()
    assert run.export(bare, commit, full) == "full"
    assert (full / "video.bin").is_file()

    blob = _git("--git-dir", str(bare), "rev-parse", f"{commit}:video.bin", cwd=tmp_path)
    packs = list((bare / "objects" / "pack").glob("*.pack"))
    for pack in packs:  # unpack, so one object can be removed as the fetch tool leaves it out
        pack.rename(tmp_path / pack.name)
        pack.with_suffix(".idx").unlink()
        subprocess.run(["git", f"--git-dir={bare}", "unpack-objects", "-q"],
                       stdin=(tmp_path / pack.name).open("rb"), check=True)
    (bare / "objects" / blob[:2] / blob[2:]).unlink()
    partial = tmp_path / "partial"
    partial.mkdir()
    assert run.export(bare, commit, partial) == "sources"
    assert (partial / "pkg" / "app.py").read_text() == BUGGY
    assert (partial / "schema.sql").is_file()
    assert not (partial / "video.bin").exists()
