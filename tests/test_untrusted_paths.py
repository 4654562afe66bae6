"""A cloned repository must not make dbharness read outside it, or reach git as options.

Real files, real symlinks, FIFOs and git repositories; the CLI runs in subprocesses.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from harness.config import Config, project_root
from harness.discovery import Skipped, discover
from harness.errors import ConfigError
from harness.migrations.generate import ddl_at_revision, resolve_commit
from harness.paths import inside_root
from harness.regular import NotRegular, TooLarge, read_regular
from tests.helpers import run_on_pty, write_project

SECRET = "SECRETTOKEN_c0ffee"
GOOD = {"app.py": '''
    import sqlite3
    conn = sqlite3.connect("x")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("SELECT name FROM t")
'''}
BAD_PY = '''import sqlite3
conn = sqlite3.connect("x")
conn.execute("CREATE TABLE t2 (id INTEGER PRIMARY KEY)")
conn.execute("SELECT nme FROM t2")
'''


def dbh(cwd: Path, *args: str, env: dict[str, str] | None = None,
        limit_memory: bool = False) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}

    def cap() -> None:  # reading /dev/zero would hit this instead of growing for ever
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=cwd, text=True,
                          capture_output=True, env=full, timeout=120,
                          preexec_fn=cap if limit_memory else None)


def outside_secret(tmp_path: Path) -> tuple[Path, Path]:
    """A project folder and, beside it (outside), files holding SECRET."""
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (outside / "secret.sql").write_text(f"SELEC {SECRET} FROM nowhere;\n")
    (outside / "secret.py").write_text(f'import sqlite3\nsqlite3.connect("x").execute('
                                       f'"SELECT {SECRET} FROM {SECRET}")\n')
    write_project(project, GOOD)
    return project, outside


def test_inside_root(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f.py").write_text("")
    os.symlink("/etc", tmp_path / "a" / "etc")
    os.symlink(tmp_path / "a" / "f.py", tmp_path / "a" / "g.py")
    assert inside_root(tmp_path / "a" / "f.py", tmp_path)
    assert inside_root(tmp_path / "a" / "g.py", tmp_path)  # a link that stays inside
    assert inside_root(tmp_path, tmp_path)
    assert not inside_root(tmp_path / "a" / "etc", tmp_path)
    assert not inside_root(tmp_path / "a" / ".." / ".." / "x", tmp_path)
    assert not inside_root(Path("/etc/passwd"), tmp_path)
    assert not inside_root(tmp_path.with_name(tmp_path.name + "-sibling"), tmp_path)


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_symlinks_out_of_the_tree_are_never_read(tmp_path: Path, fmt: str) -> None:
    project, outside = outside_secret(tmp_path)
    os.symlink(outside / "secret.sql", project / "a.sql")
    os.symlink(outside / "secret.py", project / "b.py")
    os.symlink("/etc/passwd", project / "passwd.sql")
    proc = dbh(project, "check", "--no-cache", "--format", fmt)
    assert proc.returncode == 0, proc.stdout + proc.stderr  # notes do not fail the run
    assert SECRET not in proc.stdout + proc.stderr
    assert "root:" not in proc.stdout  # the first line of /etc/passwd
    for name in ("a.sql", "b.py", "passwd.sql"):
        assert name in proc.stdout


def test_symlink_notes_say_why(tmp_path: Path) -> None:
    project, outside = outside_secret(tmp_path)
    os.symlink(outside / "secret.sql", project / "a.sql")
    data = json.loads(dbh(project, "check", "--no-cache", "--format", "json").stdout)
    [note] = data
    assert (note["path"], note["severity"], note["rule"]) == ("a.sql", "note", "file-error")
    assert "outside the project" in note["message"]


def test_source_lines_on_a_terminal_never_show_a_refused_file(tmp_path: Path) -> None:
    """On a TTY the text format prints the source line under each finding: the note about a
    refused symlink must not print its target's first line."""
    project, outside = outside_secret(tmp_path)
    os.symlink(outside / "secret.sql", project / "a.sql")
    (project / "bad.py").write_text(BAD_PY)
    out, _ = run_on_pty(project, ["check", "--no-cache"], {"NO_COLOR": "1"})
    assert "bad.py:4:" in out and 'conn.execute("SELECT nme FROM t2")' in out  # lines shown
    assert "a.sql" in out and SECRET not in out


def test_a_symlink_inside_the_tree_is_read(tmp_path: Path) -> None:
    """Near miss: a link to a file in the project (here in an excluded folder) is followed."""
    write_project(tmp_path, GOOD)
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "real.py").write_text(BAD_PY)
    os.symlink(tmp_path / "build" / "real.py", tmp_path / "linked.py")
    proc = dbh(tmp_path, "check", "--no-cache")
    assert proc.returncode == 1 and "linked.py:4:" in proc.stdout and "nme" in proc.stdout


def test_a_directory_named_on_the_command_line_may_be_outside(tmp_path: Path) -> None:
    """Near miss: what the user passes is read, even outside the root."""
    project, outside = outside_secret(tmp_path)
    (outside / "secret.sql").unlink()
    (outside / "bad.py").write_text(BAD_PY)
    proc = dbh(project, "check", "--no-cache", str(outside))
    assert proc.returncode == 1 and "nme" in proc.stdout


def test_fifo_and_dev_zero_are_never_opened_for_reading(tmp_path: Path) -> None:
    write_project(tmp_path, GOOD)
    os.mkfifo(tmp_path / "pipe.sql")
    os.mkfifo(tmp_path / "pipe2.py")
    os.symlink(tmp_path / "pipe.sql", tmp_path / "to_pipe.sql")  # inside, but not regular
    os.symlink("/dev/zero", tmp_path / "zero.sql")
    proc = dbh(tmp_path, "check", "--no-cache", "--format", "json", limit_memory=True)
    assert proc.returncode == 0, proc.stderr
    notes = {d["path"]: d["message"] for d in json.loads(proc.stdout)}
    assert "not a regular file (FIFO)" in notes["pipe.sql"]
    assert "not a regular file (FIFO)" in notes["pipe2.py"]
    assert "zero.sql" in notes
    assert {d for d in notes} == {"pipe.sql", "pipe2.py", "zero.sql"}  # to_pipe: same file


def test_read_regular_refuses_devices_and_fifos(tmp_path: Path) -> None:
    with pytest.raises(NotRegular) as err:
        read_regular(Path("/dev/zero"), 1024)
    assert err.value.kind == "device"
    os.mkfifo(tmp_path / "p")
    with pytest.raises(NotRegular):
        read_regular(tmp_path / "p", 1024)  # returns at once: O_NONBLOCK, no writer needed
    (tmp_path / "f").write_bytes(b"x" * 10)
    with pytest.raises(TooLarge):
        read_regular(tmp_path / "f", 9)
    assert read_regular(tmp_path / "f", 10)[1] == b"x" * 10


def test_discover_reports_what_it_refused(tmp_path: Path) -> None:
    write_project(tmp_path, GOOD)
    os.symlink("/etc/passwd", tmp_path / "p.sql")
    skipped: list[Skipped] = []
    got = list(discover(Config.from_sources(tmp_path), None, skipped))
    assert got == [tmp_path / "app.py"]
    assert [s.path.name for s in skipped] == ["p.sql"]


@pytest.mark.parametrize(("setting", "key"), [
    ('paths = ["/etc"]', "paths"),
    ('paths = ["src", "../elsewhere"]', "paths"),
    ('paths = "~/code"', "paths"),
    ('paths = ["link"]', "paths"),
    ('contracts = "/etc"', "contracts"),
    ('contracts = "../shared"', "contracts"),
    ('contracts = "clink"', "contracts"),
    ('exclude = ["/abs/path"]', "exclude"),
    ('exclude = ["../sibling"]', "exclude"),
    ('exclude = ["a/../../b"]', "exclude"),
])
def test_config_paths_outside_the_root_are_config_errors(tmp_path: Path, setting: str,
                                                         key: str) -> None:
    project, outside = outside_secret(tmp_path)
    (project / "src").mkdir()
    os.symlink(outside, project / "link")
    os.symlink(outside, project / "clink")
    (project / "pyproject.toml").write_text(f"[tool.dbharness]\n{setting}\n")
    proc = dbh(project, "check", "--no-cache")
    assert proc.returncode == 2, proc.stdout
    assert proc.stderr.count("\n") == 1 and f"] {key}:" in proc.stderr
    assert "internal error" not in proc.stderr and SECRET not in proc.stdout


def test_config_paths_inside_the_root_are_accepted(tmp_path: Path) -> None:
    """Near miss: relative paths, ./, a/../b that stays inside, a link that stays inside."""
    write_project(tmp_path, {"src/app.py": GOOD["app.py"], "c/x.toml": ""})
    os.symlink(tmp_path / "src", tmp_path / "alias")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.dbharness]\npaths = ["src", "./alias", "c/../src"]\ncontracts = "c"\n'
        'exclude = ["build", "*_pb2.py"]\n')
    config = Config.from_sources(tmp_path)
    assert config.paths == ("src", "./alias", "c/../src")
    assert [p.name for p in discover(config)] == ["app.py"]


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env=env).stdout


def test_project_root_search_stops_at_the_repository(tmp_path: Path) -> None:
    planted = tmp_path / "parent"
    repo = planted / "repo"
    (repo / "sub").mkdir(parents=True)
    (planted / "pyproject.toml").write_text('[tool.dbharness]\ndisable = ["unknown-column"]\n')
    (repo / "sub" / "bad.py").write_text(BAD_PY)
    # Near miss first: without a repository boundary the parent's config is the project's.
    assert project_root(repo / "sub") == planted
    git(repo, "init", "-q")
    assert project_root(repo / "sub") == repo / "sub"
    proc = dbh(repo / "sub", "check", "--no-cache")
    assert proc.returncode == 1 and "unknown-column" in proc.stdout  # not disabled
    (repo / "pyproject.toml").write_text("[tool.dbharness]\n")
    assert project_root(repo / "sub") == repo  # the repository's own config still counts
    (repo / ".git").rename(repo / ".hg")
    (repo / "pyproject.toml").unlink()
    assert project_root(repo / "sub") == repo / "sub"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "db.py").write_text('import sqlite3\nsqlite3.connect("x").execute('
                                '"CREATE TABLE t (id INTEGER PRIMARY KEY)")\n')
    git(root, "init", "-q")
    git(root, "add", "db.py")
    git(root, "commit", "-qm", "one")
    return root


def test_revisions_never_reach_git_as_options(repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "written-by-git"
    config = Config.from_sources(repo, cache=False)
    for rev in (f"--output={target}", f"--output={target}:db.py"):
        with pytest.raises(ConfigError):
            ddl_at_revision(config, rev)
    # Past the leading-dash guard: git itself is told where options end.
    with pytest.raises(ConfigError, match="rev-parse"):
        resolve_commit(repo, f"HEAD --output={target}")
    assert not target.exists()
    assert ddl_at_revision(config, "HEAD") == ["CREATE TABLE t (id INTEGER PRIMARY KEY)"]
    assert len(resolve_commit(repo, "HEAD")) == 40


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_option_like_revisions_in_the_config_are_config_errors(repo: Path,
                                                               tmp_path: Path) -> None:
    target = tmp_path / "written-by-git"
    (repo / "pyproject.toml").write_text(f'[tool.dbharness]\nrevisions = ["--output={target}"]\n')
    proc = dbh(repo, "check", "--no-cache")
    assert proc.returncode == 2 and "revisions:" in proc.stderr and not target.exists()
    proc = dbh(repo, "snapshot", "from-git", "--dir", str(tmp_path), "--",
               f"--output={target}")
    assert proc.returncode == 2 and "not a git revision" in proc.stderr
    assert not target.exists()
    (repo / "pyproject.toml").write_text('[tool.dbharness]\nrevisions = ["HEAD"]\n')
    assert dbh(repo, "check", "--no-cache").returncode == 0  # near miss: a real revision


STRICT = {"PYTHONIOENCODING": "utf-8:strict", "LC_ALL": "C.UTF-8", "NO_COLOR": "1"}
IDENT = 'conn.execute(\'INSERT INTO t ("c\\x1b]0;x\\x07d") VALUES (1)\')\n'


def nasty_name_project(root: Path) -> str:
    """A file whose name is not UTF-8 and holds an escape sequence; SQL whose identifier
    holds ESC and BEL. Returns the escaped name the output must show."""
    write_project(root, GOOD)
    name = os.fsdecode(b"bad\xff\x1b[31m.py")
    (root / name).write_text(GOOD["app.py"].strip().replace("\n    ", "\n") + "\n" + IDENT)
    return "bad\\xff\\x1b[31m.py"


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_non_utf8_names_and_control_characters_are_escaped(tmp_path: Path, fmt: str) -> None:
    shown = nasty_name_project(tmp_path)
    proc = dbh(tmp_path, "check", "--no-cache", "--format", fmt, env=STRICT)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert shown in proc.stdout
    assert "c\\x1b]0;x\\x07d" in proc.stdout
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout


def test_sarif_uris_are_percent_encoded(tmp_path: Path) -> None:
    nasty_name_project(tmp_path)
    (tmp_path / "with space#1.py").write_text(GOOD["app.py"].strip().replace("\n    ", "\n")
                                              + "\n" + IDENT)
    proc = dbh(tmp_path, "check", "--no-cache", "--format", "sarif", env=STRICT)
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for r in json.loads(proc.stdout)["runs"][0]["results"] for loc in r["locations"]}
    assert uris == {"bad%FF%1B%5B31m.py", "with%20space%231.py"}


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_contracts_output_escapes_names_too(tmp_path: Path) -> None:
    shown = nasty_name_project(tmp_path)
    for fmt in ("text", "mermaid", "json"):
        proc = dbh(tmp_path, "contracts", "--format", fmt, env=STRICT)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        assert "\x1b" not in proc.stdout
    assert shown in dbh(tmp_path, "contracts", env=STRICT).stdout


def test_a_baseline_that_is_not_a_regular_file_is_a_config_error(tmp_path: Path) -> None:
    write_project(tmp_path, GOOD)
    proc = dbh(tmp_path, "check", "--no-cache", "--baseline", "/dev/zero", limit_memory=True)
    assert proc.returncode == 2 and "not a regular file (device)" in proc.stderr
