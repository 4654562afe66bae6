"""The command line, run for real in subprocesses: exit codes, formats, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.helpers import write_project

FIXTURES = Path(__file__).parent / "fixtures"
BAD = {
    "app.py": '''
        import sqlite3
        conn = sqlite3.connect("x")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
        def add(rec):
            conn.execute("INSERT INTO t (name) VALUES (:name)", rec)
        add({"name": "a", "colour": 1})
        conn.execute("SELECT nme FROM t")
    ''',
}


def dbh(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=cwd, text=True,
                          capture_output=True, env=env, input=stdin, timeout=120)


def test_clean_project_exits_zero(tmp_path: Path) -> None:
    write_project(tmp_path, {"a.py": "x = 1\n"})
    proc = dbh(tmp_path, "check")
    assert proc.returncode == 0, proc.stderr
    assert "no problems" in proc.stdout


def test_findings_exit_one_with_locations(tmp_path: Path) -> None:
    write_project(tmp_path, BAD)
    proc = dbh(tmp_path, "check", "--no-cache")
    assert proc.returncode == 1
    assert "app.py:6:19: DBH201 [key-without-column]" in proc.stdout
    assert "app.py:7:22: DBH102 [unknown-column]" in proc.stdout
    assert "fix: ALTER TABLE t ADD COLUMN colour INTEGER" in proc.stdout


def test_json_format(tmp_path: Path) -> None:
    write_project(tmp_path, BAD)
    proc = dbh(tmp_path, "check", "--format", "json")
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert {d["rule"] for d in data} == {"key-without-column", "unknown-column"}
    for d in data:
        assert {"code", "rule", "severity", "path", "line", "col", "message"} <= d.keys()
    kwc = next(d for d in data if d["rule"] == "key-without-column")
    assert (kwc["table"], kwc["column"], kwc["key"]) == ("t", "colour", "colour")


def test_sarif_validates_against_the_official_schema(tmp_path: Path) -> None:
    write_project(tmp_path, BAD)
    proc = dbh(tmp_path, "check", "--format", "sarif")
    assert proc.returncode == 1
    sarif = json.loads(proc.stdout)
    schema = json.loads((FIXTURES / "sarif-2.1.0-rtm.5.json").read_text(encoding="utf-8"))
    jsonschema.validate(sarif, schema)
    run = sarif["runs"][0]
    assert len(run["results"]) == 2
    ids = {r["id"] for r in run["tool"]["driver"]["rules"]}
    assert {res["ruleId"] for res in run["results"]} <= ids


def test_sarif_of_a_clean_run_validates(tmp_path: Path) -> None:
    write_project(tmp_path, {"a.py": "x = 1\n"})
    sarif = json.loads(dbh(tmp_path, "check", "--format", "sarif").stdout)
    schema = json.loads((FIXTURES / "sarif-2.1.0-rtm.5.json").read_text(encoding="utf-8"))
    jsonschema.validate(sarif, schema)


def test_github_format(tmp_path: Path) -> None:
    write_project(tmp_path, BAD)
    proc = dbh(tmp_path, "check", "--format", "github")
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(
        "::error file=app.py,line=6,col=19,title=DBH201 key-without-column::")


def test_usage_errors_exit_two(tmp_path: Path) -> None:
    proc = dbh(tmp_path, "check", "--format", "xml")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
    proc = dbh(tmp_path, "frobnicate")
    assert proc.returncode == 2
    proc = dbh(tmp_path, "rule", "no-such-rule")
    assert proc.returncode == 2 and proc.stderr.startswith("dbharness: error:")


def test_bad_config_exits_two_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.dbharness]\ndialect = 'oracle'\n")
    proc = dbh(tmp_path, "check")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "unknown dialect" in proc.stderr
    (tmp_path / "pyproject.toml").write_text("[tool.dbharness\n")
    proc = dbh(tmp_path, "check")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_unreadable_and_broken_files_are_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    write_project(tmp_path, BAD)
    (tmp_path / "broken.py").write_text("def f(:\n    pass\n")
    (tmp_path / "latin.py").write_bytes(b"x = '\xe9\xe8'\n")
    (tmp_path / "q.sql").write_bytes(b"SELECT \xff FROM t")
    proc = dbh(tmp_path, "check", "--format", "json")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    errors = {d["path"]: d["message"] for d in data if d["rule"] == "file-error"}
    assert errors["broken.py"].startswith("syntax error")
    assert errors["latin.py"].startswith("cannot decode")
    assert errors["q.sql"].startswith("cannot decode")
    assert any(d["rule"] == "key-without-column" for d in data)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_permission_denied(tmp_path: Path) -> None:  # pragma: no cover - CI runs as root
    (tmp_path / "secret.py").write_text("x = 1\n")
    (tmp_path / "secret.py").chmod(0)
    proc = dbh(tmp_path, "check")
    assert proc.returncode == 1 and "cannot read" in proc.stdout


def test_rule_docs(tmp_path: Path) -> None:
    proc = dbh(tmp_path, "rule", "key-without-column")
    assert proc.returncode == 0
    for heading in ("What it does", "Why is this bad?", "Example", "How to fix"):
        assert heading in proc.stdout
    listing = dbh(tmp_path, "rule").stdout
    assert "DBH201  key-without-column" in listing
    assert dbh(tmp_path, "rule", "DBH102").stdout.startswith("# DBH102 unknown-column")


def test_contracts_command(tmp_path: Path) -> None:
    write_project(tmp_path, BAD)
    text = dbh(tmp_path, "contracts").stdout
    assert "bindings (1):" in text and "-> table t" in text
    data = json.loads(dbh(tmp_path, "contracts", "--format", "json").stdout)
    assert data["bindings"][0]["writer"]["function"] == "add"
    assert dbh(tmp_path, "contracts", "--format", "mermaid").stdout.startswith("flowchart")


def test_baseline(tmp_path: Path) -> None:
    write_project(tmp_path, BAD)
    base = tmp_path / "baseline.json"
    proc = dbh(tmp_path, "check", "--baseline", str(base), "--update-baseline")
    assert proc.returncode == 0 and base.is_file()
    assert dbh(tmp_path, "check", "--baseline", str(base)).returncode == 0
    with (tmp_path / "app.py").open("a") as fh:
        fh.write('conn.execute("SELECT other FROM t")\n')
    proc = dbh(tmp_path, "check", "--baseline", str(base))
    assert proc.returncode == 1 and "other" in proc.stdout and "nme" not in proc.stdout
    assert dbh(tmp_path, "check", "--baseline", str(tmp_path / "none.json")).returncode == 2


def test_config_show_and_python_dash_m(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.dbharness]\ndialect = 'postgres'\n")
    proc = dbh(tmp_path, "config")
    assert proc.returncode == 0 and 'dialect = "postgres"' in proc.stdout


def test_console_script_is_installed() -> None:
    exe = Path(sys.executable).with_name("dbharness")
    if not exe.exists():
        pytest.skip("not installed as a console script in this environment")
    proc = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and proc.stdout.startswith("dbharness ")


def test_run_from_a_subdirectory_uses_the_project_root(tmp_path: Path) -> None:
    write_project(tmp_path, BAD)
    (tmp_path / "pyproject.toml").write_text("[tool.dbharness]\npaths = ['.']\n")
    sub = tmp_path / "deep" / "er"
    sub.mkdir(parents=True)
    proc = dbh(sub, "check", "--no-cache")
    assert proc.returncode == 1 and "app.py:6:19: DBH201" in proc.stdout
    only = dbh(sub, "check", "--no-cache", "../../app.py")
    assert only.returncode == 1 and "app.py:6:19" in only.stdout
