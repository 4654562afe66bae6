"""Hostile input: every case gives a clear message, the run goes on, time and memory bounded."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import findings, write_project

GOOD = {
    "db.py": 'import sqlite3\nconn = sqlite3.connect("x")\n'
             'conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)")\n'
             'def add(rec):\n    conn.execute("INSERT INTO t (a) VALUES (:a)", rec)\n',
    "app.py": 'from db import add\nadd({"a": 1, "stray": 2})\n',
}


def run_cli(root: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", "check", "--format", "json",
                           "--no-cache", *args], cwd=root, capture_output=True, text=True,
                          timeout=timeout)


NASTY: dict[str, bytes] = {
    "py2.py": b"print 'hello'\nexec 'x = 1'\n",
    "syntax.py": b"def f(:\n    return\n",
    "latin1.py": b"# no coding cookie\nx = '\xe9t\xe9'\n",
    "cookie_latin1.py": b"# -*- coding: latin-1 -*-\nx = '\xe9t\xe9'\n",
    "bad_cookie.py": b"# -*- coding: klingon -*-\nx = 1\n",
    "bom.py": b"\xef\xbb\xbfimport sqlite3\nsqlite3.connect('x').execute('SELECT 1')\n",
    "nul.py": b"x = 1\x00\n",
    "empty.py": b"",
    "only_comments.py": b"# nothing\n# here\n",
    "tabs_mixed.py": b"if True:\n\tx = 1\n        y = 2\n",
    "deep_parens.py": b"x = " + b"(" * 100_000 + b"1" + b")" * 100_000 + b"\n",
    "deep_lists.py": b"x = " + b"[" * 900 + b"1" + b"]" * 900 + b"\n",
    "deep_ifs.py": b"".join(b"    " * i + b"if x:\n" for i in range(90)) + b"    " * 90 + b"pass\n",
    "long_line.py": b"x = " + b"+".join(b"1" for _ in range(50_000)) + b"\n",
    "sql_strings.py": (
        b"import sqlite3\nc = sqlite3.connect('x')\n"
        b"c.execute(\"SELECT 'a;b', \\\"q\\\"\\\"q\\\" FROM t -- ; comment\\n WHERE x = ';'\")\n"
        b"c.execute('SELECT /* ; */ 1; SELECT 2')\n"
        b"c.execute(\"SELECT 'unterminated FROM t\")\n"
        b"c.execute('SELECT * FROM (((')\n"
        b"c.execute('')\n"
        b"c.execute(';;;')\n"
        b"c.execute('CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 1; END')\n"
        b"c.execute('WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
        b"SELECT n FROM r')\n"
        b"c.execute('PRAGMA table_info(t)')\n"
        b"c.execute('SELECT $$dollar$$, @x, ?999, :_, %%')\n"
        b"c.execute(f'SELECT {{x}} {{{y}}} FROM {t!r:>10}')\n"
        b"c.execute('\\N{BULLET} \\x00 \\u2603 SELECT 1')\n"
    ),
    "weird_python.py": (
        b"match x:\n    case {'a': 1, **rest}:\n        pass\n"
        b"async def f():\n    async with a as b:\n        await b.execute('SELECT 1')\n"
        b"lambda: {**{}, 'k': 1}\n"
        b"d = {}\nd[...] = 1\nd[1:2] = 3\n(d := {'x': 1})\n"
        b"class A(metaclass=M):\n    x: int\n    def m(self, /, a, *, b, **kw): ...\n"
        b"try:\n    pass\nexcept* ValueError:\n    pass\n"
        b"def g(*a, **k):\n    return g(*a, **k)\n"
        b"global_name = [ {'a': i} for i in range(3) if i ]\n"
    ),
}


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_nasty_corpus_each_case_named(tmp_path: Path) -> None:
    write_project(tmp_path, GOOD)
    for name, data in NASTY.items():
        (tmp_path / "nasty" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "nasty" / name).write_bytes(data)
    (tmp_path / "nasty" / "queries.sql").write_bytes(
        b"SELECT 'a;b' FROM t; /* ; */ SELECT \"x\"\"y\" FROM t;\nSELEC broken;\n")
    (tmp_path / "nasty" / "binary.sql").write_bytes(b"\x00\x01\x02SQLite")
    (tmp_path / "nasty" / "bom.sql").write_bytes(b"\xef\xbb\xbfSELECT id FROM t;\n")
    loop = tmp_path / "nasty" / "loop"
    loop.mkdir()
    os.symlink(loop, loop / "again")
    os.symlink(tmp_path / "nowhere.py", tmp_path / "nasty" / "dangling.py")
    start = time.perf_counter()
    proc = run_cli(tmp_path)
    elapsed = time.perf_counter() - start
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    by_path: dict[str, list[dict[str, object]]] = {}
    for d in data:
        by_path.setdefault(str(d["path"]), []).append(d)

    def messages(name: str) -> str:
        return " | ".join(str(d["message"]) for d in by_path.get(f"nasty/{name}", []))

    assert "syntax error" in messages("py2.py")
    assert "syntax error" in messages("syntax.py")
    assert "cannot decode" in messages("latin1.py")
    assert messages("cookie_latin1.py") == ""  # a declared encoding is honoured
    assert "cannot decode" in messages("bad_cookie.py")
    assert messages("bom.py") == ""
    assert "NUL" in messages("nul.py")
    assert messages("empty.py") == "" and messages("only_comments.py") == ""
    assert "syntax error" in messages("tabs_mixed.py") or "indent" in messages("tabs_mixed.py")
    assert messages("deep_parens.py")  # too deep for the parser: reported, not a crash
    assert "sql-syntax" in {d["rule"] for d in by_path.get("nasty/sql_strings.py", [])}
    assert "unterminated" in messages("sql_strings.py") or "tokenize" in messages(
        "sql_strings.py")
    assert "NUL" in messages("binary.sql")
    assert any(d["rule"] == "sql-syntax" for d in by_path.get("nasty/queries.sql", []))
    assert "cannot read" in messages("dangling.py")
    assert any(d["rule"] == "key-without-column" for d in by_path["app.py"])  # run went on
    assert all(d["rule"] != "internal-error" for d in data), [
        d for d in data if d["rule"] == "internal-error"]
    assert elapsed < 60


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_huge_python_file_is_skipped_with_a_message(tmp_path: Path) -> None:
    write_project(tmp_path, GOOD)
    with (tmp_path / "huge.py").open("wb") as fh:
        line = b"x = {'a': 1, 'b': 'some text that is not sql at all'}\n"
        fh.write(line * (50 * 1024 * 1024 // len(line) + 1))
    start = time.perf_counter()
    proc = run_cli(tmp_path)
    assert time.perf_counter() - start < 30
    data = json.loads(proc.stdout)
    (huge,) = [d for d in data if d["path"] == "huge.py"]
    assert "limit" in huge["message"]


def test_megabyte_sql_string_is_a_note_and_does_not_fail(tmp_path: Path) -> None:
    big = "INSERT INTO t (a) VALUES ('x');\n" * 40_000
    (tmp_path / "seed.py").write_text(f"import sqlite3\nsqlite3.connect('x').executescript("
                                      f"{big!r})\n")
    start = time.perf_counter()
    proc = run_cli(tmp_path)
    assert time.perf_counter() - start < 30
    data = json.loads(proc.stdout)
    assert [(d["rule"], d["severity"]) for d in data] == [("input-skipped", "note")]
    assert proc.returncode == 0


def test_static_means_static(tmp_path: Path) -> None:
    """Checking never imports or runs user code: a module whose import writes a file."""
    canary = tmp_path / "IMPORTED"
    write_project(tmp_path, {
        **GOOD,
        "evil.py": f"open({str(canary)!r}, 'w').write('x')\nimport db\n",
        "conftest_like.py": f"import os\nos.system('touch {canary}')\n",
        "pkg/__init__.py": f"open({str(canary)!r}, 'w')\n",
        "pkg/mod.py": "from . import x\n",
    })
    proc = run_cli(tmp_path)
    assert proc.returncode == 1
    assert not canary.exists()
    got = findings(tmp_path, {})
    assert not canary.exists() and got


def test_unreadable_directory_is_skipped(tmp_path: Path) -> None:
    write_project(tmp_path, GOOD)
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "x.py").write_text("x = 1\n")
    locked.chmod(0)
    try:
        proc = run_cli(tmp_path)
    finally:
        locked.chmod(0o755)
    assert "Traceback" not in proc.stderr and proc.returncode == 1


def test_locked_and_read_only_snapshots(tmp_path: Path) -> None:
    from harness.config import Config
    from harness.migrations.snapshots import discover
    from harness.migrations.verify import Verifier

    (tmp_path / "app.py").write_text(
        "import sqlite3\n\ndef upgrade(path):\n    conn = sqlite3.connect(path)\n"
        "    conn.execute('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, a TEXT)')\n"
        "    conn.commit()\n")
    snaps = tmp_path / "snapshots"
    snaps.mkdir()
    for name in ("locked.sqlite", "readonly.sqlite"):
        conn = sqlite3.connect(snaps / name)
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)")
        conn.execute("INSERT INTO t VALUES (1, 'x')")
        conn.commit()
        conn.close()
    (snaps / "readonly.sqlite").chmod(0o444)
    holder = sqlite3.connect(snaps / "locked.sqlite", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        config = Config.from_sources(tmp_path, snapshots="snapshots/*", timeout=30)
        got = list(Verifier(config, "app:upgrade", ("schema", "rows", "idempotent")).verify(
            discover(config.snapshots, tmp_path)))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [o.status for o in got] == ["pass"] * 6, [o.message for o in got]


def test_entry_that_calls_sys_exit_nonzero(tmp_path: Path) -> None:
    from harness.config import Config
    from harness.migrations.snapshots import discover
    from harness.migrations.verify import Verifier

    (tmp_path / "app.py").write_text("import sys\n\ndef upgrade(path):\n    sys.exit(3)\n")
    (tmp_path / "snapshots").mkdir()
    (tmp_path / "snapshots" / "v1.sql").write_text("CREATE TABLE t (a INT);\n")
    config = Config.from_sources(tmp_path, snapshots="snapshots/*")
    (outcome,) = Verifier(config, "app:upgrade", ("schema",)).verify(
        discover(config.snapshots, tmp_path))
    assert outcome.status == "error" and "exit 3" in outcome.message


@pytest.mark.parametrize("entry", ["nomodule:upgrade", "app:nofunction", "not-an-entry"])
def test_bad_entry_points_are_reported(tmp_path: Path, entry: str) -> None:
    from harness.config import Config
    from harness.migrations.snapshots import discover
    from harness.migrations.verify import Verifier

    (tmp_path / "app.py").write_text("def upgrade(path):\n    pass\n")
    (tmp_path / "snapshots").mkdir()
    (tmp_path / "snapshots" / "v1.sql").write_text("CREATE TABLE t (a INT);\n")
    config = Config.from_sources(tmp_path, snapshots="snapshots/*")
    (outcome,) = Verifier(config, entry, ("schema",)).verify(discover(config.snapshots, tmp_path))
    assert outcome.status == "error" and "Traceback" not in outcome.message
