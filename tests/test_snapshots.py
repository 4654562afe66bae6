"""Making snapshots: from today's schema with generated rows, and from an older git revision."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.config import Config
from harness.migrations.generate import create_snapshot, ddl_at_revision, snapshot_from_git
from harness.migrations.snapshots import discover
from harness.migrations.verify import Verifier

V1 = '''
import sqlite3

def upgrade(path):
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("""CREATE TABLE IF NOT EXISTS owners (
        id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE)""")
    conn.execute("""CREATE TABLE IF NOT EXISTS pets (
        id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL REFERENCES owners(id),
        name TEXT NOT NULL, weight REAL CHECK (weight >= 0),
        born DATE)""")
    conn.commit()
'''

V2 = V1.replace('''    conn.commit()''', '''\
    cols = [r[1] for r in conn.execute("PRAGMA table_info(pets)")]
    if "chip" not in cols:
        conn.execute("ALTER TABLE pets ADD COLUMN chip TEXT")
    conn.commit()''')


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
                        "PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(root)})


def test_create_snapshot_fills_every_table_within_constraints(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(textwrap.dedent(V1), encoding="utf-8")
    config = Config.from_sources(tmp_path)
    path = create_snapshot(config, "app:upgrade", "today", tmp_path / "snaps", rows=4)
    assert path == tmp_path / "snaps" / "today.sql"
    conn = sqlite3.connect(":memory:")
    conn.executescript(path.read_text(encoding="utf-8"))
    assert conn.execute("SELECT COUNT(*) FROM owners").fetchone()[0] == 4
    assert conn.execute("SELECT COUNT(*) FROM pets").fetchone()[0] == 4
    conn.execute("PRAGMA foreign_keys = ON")
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_snapshot_from_git_uses_the_old_ddl_without_running_old_code(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(textwrap.dedent(V1), encoding="utf-8")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "app.py")
    git(tmp_path, "commit", "-qm", "v1")
    (tmp_path / "app.py").write_text(textwrap.dedent(V2), encoding="utf-8")
    git(tmp_path, "commit", "-qam", "v2")
    config = Config.from_sources(tmp_path, snapshots="snaps/*")
    assert any("CREATE TABLE IF NOT EXISTS pets" in t for t in ddl_at_revision(config, "HEAD~1"))
    path = snapshot_from_git(config, "HEAD~1", None, tmp_path / "snaps", rows=3)
    assert path.name == "git-HEAD-1.sql"
    conn = sqlite3.connect(":memory:")
    conn.executescript(path.read_text(encoding="utf-8"))
    cols = [r[1] for r in conn.execute("PRAGMA table_info(pets)")]
    assert "chip" not in cols and conn.execute("SELECT COUNT(*) FROM pets").fetchone()[0] == 3
    # The v2 code upgrades that v1 database: every check passes.
    verifier = Verifier(config, "app:upgrade", ("schema", "rows", "idempotent"))
    got = list(verifier.verify(discover(config.snapshots, tmp_path)))
    assert [o.status for o in got] == ["pass", "pass", "pass"], [o.message for o in got]


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_snapshot_cli(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(textwrap.dedent(V1), encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.dbharness]\nentry = "app:upgrade"\nsnapshots = "snaps/*"\n', encoding="utf-8")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "harness", "snapshot", *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)

    made = run("create", "v1")
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "snaps" / "v1.sql").is_file()
    bad = run("from-git", "no-such-rev")
    assert bad.returncode == 2 and "git" in bad.stderr


def test_git_revisions_as_legacy_schemas_for_missing_migration(tmp_path: Path) -> None:
    from harness.check import run_check

    v1 = "import sqlite3\nc = sqlite3.connect('x')\n" \
         "c.execute('CREATE TABLE IF NOT EXISTS pets (id INTEGER PRIMARY KEY, name TEXT)')\n"
    (tmp_path / "app.py").write_text(v1)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "app.py")
    git(tmp_path, "commit", "-qm", "v1")
    (tmp_path / "app.py").write_text(v1.replace("name TEXT", "name TEXT, chip TEXT"))
    git(tmp_path, "commit", "-qam", "v2 without a migration")
    config = Config.from_sources(tmp_path, revisions=("HEAD~1",), cache=False)
    got = run_check(config).diagnostics
    assert [(d.rule, d.column) for d in got] == [("missing-migration", "chip")]
    assert "git HEAD~1" in got[0].message
    bad = Config.from_sources(tmp_path, revisions=("nope",), cache=False)
    assert [d.rule for d in run_check(bad).diagnostics] == ["file-error"]
