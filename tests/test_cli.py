"""The command line, run for real in subprocesses: exit codes, formats, bad input."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import toml_emit
from harness.config import Config
from harness.errors import ConfigError
from harness.paths import inside_root
from harness.rules import find_rule
from tests.helpers import run_on_pty, write_project

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
    severity = {d["path"]: d["severity"] for d in data if d["rule"] == "file-error"}
    assert errors["broken.py"].startswith("not analysed: Python syntax error")
    assert severity["broken.py"] == "note"  # not Python this interpreter parses: a note
    assert errors["latin.py"].startswith("cannot decode")
    assert severity["latin.py"] == severity["q.sql"] == "error"
    assert errors["q.sql"].startswith("cannot decode")
    assert any(d["rule"] == "key-without-column" for d in data)


def test_python2_file_is_a_note_that_does_not_fail_the_run(tmp_path: Path) -> None:
    (tmp_path / "legacy.py").write_text("def f(db):\n    print 'hi'\n")
    (tmp_path / "app.py").write_text(
        "def f(db):\n    db.execute('CREATE TABLE t (a INT)')\n"
        "    db.execute('SELECT a FROM t')\n")
    proc = dbh(tmp_path, "check")
    assert proc.returncode == 0, proc.stdout
    assert "legacy.py:2:" in proc.stdout and "[file-error] not analysed" in proc.stdout
    assert "1 file not analysed: Python syntax error" in proc.stdout
    contracts = json.loads(dbh(tmp_path, "contracts", "--format", "json").stdout)
    assert contracts["coverage"]["files_not_analysed"] == {"Python syntax error": 1}
    # near miss: the files it can parse still fail the run
    (tmp_path / "app.py").write_text(
        "def f(db):\n    db.execute('CREATE TABLE t (a INT)')\n"
        "    db.execute('SELECT b FROM t')\n")
    assert dbh(tmp_path, "check", "--no-cache").returncode == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_permission_denied(tmp_path: Path) -> None:  # pragma: no cover - CI runs as root
    (tmp_path / "secret.py").write_text("x = 1\n")
    (tmp_path / "secret.py").chmod(0)
    proc = dbh(tmp_path, "check")
    assert proc.returncode == 1 and "cannot read" in proc.stdout


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_rule_docs(tmp_path: Path) -> None:
    proc = dbh(tmp_path, "rule", "key-without-column")
    assert proc.returncode == 0
    for heading in ("What it does", "Why is this bad?", "Example", "How to fix"):
        assert heading in proc.stdout
    listing = dbh(tmp_path, "rule").stdout
    assert "DBH201  key-without-column" in listing
    assert dbh(tmp_path, "rule", "DBH102").stdout.startswith("# DBH102 unknown-column")


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_contracts_command(tmp_path: Path) -> None:
    write_project(tmp_path, BAD)
    text = dbh(tmp_path, "contracts").stdout
    assert "bindings (1):" in text and "-> table t" in text
    data = json.loads(dbh(tmp_path, "contracts", "--format", "json").stdout)
    assert data["bindings"][0]["writer"]["function"] == "add"
    assert dbh(tmp_path, "contracts", "--format", "mermaid").stdout.startswith("flowchart")


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
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


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_run_from_a_subdirectory_uses_the_project_root(tmp_path: Path) -> None:
    write_project(tmp_path, BAD)
    (tmp_path / "pyproject.toml").write_text("[tool.dbharness]\npaths = ['.']\n")
    sub = tmp_path / "deep" / "er"
    sub.mkdir(parents=True)
    proc = dbh(sub, "check", "--no-cache")
    assert proc.returncode == 1 and "app.py:6:19: DBH201" in proc.stdout
    only = dbh(sub, "check", "--no-cache", "../../app.py")
    assert only.returncode == 1 and "app.py:6:19" in only.stdout


# --- exit codes you can trust (issue 17) ---------------------------------------------------

@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_a_path_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    write_project(tmp_path, BAD)
    for args in (("does-not-exist",), ("app.py", "src/"), ("missing.sql",)):
        proc = dbh(tmp_path, "check", "--no-cache", *args)
        assert proc.returncode == 2, (args, proc.stdout)
        assert proc.stderr.count("\n") == 1 and "no such file or directory" in proc.stderr
        assert "no problems" not in proc.stdout
    assert dbh(tmp_path, "contracts", "nowhere").returncode == 2
    assert dbh(tmp_path, "check", "--no-cache", "app.py").returncode == 1  # near miss


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_a_run_that_checks_no_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("SELECT 1")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("x = 1\n")  # test files are excluded
    for args in ((), ("empty",), ("docs",), ("tests",)):
        proc = dbh(tmp_path, "check", "--no-cache", *args)
        assert proc.returncode == 2, (args, proc.stdout)
        assert proc.stderr.count("\n") == 1 and "no Python or SQL files" in proc.stderr
    os.mkfifo(tmp_path / "empty" / "q.sql")
    proc = dbh(tmp_path, "check", "--no-cache", "empty")
    assert proc.returncode == 2 and "not a regular file (FIFO)" in proc.stderr
    (tmp_path / "empty" / "ok.py").write_text("x = 1\n")
    assert dbh(tmp_path, "check", "--no-cache", "empty").returncode == 0  # near miss


# --- config validation (issue 12) ----------------------------------------------------------

@pytest.mark.parametrize(("setting", "words"), [
    ("jobs = -3", "jobs: expected an integer from 0"),
    ("jobs = 100000", "jobs: expected an integer from 0"),
    ("jobs = true", "jobs: expected a non-negative integer, got true"),
    ("jobs = 1.5", "jobs: expected a non-negative integer, got 1.5"),
    ("timeout = -1", "timeout: expected a finite number of seconds above 0, got -1.0"),
    ("timeout = 0", "timeout: expected a finite number"),
    ("timeout = nan", "timeout: expected a finite number of seconds above 0, got nan"),
    ("timeout = inf", "timeout: expected a finite number"),
    ('timeout = "5"', "timeout: expected a number of seconds, got the string '5'"),
    ('disable = ["no-such-rule"]', "disable: unknown rule 'no-such-rule'"),
    ("disable = [1]", "disable: expected a list of strings, got an array"),
    ("paths = {a = 1}", "paths: expected a list of strings, got a table"),
    ("dialect = {x = 'sqlite'}", "dialect: expected a string, got a table"),
    ("entry = 3", "entry: expected a string, got 3"),
    ("tests = 'yes'", "tests: expected true or false, got the string 'yes'"),
    ("binding = 'a.py:x'", "binding: expected an array of tables"),
    ("binding = [{record = 'a.py:x'}]", "binding.table must name a table"),
    ("binding = [{record = 'a.py:x', table = 't', extra = 1}]", "unknown key(s)"),
    ("binding = [{record = 5, table = 't'}]", "binding.record must look like"),
    ("binding = [{record = 'a.py:x', table = 't', writer = ['m:f']}]", "binding.writer"),
    ("dbharness = 3", "unknown setting 'dbharness'"),
])
@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_malformed_config_names_the_key_and_type(tmp_path: Path, setting: str,
                                                 words: str) -> None:
    write_project(tmp_path, BAD)
    (tmp_path / "pyproject.toml").write_text(f"[tool.dbharness]\n{setting}\n")
    # Each case through one command, the commands in turn: all of them read the config.
    commands = ("check", "contracts", "config", "migrations")
    command = commands[len(setting) % len(commands)]
    proc = dbh(tmp_path, command)
    assert proc.returncode == 2, (command, proc.stdout)
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert words in proc.stderr and "internal error" not in proc.stderr


@pytest.mark.parametrize("text", [
    "tool = 5\n",
    "[tool]\ndbharness = 3\n",
    "[tool]\ndbharness = [1, 2]\n",
    "[[tool.dbharness]]\npaths = ['.']\n",
])
def test_non_table_sections(tmp_path: Path, text: str) -> None:
    write_project(tmp_path, BAD)
    (tmp_path / "pyproject.toml").write_text(text)
    proc = dbh(tmp_path, "check", "--no-cache")
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    # 'tool = 5' is another tool's business: no [tool.dbharness], so defaults apply.
    assert proc.returncode == (1 if text == "tool = 5\n" else 2), proc.stderr
    if proc.returncode == 2:
        assert "[tool.dbharness]: expected a table" in proc.stderr


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_command_line_numbers_are_range_checked(tmp_path: Path) -> None:
    write_project(tmp_path, BAD)
    for args in (("check", "--jobs", "-1"), ("check", "--jobs", "100000"),
                 ("migrations", "--timeout", "nan"), ("migrations", "--timeout", "-5"),
                 ("migrations", "--timeout", "inf")):
        proc = dbh(tmp_path, *args)
        assert proc.returncode == 2, args
        assert proc.stderr.count("\n") <= 2 and "Traceback" not in proc.stderr
        assert "internal error" not in proc.stderr
    proc = dbh(tmp_path, "migrations", "--timeout", "nan")
    assert "timeout: expected a finite number of seconds above 0, got nan" in proc.stderr
    assert dbh(tmp_path, "check", "--no-cache", "--jobs", "1").returncode == 1  # near miss


_SCALARS = (st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats()
            | st.text(max_size=12) | st.sampled_from([".", "src", "..", "/", "HEAD", "DBH201",
                                                      "key-without-column", "a.py:x", "t"]))
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(["record", "table", "writer", "x", ""]) | st.text(
        max_size=5), inner, max_size=3),
    max_leaves=8,
)
_KEYS = sorted(f.name for f in dataclasses.fields(Config)
               if f.name not in ("root", "found_config"))


@pytest.mark.parametrize("key", _KEYS)
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=_VALUES)
def test_any_toml_value_for_any_key_is_a_config_or_a_config_error(
        tmp_path: Path, key: str, value: object) -> None:
    """Property: whatever TOML a checkout holds, loading it gives a Config or one
    ConfigError line naming the key, never another exception."""
    (tmp_path / "pyproject.toml").write_text(
        f"[tool.dbharness]\n{key} = {toml_emit.value(value)}\n", encoding="utf-8")
    try:
        config = Config.from_sources(tmp_path)
    except ConfigError as err:
        message = str(err)
        assert "\n" not in message
        assert key in message or key.replace("_", "-") in message, message
    else:  # what loads is in range
        assert math.isfinite(config.timeout) and config.timeout > 0
        assert isinstance(config.jobs, int) and not isinstance(config.jobs, bool)
        assert 0 <= config.jobs <= (os.cpu_count() or 1) * 4
        assert isinstance(config.tests, bool) and isinstance(config.cache, bool)
        assert all(find_rule(name) is not None for name in config.disable)
        assert all(inside_root(tmp_path / p, tmp_path) for p in config.paths)
        assert inside_root(tmp_path / config.contracts, tmp_path)
        assert all(not r.startswith("-") for r in config.revisions)
        assert all(isinstance(b, dict) for b in config.binding)


# --- dbharness config prints TOML you can paste ---------------------------------------------

def test_config_prints_toml_that_round_trips(tmp_path: Path) -> None:
    settings_toml = textwrap.dedent('''
        [tool.dbharness]
        paths = ["src", "lib"]
        exclude = ["gen", "*_pb2.py"]
        dialect = "postgres"
        snapshots = "snaps/*.sqlite"
        entry = "app.db:init"
        timeout = 5.5
        contracts = "c"
        disable = ["unknown-column", "DBH201"]
        external_tables = ["ext \\"quoted\\" \\\\ table\\u0001"]
        revisions = ["HEAD~1", "v1.0"]
        tests = true
        cache = false
        jobs = 2

        [[tool.dbharness.binding]]
        record = "src/a.py:rec"
        table = "t"

        [[tool.dbharness.binding]]
        record = "src/a.py:save(data)"
        table = "u"
        writer = "src.db:Store.save"
    ''')
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "pyproject.toml").write_text(settings_toml)
    proc = dbh(first, "config")
    assert proc.returncode == 0, proc.stderr
    assert "Config(" not in proc.stdout and "(" not in proc.stdout.split("]", 1)[1].split("=")[0]
    parsed = tomllib.loads(proc.stdout)
    assert parsed["tool"]["dbharness"]["binding"][1]["writer"] == "src.db:Store.save"
    (second / "pyproject.toml").write_text(proc.stdout)
    a, b = Config.from_sources(first), Config.from_sources(second)
    for f in dataclasses.fields(Config):
        if f.name != "root":
            assert getattr(a, f.name) == getattr(b, f.name), f.name
    assert a.timeout == 5.5 and a.dialect == "postgres" and len(a.binding) == 2
    # Defaults round-trip too (no [tool.dbharness] at all).
    empty = tmp_path / "empty"
    empty.mkdir()
    out = dbh(empty, "config").stdout
    (second / "pyproject.toml").write_text(out)
    assert dataclasses.replace(Config.from_sources(second), root=empty, found_config=False) \
        == Config.from_sources(empty)


# --- terminal manners ----------------------------------------------------------------------

def _all_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    out = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                out.extend(_all_parsers(sub))
    return out


def test_help_shows_no_restructuredtext_markup(tmp_path: Path) -> None:
    from harness.cli import build_parser

    parsers = _all_parsers(build_parser())
    assert len(parsers) >= 9  # dbharness, check, contracts, rule, config, migrations, snapshot..
    role = re.compile(r":[a-z]+:`|``|\.\. [a-z]+::")
    for parser in parsers:
        text = parser.format_help()
        assert not role.search(text), (parser.prog, text)
    proc = dbh(tmp_path, "--help")
    assert proc.returncode == 0 and "Exit codes" in " ".join(proc.stdout.split())
    assert "``" not in proc.stdout
    proc = dbh(tmp_path, "snapshot", "from-git", "--help")
    assert proc.returncode == 0 and "``" not in proc.stdout


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_colour_on_a_terminal_only_and_never_with_no_color(tmp_path: Path) -> None:
    write_project(tmp_path, BAD)
    on_tty, _ = run_on_pty(tmp_path, ["check", "--no-cache"], {})
    assert "\x1b[31mDBH201 [key-without-column]\x1b[0m" in on_tty
    assert "\x1b[1mapp.py:6:19:\x1b[0m" in on_tty
    no_color, _ = run_on_pty(tmp_path, ["check", "--no-cache"], {"NO_COLOR": "1"})
    assert "\x1b[" not in no_color and "app.py:6:19: DBH201 [key-without-column]" in no_color
    piped = dbh(tmp_path, "check", "--no-cache")
    assert "\x1b[" not in piped.stdout and "app.py:6:19: DBH201" in piped.stdout
    forced = subprocess.run([sys.executable, "-m", "harness", "check", "--no-cache"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "FORCE_COLOR": "1", "NO_COLOR": ""})
    assert "\x1b[31mDBH201" in forced.stdout


SLOW_ENTRY = '''
import sqlite3
import time


def init(path):
    time.sleep(3.5)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
'''


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_progress_line_on_a_terminal_for_slow_runs(tmp_path: Path) -> None:
    """A run that sleeps past two seconds (an entry point that takes its time) shows a
    progress line on a terminal stderr, erased at the end; none when stderr is a pipe."""
    (tmp_path / "slow.py").write_text(SLOW_ENTRY)
    terminal, piped = run_on_pty(tmp_path, ["snapshot", "create", "one", "--entry",
                                            "slow:init", "--dir", "snaps"], {},
                                 stdout_pty=False)
    assert (tmp_path / "snaps" / "one.sql").is_file(), terminal + piped
    assert "\rdbharness: making a snapshot... " in terminal
    assert re.search(r"\r {30,}\r", terminal)  # blanked at the end
    assert "making a snapshot" not in piped
    # With stdout on the same terminal, the line is blanked before the output, never after.
    both, _ = run_on_pty(tmp_path, ["snapshot", "create", "three", "--entry", "slow:init",
                                    "--dir", "snaps"], {})
    before, wrote, after = both.partition("dbharness: wrote ")
    assert wrote and "making a snapshot" in before and "making a snapshot" not in after
    assert re.search(r"\r {30,}\r$", before)
    proc = dbh(tmp_path, "snapshot", "create", "two", "--entry", "slow:init", "--dir", "snaps")
    assert proc.returncode == 0 and "making a snapshot" not in proc.stderr + proc.stdout
