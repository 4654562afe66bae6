"""A real pre-commit run in a temporary git repository that uses this repository's hook."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

DB = '''import sqlite3

conn = sqlite3.connect("app.db")
conn.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")


def add_item(item):
    conn.execute("INSERT INTO items (name) VALUES (:name)", item)
'''
ROUTER_OK = 'from db import add_item\n\n\ndef create(name):\n    add_item({"name": name})\n'
ROUTER_BAD = ('from db import add_item\n\n\ndef create(name):\n'
              '    add_item({"name": name, "colour": "red"})\n')


def _run(cwd: Path, *cmd: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=600,
                          check=False)


def _head_of_this_repo() -> str | None:
    proc = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


@pytest.mark.slow  # pip-installs the hook into a fresh environment (~25 s)
@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_commit_with_a_stray_key_is_refused_and_a_clean_one_goes_through(tmp_path: Path) -> None:
    pre_commit = Path(sys.executable).with_name("pre-commit")
    rev = _head_of_this_repo()
    if not pre_commit.exists() or rev is None:
        pytest.skip("needs pre-commit installed and this repository as a git checkout")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"),
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    work = tmp_path / "project"
    work.mkdir()
    assert _run(work, "git", "init", "-q", env=env).returncode == 0
    (work / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {REPO.as_uri()}\n    rev: {rev}\n    hooks:\n      - id: dbharness\n",
        encoding="utf-8")
    (work / "db.py").write_text(DB, encoding="utf-8")
    (work / "router.py").write_text(ROUTER_OK, encoding="utf-8")
    installed = _run(work, str(pre_commit), "install", env=env)
    assert installed.returncode == 0, installed.stderr
    _run(work, "git", "add", "-A", env=env)
    clean = _run(work, "git", "commit", "-qm", "clean", env=env)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    (work / "router.py").write_text(ROUTER_BAD, encoding="utf-8")
    _run(work, "git", "add", "router.py", env=env)
    refused = _run(work, "git", "commit", "-qm", "stray key", env=env)
    assert refused.returncode != 0
    assert "key-without-column" in refused.stdout + refused.stderr
    assert "colour" in refused.stdout + refused.stderr

    # try-repo runs the hook straight from this checkout, on all files.
    tried = _run(work, str(pre_commit), "try-repo", str(REPO), "dbharness", "--all-files",
                 env=env)
    assert tried.returncode != 0 and "key-without-column" in tried.stdout
