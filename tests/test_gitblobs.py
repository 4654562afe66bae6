"""Configured revisions are read through one ``git cat-file --batch`` process, by blob id, on
a real git repository (nothing about git is simulated: the spies below count calls and pass
each one through)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.check import run_check
from harness.config import Config
from harness.migrations import generate, gitblobs
from harness.migrations.generate import RevisionDdl, ddl_at_revision, resolve_commit
from harness.migrations.gitblobs import BlobReader, list_tree

ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
       "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
       "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env=ENV).stdout


def table(i: int, extra: str = "") -> str:
    return (f"import sqlite3\nc = sqlite3.connect('x')\n"
            f"c.execute('CREATE TABLE IF NOT EXISTS t{i} (id INTEGER PRIMARY KEY{extra})')\n")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Two commits: 20 modules with DDL, helpers without, a .sql file, a Latin-1 module
    with a coding cookie; the second commit changes two files and leaves the rest."""
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    for i in range(20):
        (root / "pkg" / f"m{i}.py").write_text(table(i))
    for i in range(5):
        (root / "pkg" / f"plain{i}.py").write_text(f"def f{i}():\n    return {i}\n")
    (root / "schema.sql").write_text("CREATE TABLE s (a TEXT);\n")
    (root / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\nimport sqlite3\n"
                                    b"sqlite3.connect('x').execute("
                                    b"'CREATE TABLE caf\xe9 (n TEXT)')\n")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "one")
    (root / "pkg" / "m3.py").write_text(table(3, ", name TEXT"))
    (root / "pkg" / "m4.py").write_text(table(4, ", flag INTEGER"))
    git(root, "commit", "-qam", "two")
    return root


def by_git_show(root: Path, rev: str) -> list[str]:
    """The DDL as one ``git show REV:PATH`` per file reads it (the reference)."""
    commit = resolve_commit(root, rev)
    texts: list[tuple[str, int, str]] = []
    for name in sorted(git(root, "ls-tree", "-r", "--name-only", commit).splitlines()):
        data = subprocess.run(["git", "-C", str(root), "show", f"{commit}:{name}"],
                              check=True, capture_output=True).stdout
        if name.endswith(".sql"):
            texts.append((name, 0, data.decode()))
        elif name.endswith(".py"):
            source = generate.decode(data)
            facts = generate.extract_source(source, name, generate.module_name(root / name,
                                                                               root))
            texts.extend((name, t.line, t.text) for t in facts.ddl if not t.holes)
    return [t for _, _, t in sorted(texts)]


class Spy:
    """Counts the git processes started and the blobs read; each call still runs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.started: list[list[str]] = []
        self.reads: list[str] = []
        real_popen, real_run, real_read = subprocess.Popen, subprocess.run, BlobReader.read
        spy = self

        def popen(cmd: list[str], *a: Any, **k: Any) -> Any:
            spy.started.append(list(cmd))
            return real_popen(cmd, *a, **k)

        def run(cmd: list[str], *a: Any, **k: Any) -> Any:
            spy.started.append(list(cmd))
            return real_run(cmd, *a, **k)

        def read(reader: BlobReader, oid: str) -> bytes | None:
            spy.reads.append(oid)
            return real_read(reader, oid)

        monkeypatch.setattr(gitblobs.subprocess, "Popen", popen)
        monkeypatch.setattr(gitblobs.subprocess, "run", run)
        monkeypatch.setattr(generate.subprocess, "run", run)
        monkeypatch.setattr(BlobReader, "read", read)

    def git_commands(self) -> list[str]:
        return [c[3] for c in self.started if c[:1] == ["git"]]


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Spy]:
    yield Spy(monkeypatch)


def test_revisions_read_through_one_cat_file_process_by_blob_id(repo: Path, spy: Spy) -> None:
    config = Config.from_sources(repo, cache=False)
    with RevisionDdl(config) as reader:
        old, new = reader.ddl("HEAD~1"), reader.ddl("HEAD")
    commands = spy.git_commands()
    assert commands.count("cat-file") == 1 and "show" not in commands
    # 27 files at HEAD~1; at HEAD only the two changed files are new blobs
    assert len(spy.reads) == len(set(spy.reads)) == 27 + 2
    spy.reads.clear()
    assert old == by_git_show(repo, "HEAD~1") and new == by_git_show(repo, "HEAD")
    assert "CREATE TABLE IF NOT EXISTS t3 (id INTEGER PRIMARY KEY)" in old
    assert "CREATE TABLE IF NOT EXISTS t3 (id INTEGER PRIMARY KEY, name TEXT)" in new
    assert "CREATE TABLE café (n TEXT)" in new and "CREATE TABLE s (a TEXT);\n" in new


def test_blob_ddl_is_remembered_across_runs(repo: Path, tmp_path: Path, spy: Spy) -> None:
    config = Config.from_sources(repo, cache_dir=str(tmp_path / "cache"))
    first = ddl_at_revision(config, "HEAD~1")
    assert len(spy.reads) == 27
    spy.reads.clear()
    assert ddl_at_revision(config, "HEAD~1") == first and spy.reads == []
    # near miss: a revision with changed files reads exactly those blobs
    assert ddl_at_revision(config, "HEAD") == by_git_show(repo, "HEAD")
    assert len(spy.reads) == 2


def test_missing_migration_from_a_revision_through_the_batch_reader(repo: Path,
                                                                    spy: Spy) -> None:
    config = Config.from_sources(repo, revisions=("HEAD~1",), cache=False)
    got = run_check(config).diagnostics
    assert sorted((d.rule, d.column) for d in got) == [("missing-migration", "flag"),
                                                       ("missing-migration", "name")]
    assert spy.git_commands().count("cat-file") == 1
    # near miss: against HEAD itself nothing is missing
    same = Config.from_sources(repo, revisions=("HEAD",), cache=False)
    assert [d.rule for d in run_check(same).diagnostics] == []


def test_blob_reader_answers_missing_and_oversized_and_stays_in_step(repo: Path) -> None:
    entries = {e.path: e for e in list_tree(repo, resolve_commit(repo, "HEAD"))}
    big, small = entries["pkg/m0.py"], entries["schema.sql"]
    with BlobReader(repo, limit=40) as reader:
        assert reader.read(big.oid) is None  # over the limit: read past, not returned
        assert reader.read("0" * 40) is None  # not in the repository
        assert reader.read(small.oid) == b"CREATE TABLE s (a TEXT);\n"
        with pytest.raises(ValueError):
            reader.read("HEAD:schema.sql")  # only blob ids reach git's stdin


def test_tree_listing_leaves_out_submodules_and_keeps_odd_names(tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    (root / "tab\there.py").write_text("x = 1\n")
    (root / "ünï.sql").write_text("CREATE TABLE u (a TEXT);\n")
    git(root, "init", "-q")
    git(root, "add", ".")
    sub = "1" * 40
    git(root, "update-index", "--add", "--cacheinfo", f"160000,{sub},vendored")
    git(root, "commit", "-qm", "x")
    listed = sorted(e.path for e in list_tree(root, resolve_commit(root, "HEAD")))
    assert listed == ["tab\there.py", "ünï.sql"]
