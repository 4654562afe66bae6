"""A checkout's caches are never trusted (issue 12): each attack, reproduced with real files,
real symlinks and real ``python -m harness`` processes, must change nothing.

Caches live outside the project (harness/store.py); conftest points DBHARNESS_CACHE_DIR of
every test, and of the processes it starts, at a fresh folder of its own.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from harness import store
from harness.cache import RACY_NS, SHARDS, tool_fingerprint
from harness.parallel import worker_count
from harness.python.source import extract_file
from tests.helpers import write_project

CLEAN = {
    "db.py": 'import sqlite3\nconn = sqlite3.connect("x")\n'
             'conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)")\n'
             'def add(rec):\n    conn.execute("INSERT INTO t (a) VALUES (:a)", rec)\n',
    "r1.py": 'from db import add\nadd({"a": 1})\n',
    "pyproject.toml": "[tool.dbharness]\n",
}
# The same size as CLEAN's r1.py: key 'q' has no column in t.
BUGGY_R1 = 'from db import add\nadd({"q": 1})\n'
BUG = "DBH201 [key-without-column] key 'q'"


def dbh(root: Path, *args: str, env: dict[str, str] | None = None,
        **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=root,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})}, **kw)


def tree_state(root: Path) -> dict[str, tuple[str, bytes]]:
    """Every entry under ``root``: kind and bytes (a symlink: its target), not following
    symlinks."""
    out: dict[str, tuple[str, bytes]] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            out[rel] = ("link", os.readlink(path).encode())
        elif path.is_dir():
            out[rel] = ("dir", b"")
        else:
            out[rel] = ("file", path.read_bytes())
    return out


class _Payload:
    """Unpickling this runs ``os.mkdir(marker)``: what a committed pickle could do."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.mkdir, (self.marker,))


def plant_pickles(project: Path, marker: Path) -> None:
    """Pickles holding the payload under every name any version of the caches used, in the
    old default folder and in a folder a config might name."""
    blob = pickle.dumps(_Payload(marker))
    fp = tool_fingerprint()
    for folder in (project / ".dbharness_cache", project / "committed"):
        folder.mkdir(exist_ok=True)
        for dialect in ("sqlite", "postgres"):
            for shard in range(SHARDS):
                for ext in ("pickle", "json"):
                    (folder / f"facts-{fp}-{dialect}-{shard:02d}.{ext}").write_bytes(blob)
            (folder / f"sqlmemo-{fp}-{dialect}.pickle").write_bytes(blob)
            (folder / f"sqlmemo-{fp}-{dialect}.json").write_bytes(blob)
        (folder / f"result-{'0' * 32}.pickle").write_bytes(blob)


def test_payload_is_real(tmp_path: Path) -> None:
    """The planted pickle does run its command when unpickled (so the tests below can fail)."""
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(_Payload(marker)))
    assert marker.is_dir()


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_committed_pickles_never_run(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_project(project, {**CLEAN, "r1.py": BUGGY_R1})
    marker = tmp_path / "payload-ran"
    plant_pickles(project, marker)
    runs = [dbh(project, "check"), dbh(project, "check", "--stats"), dbh(project, "check"),
            dbh(project, "contracts"), dbh(project, "contracts", "--format", "json"),
            dbh(project, "check", "--jobs", "2")]
    for proc in runs[:3] + runs[5:]:
        assert proc.returncode == 1 and BUG in proc.stdout, proc.stderr
    for proc in runs[3:5]:
        assert proc.returncode == 0, proc.stderr
    hook = Path(sys.executable).with_name("dbharness")  # the pre-commit hook's entry
    if hook.exists():
        proc = subprocess.run([str(hook), "check"], cwd=project, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 1 and BUG in proc.stdout
    plugin = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "--dbharness-no-migrations"], cwd=project,
                            capture_output=True, text=True, timeout=300)
    assert "DBH201" in plugin.stdout and plugin.returncode == 1, plugin.stdout[-2000:]
    assert not marker.exists()


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_a_config_naming_a_cache_folder_is_refused(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_project(project, {**CLEAN, "pyproject.toml":
                            '[tool.dbharness]\ncache_dir = "committed"\n'})
    marker = tmp_path / "payload-ran"
    plant_pickles(project, marker)
    for command in ("check", "contracts", "config"):
        proc = dbh(project, command)
        assert proc.returncode == 2, proc
        line = proc.stderr.strip()
        assert "cache_dir" in line and "DBHARNESS_CACHE_DIR" in line and "--cache-dir" in line
        assert len(line.splitlines()) == 1 and "internal error" not in line
    assert not marker.exists()
    (project / "pyproject.toml").write_text('[tool.dbharness]\ncache-dir = ""\n')
    assert dbh(project, "check").returncode == 2
    assert not (project / ".gitignore").exists()


def _user_cache_of(project: Path, base: Path) -> Path:
    found = store.project_dir(project, str(base))
    assert isinstance(found, Path)
    return found


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_committed_clean_facts_rekeyed_to_a_buggy_file_hide_nothing(tmp_path: Path) -> None:
    """The attacker's cache: the clean file's real facts and answers, re-keyed to the buggy
    file's stat data and sha256, committed in every format and place caches ever had."""
    project = tmp_path / "project"
    write_project(project, CLEAN)
    theirs = tmp_path / "attacker-cache"
    assert dbh(project, "check", env={store.ENV: str(theirs)}).returncode == 0
    clean_facts = extract_file(project / "r1.py", "r1.py", "r1")
    (project / "r1.py").write_text(BUGGY_R1)
    import hashlib

    st = (project / "r1.py").stat()
    sha = hashlib.sha256(BUGGY_R1.encode()).hexdigest()
    committed = project / ".dbharness_cache"
    shutil.copytree(_user_cache_of(project, theirs), committed)
    for shard in committed.glob("facts-*.json"):
        document = json.loads(shard.read_text())
        if "r1.py" in document["entries"]:
            entry = document["entries"]["r1.py"]
            entry[:5] = [st.st_mtime_ns, st.st_size, st.st_ctime_ns, st.st_ino, sha]
            shard.write_text(json.dumps(document))
            old_name = shard.name.replace(".json", ".pickle")
            old_entry = {"r1.py": (st.st_mtime_ns, st.st_size, sha, "r1", clean_facts)}
            (committed / old_name).write_bytes(pickle.dumps(old_entry))
    proc = dbh(project, "check")
    assert proc.returncode == 1 and BUG in proc.stdout, proc.stdout + proc.stderr
    assert dbh(project, "check", "--no-cache").stdout == proc.stdout


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_a_dangling_gitignore_symlink_writes_nothing_outside(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_project(project, CLEAN)
    outside = tmp_path / "outside"
    outside.mkdir()
    (project / ".dbharness_cache").mkdir()
    (project / ".dbharness_cache" / ".gitignore").symlink_to(outside / "created")
    (project / ".gitignore").symlink_to(outside / "root-gitignore")
    before = tree_state(tmp_path)
    assert dbh(project, "check").returncode == 0
    assert dbh(project, "contracts").returncode == 0
    assert tree_state(tmp_path) == before
    assert list(outside.iterdir()) == []


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_check_writes_nothing_into_the_project(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_project(project, {**CLEAN, "r1.py": BUGGY_R1, "schema.sql":
                            "CREATE TABLE u (id INTEGER PRIMARY KEY);\n"})
    before = tree_state(project)
    for args in (("check",), ("check", "--stats"), ("check", "--format", "json"),
                 ("contracts",), ("check", "--jobs", "2")):
        dbh(project, *args)
    assert tree_state(project) == before
    assert list(_user_cache_of(project, store.base_dir()).glob("facts-*.json"))


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_cache_dir_flag_and_no_cache(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_project(project, CLEAN)
    mine = tmp_path / "mine"
    assert dbh(project, "check", "--cache-dir", str(mine)).returncode == 0
    assert list(_user_cache_of(project, mine).glob("facts-*.json"))
    base = store.base_dir()
    assert dbh(project, "check", "--no-cache").returncode == 0
    assert dbh(project, "contracts", "--no-cache").returncode == 0
    assert not base.exists() or list(base.iterdir()) == []
    assert dbh(project, "contracts").returncode == 0
    assert list(base.iterdir())


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_a_wrong_shaped_cache_entry_heals(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_project(project, {**CLEAN, "r1.py": BUGGY_R1})
    first = dbh(project, "check")
    assert first.returncode == 1
    time.sleep(RACY_NS / 1e9 + 0.2)  # let the result cache be written too
    assert dbh(project, "check").returncode == 1
    folder = _user_cache_of(project, store.base_dir())
    assert list(folder.glob("result-*.json"))
    for shard in folder.glob("facts-*.json"):
        document = json.loads(shard.read_text())
        for display in document["entries"]:
            document["entries"][display][6] = '{"@":"FileFacts","path":5,"module":[]}'
        document["entries"]["ghost.py"] = {"not": "a list"}
        shard.write_text(json.dumps(document))
    for memo in folder.glob("sqlmemo-*.json"):
        document = json.loads(memo.read_text())
        answers = document["answers"]
        for n, key in enumerate(answers):
            answers[key] = ['[1,2]', '{"@":"NameRef","name":1,"offset":0}', '"x"', "{"][n % 4]
        memo.write_text(json.dumps(document))
    for result in folder.glob("result-*.json"):
        document = json.loads(result.read_text())
        document["diagnostics"] = '[{"@":"Diagnostic","code":1}]'
        result.write_text(json.dumps(document))
    healed = dbh(project, "check", "--stats")
    assert (healed.returncode, healed.stdout) == (1, first.stdout), healed.stderr
    assert "internal error" not in healed.stderr
    assert "2 extracted" in healed.stderr
    again = dbh(project, "check", "--stats", "--no-cache")
    assert again.stdout == first.stdout
    (project / "extra.py").write_text("X = 1\n")  # a new input: no whole-run result
    warm = dbh(project, "check", "--stats")
    assert re.search(r"\b1 extracted, 2 from cache\b", warm.stderr), warm.stderr


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_a_same_size_edit_with_the_mtime_put_back_is_not_served_stale(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_project(project, CLEAN)
    assert dbh(project, "check").returncode == 0
    time.sleep(RACY_NS / 1e9 + 0.2)  # past the racy window: stat data alone now decides
    assert dbh(project, "check").returncode == 0
    warm = dbh(project, "check", "--stats")
    assert warm.returncode == 0 and "nothing changed since the last run" in warm.stderr
    path = project / "r1.py"
    before = path.stat()
    path.write_text(BUGGY_R1)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    proc = dbh(project, "check")
    assert proc.returncode == 1 and BUG in proc.stdout, proc.stdout
    # The per-file facts too (no whole-run result when a config option differs):
    proc = dbh(project, "check", "--exclude", "nothing-matches")
    assert proc.returncode == 1 and BUG in proc.stdout


def _limited(limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_a_full_disk_leaves_no_temporary_files(tmp_path: Path) -> None:
    """No file may grow past 64 bytes (RLIMIT_FSIZE, as a full disk would refuse): every
    cache write fails; the run still reports, and no ``.tmp`` file is left behind."""
    project = tmp_path / "project"
    write_project(project, {**CLEAN, "r1.py": BUGGY_R1})
    base = store.base_dir()
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-m", "harness", "check"], cwd=project,
                              capture_output=True, text=True, timeout=300,
                              preexec_fn=lambda: _limited(64))
        assert proc.returncode == 1 and BUG in proc.stdout, proc.stderr
    leftovers = [p for p in base.rglob("*") if p.is_file()]
    assert leftovers == [], leftovers
    assert [p for p in project.rglob("*") if p.name.endswith(".tmp")] == []
    assert dbh(project, "check").returncode == 1  # room again: the cache works
    assert list(base.rglob("facts-*.json"))


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_a_cache_folder_open_to_others_is_not_used(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_project(project, {**CLEAN, "r1.py": BUGGY_R1})
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    env = {store.ENV: str(shared)}
    quiet = dbh(project, "check", env=env)
    assert quiet.returncode == 1 and BUG in quiet.stdout and quiet.stderr == ""
    noisy = dbh(project, "check", "--stats", env=env)
    notes = [line for line in noisy.stderr.splitlines() if "cache not used" in line]
    assert len(notes) == 1 and "writable by other users" in notes[0]
    assert list(shared.iterdir()) == []


def test_jobs_are_capped_at_the_cores() -> None:
    cores = os.cpu_count() or 1
    assert worker_count(100) == cores
    assert worker_count(0) == cores
    assert worker_count(1) == 1
    assert worker_count(-3) == 1


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0,
                    reason="handing a folder to another user needs root")
def test_a_cache_folder_of_another_user_is_not_used(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_project(project, CLEAN)
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 65534, 65534)
    proc = dbh(project, "check", "--stats", env={store.ENV: str(theirs)})
    assert proc.returncode == 0 and "owned by another user" in proc.stderr
    assert list(theirs.iterdir()) == []
