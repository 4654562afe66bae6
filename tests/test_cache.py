"""The per-file fact cache: warm runs re-extract nothing, changes re-extract just the file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import store
from harness.check import run_check
from harness.config import Config
from tests.helpers import write_project

FILES = {
    "db.py": 'import sqlite3\nconn = sqlite3.connect("x")\n'
             'conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)")\n'
             'def add(rec):\n    conn.execute("INSERT INTO t (a) VALUES (:a)", rec)\n',
    "r1.py": 'from db import add\nadd({"a": 1})\n',
    "r2.py": 'from db import add\nadd({"a": 2})\n',
    "lib/util.py": "def f():\n    return 1\n",
}


def cache_folder(root: Path) -> Path:
    """The project's cache folder (under the test's own DBHARNESS_CACHE_DIR, see conftest)."""
    found = store.project_dir(root)
    assert isinstance(found, Path), found
    return found


def run(root: Path, **kw: object):  # type: ignore[no-untyped-def]
    return run_check(Config.from_sources(root, **kw))  # type: ignore[arg-type]


def test_warm_run_extracts_nothing(tmp_path: Path) -> None:
    write_project(tmp_path, FILES)
    cold = run(tmp_path)
    assert (cold.stats.extracted, cold.stats.cached) == (4, 0)
    warm = run(tmp_path)
    assert (warm.stats.extracted, warm.stats.cached) == (0, 4)
    assert warm.diagnostics == cold.diagnostics
    assert len(warm.model.bindings) == len(cold.model.bindings) == 2


def test_a_changed_file_is_the_only_one_extracted(tmp_path: Path) -> None:
    write_project(tmp_path, FILES)
    run(tmp_path)
    (tmp_path / "r2.py").write_text('from db import add\nadd({"a": 2, "zz": 3})\n')
    again = run(tmp_path)
    assert (again.stats.extracted, again.stats.cached) == (1, 3)
    assert [d.rule for d in again.diagnostics] == ["key-without-column"]


def test_touched_but_unchanged_file_is_not_extracted(tmp_path: Path) -> None:
    write_project(tmp_path, FILES)
    run(tmp_path)
    path = tmp_path / "r1.py"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 5_000_000_000))
    again = run(tmp_path)
    assert again.stats.extracted == 0


def test_no_cache_writes_nothing(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_project(project, FILES)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = run(project, cache=False)
    assert result.stats.extracted == 4
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert not list(store.base_dir().iterdir())


def test_corrupt_cache_is_ignored(tmp_path: Path) -> None:
    write_project(tmp_path, FILES)
    run(tmp_path)
    shards = list(cache_folder(tmp_path).glob("facts-*.json"))
    assert shards
    for cache_file in shards:
        cache_file.write_bytes(b"not json")
    again = run(tmp_path)
    assert again.stats.extracted == 4
    assert run(tmp_path).stats.extracted == 0  # healed: stored again


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_concurrent_runs_are_safe(tmp_path: Path) -> None:
    write_project(tmp_path, FILES)
    cmd = [sys.executable, "-m", "harness", "check", "--format", "json"]
    procs = [subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert len({o for o, _ in outs}) == 1
    warm = run(tmp_path)
    assert warm.stats.extracted == 0


def test_parallel_extraction_and_its_cache(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import harness.parallel

    monkeypatch.setattr(harness.parallel, "PARALLEL_THRESHOLD", 2)
    write_project(tmp_path, FILES)
    cold = run(tmp_path, jobs=2)
    assert cold.stats.extracted == 4
    warm = run(tmp_path, jobs=2)
    assert (warm.stats.extracted, warm.stats.cached) == (0, 4)
    assert warm.diagnostics == cold.diagnostics == run(tmp_path, jobs=1, cache=False).diagnostics
    assert len(warm.model.bindings) == 2


def test_statement_answers_follow_the_schema(tmp_path: Path) -> None:
    """Answers about statements are remembered across runs keyed by the schema they were
    computed against: a DDL change in another file changes them, a revert restores them."""
    files = dict(FILES)
    files["r3.py"] = 'from db import conn\nconn.execute("UPDATE t SET b = ? WHERE id = 1", (1,))\n'
    write_project(tmp_path, files)
    assert [d.rule for d in run(tmp_path).diagnostics] == ["unknown-column"]
    ddl = files["db.py"]
    (tmp_path / "db.py").write_text(ddl.replace("a TEXT)", "a TEXT, b TEXT)"))
    assert run(tmp_path).diagnostics == ()
    (tmp_path / "db.py").write_text(ddl)
    assert [d.rule for d in run(tmp_path).diagnostics] == ["unknown-column"]
    assert list(cache_folder(tmp_path).glob("sqlmemo-*.json"))


def test_cached_statements_rebuild_their_tree_only_when_asked() -> None:
    import pickle

    from sqlglot import exp

    from harness.sql.parse import parse_sql

    (st,) = parse_sql("SELECT a FROM t WHERE b = ?", "sqlite").statements
    again = pickle.loads(pickle.dumps(st))
    assert not isinstance(again.node, exp.Expr) and again.category == "query"
    assert again.expression.sql() == st.expression.sql()
    assert isinstance(again.node, exp.Expr)  # rebuilt once, then kept


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_a_second_process_answers_statements_from_the_memo(tmp_path: Path) -> None:
    """Across processes (a real CLI run each): after an edit to a file without SQL, every
    statement answer comes from the memo of the run before."""
    import re

    write_project(tmp_path, FILES)
    (tmp_path / "pyproject.toml").write_text("[tool.dbharness]\n")

    def answers() -> tuple[int, int]:
        err = subprocess.run([sys.executable, "-m", "harness", "check", "--stats"],
                             cwd=tmp_path, capture_output=True, text=True).stderr
        found = re.search(r"statement answers (\d+) remembered / (\d+) computed", err)
        assert found, err
        return int(found.group(1)), int(found.group(2))

    first = answers()
    assert first[1] > 0
    (tmp_path / "lib/util.py").write_text("def f():\n    return 2\n")
    again = answers()
    assert again[1] == 0 and again[0] >= first[1]
