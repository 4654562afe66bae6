"""The migration harness against untrusted checkouts (issue 12): each test reproduces an attack
or a fault with real files, real subprocesses and real symlinks."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness.config import Config
from harness.errors import ConfigError, SnapshotError
from harness.migrations.dumpload import DumpRefused, Kind, classify, fence, load_dump
from harness.migrations.runner import run_entry
from harness.migrations.snapshots import Snapshot, discover, materialize, scan
from harness.migrations.verify import ORIGINAL, Verifier
from harness.sql.live import read_schema
from tests.test_migrations import GOOD, LEGACY, make_app, verify

REPO = Path(__file__).resolve().parent.parent


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def gone(pid: int) -> bool:
    """No longer running: no such process, or a zombie waiting for whoever adopted it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        return True
    return stat[stat.rfind(b")") + 2:][:1] in (b"Z", b"X")


def wait_for(predicate: object, seconds: float = 30.0) -> None:
    """Wait until ``predicate()`` holds (a readiness wait, never a timing assertion)."""
    end = time.monotonic() + seconds
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > end:
            raise AssertionError("the condition never held")
        time.sleep(0.02)


# --- 1. dumps load inside the timed child, fenced -------------------------------------------

def test_attach_and_vacuum_into_in_a_dump_are_refused_and_reach_nothing(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = make_app(_mkdir(tmp_path / "proj"), {"app_good": GOOD}, {"b_ok.sqlite": LEGACY})
    other = root / "snapshots" / "b_ok.sqlite"
    before = sha(other)
    evil_attach = LEGACY + textwrap.dedent(f"""\
        ATTACH DATABASE '{other}' AS victim;
        DELETE FROM victim.items;
        ATTACH DATABASE '{outside / "planted.db"}' AS planted;
        CREATE TABLE planted.x (a);
        """)
    evil_vacuum = LEGACY + f"VACUUM INTO '{outside / 'copy.db'}';\n"
    (root / "snapshots" / "a_attach.sql").write_text(evil_attach, encoding="utf-8")
    (root / "snapshots" / "a_vacuum.sql").write_text(evil_vacuum, encoding="utf-8")
    got = verify(root, "app_good:upgrade", ("schema", "rows"), timeout=10)
    by = {(o.snapshot.split("/")[-1], o.check): o for o in got}
    attach = by[("a_attach.sql", "schema")]
    assert attach.status == "error"
    assert "snapshots/a_attach.sql" in attach.message and "line 6" in attach.message
    assert "ATTACH DATABASE" in attach.message
    vacuum = by[("a_vacuum.sql", "rows")]
    assert vacuum.status == "error" and "VACUUM INTO" in vacuum.message
    assert by[("b_ok.sqlite", "schema")].status == "pass"
    assert by[("b_ok.sqlite", "rows")].status == "pass"
    assert sha(other) == before and list(outside.iterdir()) == []
    assert not any(o.check == ORIGINAL for o in got)


def test_the_authorizer_alone_stops_attach_and_vacuum_into(tmp_path: Path) -> None:
    """Defence in depth: even a statement the kind check let through cannot reach a file."""
    target = tmp_path / "victim.db"
    conn = sqlite3.connect(tmp_path / "copy.db", isolation_level=None)
    fence(conn, 5.0)
    conn.execute("CREATE TABLE t (a)")
    for sql in (f"ATTACH DATABASE '{target}' AS v", f"VACUUM INTO '{target}'",
                "PRAGMA writable_schema = ON", "DROP TABLE t"):
        with pytest.raises(sqlite3.DatabaseError):
            conn.execute(sql)
    conn.close()
    assert not target.exists()


def test_a_recursive_cte_in_a_dump_is_stopped_by_the_time_bound(tmp_path: Path) -> None:
    forever = LEGACY + ("INSERT INTO items VALUES (9, (WITH RECURSIVE c(n) AS (SELECT 1 UNION "
                        "ALL SELECT n + 1 FROM c) SELECT max(n) FROM c), 0);\n")
    root = make_app(tmp_path, {"app_good": GOOD}, {"a_forever.sql": forever, "b_ok.sql": LEGACY})
    outcomes = {o.snapshot: o for o in verify(root, "app_good:upgrade", ("schema",), timeout=5)}
    slow = outcomes["snapshots/a_forever.sql"]
    # Stopped by the progress handler inside the child (which names the statement), not
    # merely killed by the parent.
    assert slow.status == "error" and "still running at the time limit" in slow.message
    assert "line 6" in slow.message and "WITH RECURSIVE" in slow.message
    assert outcomes["snapshots/b_ok.sql"].status == "pass"


@pytest.mark.parametrize("statement", [
    "ATTACH DATABASE 'x.db' AS x",
    "VACUUM INTO 'x.db'",
    "VACUUM",
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT n FROM c",
    "SELECT 1",
    "UPDATE items SET name = 'x'",
    "DELETE FROM items",
    "DROP TABLE items",
    "ALTER TABLE items ADD COLUMN x",
    "CREATE TABLE copy AS SELECT * FROM items",
    "CREATE TEMP TABLE t (a)",
    "CREATE VIRTUAL TABLE t USING fts5(a)",
    "INSERT INTO items SELECT * FROM items",
    "INSERT INTO items DEFAULT VALUES",
    "PRAGMA writable_schema = ON",
    "PRAGMA journal_mode = WAL",
    "PRAGMA foreign_keys",
    "REPLACE INTO items VALUES (1, 'a', 1)",
    "ANALYZE items",
    "SAVEPOINT a",
])
def test_statements_a_dump_never_holds_are_refused(statement: str) -> None:
    assert classify(statement + ";") is None


@pytest.mark.parametrize(("statement", "kind"), [
    ("BEGIN TRANSACTION;", Kind.TRANSACTION),
    ("COMMIT;", Kind.TRANSACTION),
    ("ROLLBACK; -- due to errors", Kind.TRANSACTION),
    ("PRAGMA foreign_keys=OFF;", Kind.PRAGMA),
    ("PRAGMA user_version = 3;", Kind.PRAGMA),
    ('CREATE TABLE "odd ""name""" (a);', Kind.CREATE_TABLE),
    ("CREATE TABLE IF NOT EXISTS t(a);", Kind.CREATE_TABLE),
    ("CREATE UNIQUE INDEX i ON t(a);", Kind.CREATE_INDEX),
    ("CREATE VIEW v AS SELECT * FROM t;", Kind.CREATE_VIEW),
    ("CREATE TRIGGER tr AFTER INSERT ON t BEGIN DELETE FROM t; END;", Kind.CREATE_TRIGGER),
    ("INSERT INTO \"t\" VALUES(1,'a;b');", Kind.INSERT),
    ("INSERT INTO t(rowid,a) VALUES(1,replace('a\\nb','\\n',char(10)));", Kind.INSERT),
    ('DELETE FROM "sqlite_sequence";', Kind.DELETE_SEQUENCE),
    ('ANALYZE "sqlite_master";', Kind.ANALYZE),
    ("-- a comment first\nBEGIN TRANSACTION;", Kind.TRANSACTION),
])
def test_statements_dumps_hold_are_accepted(statement: str, kind: Kind) -> None:
    assert classify(statement) is kind


RICH = """
CREATE TABLE parent (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE,
                     note TEXT CHECK (length(note) < 100), data BLOB);
CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id),
                    "odd; name" TEXT);
CREATE INDEX child_parent ON child(parent_id);
CREATE VIEW names AS SELECT name FROM parent;
CREATE TRIGGER parent_log AFTER DELETE ON parent BEGIN DELETE FROM child
    WHERE parent_id = old.id; END;
INSERT INTO parent (name, note, data) VALUES ('a', 'two
lines; and a '' quote', x'00ff'), ('b', NULL, NULL);
INSERT INTO child VALUES (1, 1, 'x;y'), (2, 2, NULL);
PRAGMA user_version = 7;
ANALYZE;
"""


def _contents(conn: sqlite3.Connection) -> list[object]:
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                         "ORDER BY name")]
    rows: list[object] = [conn.execute("SELECT type, name, sql FROM sqlite_master WHERE name "
                                       "NOT LIKE 'sqlite_autoindex%' ORDER BY name").fetchall()]
    rows += [conn.execute(f'SELECT * FROM "{t}" ORDER BY 1, 2').fetchall() for t in tables]
    rows.append(conn.execute("PRAGMA user_version").fetchone())
    return rows


@pytest.mark.parametrize("dumper", ["iterdump", "sqlite3-cli"])
def test_real_dumps_load_whole(tmp_path: Path, dumper: str) -> None:
    source = tmp_path / "source.db"
    conn = sqlite3.connect(source)
    conn.executescript(RICH)
    conn.commit()
    want = _contents(conn)
    if dumper == "iterdump":
        text = "\n".join(conn.iterdump()) + "\nPRAGMA user_version = 7;\n"
    else:
        if not Path("/usr/bin/sqlite3").exists():
            pytest.skip("no sqlite3 command-line shell")
        text = subprocess.run(["/usr/bin/sqlite3", str(source), ".dump"], capture_output=True,
                              text=True, check=True).stdout + "PRAGMA user_version = 7;\n"
    conn.close()
    dump = tmp_path / "snap.sql"
    dump.write_text(text, encoding="utf-8")
    dest = tmp_path / "copy.sqlite"
    materialize(Snapshot(dump, "snap.sql"), dest, timeout=10)
    with sqlite3.connect(dest) as copy:
        assert _contents(copy) == want


def test_load_dump_reports_the_statement_sqlite_rejects(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    with pytest.raises(DumpRefused, match=r"line 2: INSERT INTO nope VALUES\(1\): does not "
                                          r"load: no such table: nope"):
        load_dump("CREATE TABLE t (a);\nINSERT INTO nope VALUES(1);\n", conn, 5.0)


def test_a_statement_hidden_after_another_on_one_line_is_still_checked(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    text = ("CREATE TABLE t (a);\nINSERT INTO t VALUES(1); INSERT INTO t VALUES(2);\n"
            "INSERT INTO t VALUES(3); UPDATE t SET a = 0;\n")
    with pytest.raises(DumpRefused, match=r"^line 3: UPDATE t SET a = 0: not a statement"):
        load_dump(text, conn, 5.0)
    assert conn.execute("SELECT a FROM t ORDER BY a").fetchall() == [(1,), (2,), (3,)]


def test_strings_full_of_statement_ends_load_exactly(tmp_path: Path) -> None:
    tricky = "a;\n" * 200 + "it''s -- not a comment; /* nor this */"
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    text = (f"CREATE TABLE t (a);\nINSERT INTO t VALUES('{tricky}');\n"
            "CREATE TRIGGER tr AFTER DELETE ON t BEGIN\n  SELECT 1;\nEND;\n"
            "INSERT INTO t VALUES(2);\nDROP TABLE t;\n")
    with pytest.raises(DumpRefused, match=r"^line 207: DROP TABLE t: not a statement"):
        load_dump(text, conn, 5.0)
    assert conn.execute("SELECT a FROM t ORDER BY rowid").fetchall() == [
        (tricky.replace("''", "'"),), (2,)]


# --- 2. originals are hashed before and after -----------------------------------------------

UPGRADES_EVERY_DATABASE = '''
import glob
import os
import sqlite3
from app_good import upgrade as good

def upgrade(path):
    """Upgrades the given database, then "helpfully" every other one it finds."""
    good(path)
    for other in glob.glob(os.path.join(os.getcwd(), "**", "*.sqlite"), recursive=True):
        good(other)
    for dump in glob.glob(os.path.join(os.getcwd(), "**", "*.sql"), recursive=True):
        with open(dump, "a", encoding="utf-8") as fh:
            fh.write("-- migrated\\n")
'''


def test_an_entry_writing_the_originals_is_an_error_naming_each_file(tmp_path: Path) -> None:
    root = make_app(tmp_path, {"app_good": GOOD, "app_greedy": UPGRADES_EVERY_DATABASE},
                    {"v1.sql": LEGACY, "v1.sqlite": LEGACY})
    before = {p.name: sha(p) for p in (root / "snapshots").iterdir()}
    got = verify(root, "app_greedy:upgrade", ("schema", "rows"))
    after = {p.name: sha(p) for p in (root / "snapshots").iterdir()}
    assert before != after  # the premise: the entry really wrote both originals
    errors = {o.snapshot: o for o in got if o.check == ORIGINAL}
    assert set(errors) == {"snapshots/v1.sql", "snapshots/v1.sqlite"}
    assert all(o.status == "error" for o in errors.values())
    assert "v1.sqlite was changed during the run" in errors["snapshots/v1.sqlite"].message
    assert "v1.sql was changed during the run" in errors["snapshots/v1.sql"].message


def test_a_well_behaved_entry_has_no_original_result(tmp_path: Path) -> None:
    root = make_app(tmp_path, {"app_good": GOOD}, {"v1.sql": LEGACY, "v1.sqlite": LEGACY})
    got = verify(root, "app_good:upgrade", ("schema", "rows", "idempotent"))
    assert [o for o in got if o.check == ORIGINAL] == []
    assert all(o.status == "pass" for o in got)


# --- 3. sidecars: a hot journal is rolled back on the copy ----------------------------------

HOT_WRITER = '''
import os, signal, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode = DELETE")
conn.execute("PRAGMA cache_size = 2")  # a tiny cache: the transaction spills into the file
conn.execute("BEGIN")
conn.execute("UPDATE items SET name = name || hex(randomblob(300))")
conn.execute("DELETE FROM items WHERE id % 3 = 0")
os.kill(os.getpid(), signal.SIGKILL)  # a crash mid-transaction: the journal stays hot
'''


def _hot_snapshot(path: Path, rows: int = 2000) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL)")
    conn.executemany("INSERT INTO items VALUES (?, ?, ?)",
                     ((i, f"item-{i}", i * 0.5) for i in range(1, rows + 1)))
    conn.commit()
    conn.close()
    proc = subprocess.run([sys.executable, "-c", HOT_WRITER, str(path)], timeout=60)
    assert proc.returncode == -signal.SIGKILL


def test_a_snapshot_with_a_hot_journal_is_rolled_back_on_the_copy(tmp_path: Path) -> None:
    root = make_app(tmp_path, {"app_good": GOOD}, {})
    snap = root / "snapshots" / "hot.sqlite"
    _hot_snapshot(snap)
    journal = snap.with_name("hot.sqlite-journal")
    assert journal.stat().st_size > 0  # the premise: a hot journal
    # Copied without its journal, the file does not hold the committed database.
    bare = tmp_path / "bare.sqlite"
    bare.write_bytes(snap.read_bytes())
    with sqlite3.connect(bare) as conn:
        try:
            broken = conn.execute("SELECT COUNT(*), MAX(length(name)) FROM items").fetchone() \
                != (2000, len("item-2000")) or \
                conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok"
        except sqlite3.DatabaseError:
            broken = True
    assert broken
    files_before = {p.name: sha(p) for p in (root / "snapshots").iterdir()}
    copy = tmp_path / "copy.sqlite"
    materialize(Snapshot(snap, "hot.sqlite"), copy)
    with sqlite3.connect(copy) as conn:
        assert conn.execute("SELECT COUNT(*), MAX(length(name)) FROM items").fetchone() == (
            2000, len("item-2000"))
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    got = verify(root, "app_good:upgrade", ("schema", "rows", "integrity", "idempotent"))
    assert [o.status for o in got] == ["pass"] * 4, [o.message for o in got]
    assert {p.name: sha(p) for p in (root / "snapshots").iterdir()} == files_before


# --- 4. process groups: nothing outlives a run ----------------------------------------------

LEAVES_CHILDREN = '''
import os, subprocess, sys, time

def _spawn(pids_file, hang):
    same_group = subprocess.Popen(["sleep", "60"])
    detached = subprocess.Popen(["sleep", "60"], start_new_session=True)  # holds our pipes
    with open(pids_file, "w") as fh:
        fh.write(f"{os.getpid()} {same_group.pid} {detached.pid}\\n")
    if hang:
        time.sleep(60)

def returns(path):
    _spawn(os.environ["PIDS_FILE"], hang=False)

def hangs(path):
    _spawn(os.environ["PIDS_FILE"], hang=True)
'''

WRAPPER = '''
import json, resource, sys
from pathlib import Path
from harness.migrations.runner import run_entry
root, entry, timeout = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
out = run_entry(entry, root / "x.sqlite", root, timeout)
print(json.dumps({"returncode": out.returncode, "timed_out": out.timed_out,
                  "stdout_len": len(out.stdout), "stdout_tail": out.stdout[-40:],
                  "stderr_tail": out.stderr[-40:],
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
'''


def _wrapped(root: Path, entry: str, timeout: float, env: dict[str, str]) -> dict[str, object]:
    # A generous outer bound turns a hang (waiting for pipe EOF) into a failure.
    proc = subprocess.run([sys.executable, "-c", WRAPPER, str(root), entry, str(timeout)],
                          capture_output=True, text=True, timeout=50, cwd=REPO,
                          env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def _pids(path: Path) -> list[int]:
    return [int(p) for p in path.read_text().split()]


@pytest.mark.parametrize(("entry", "timed_out"), [("app_kids:returns", False),
                                                  ("app_kids:hangs", True)])
def test_no_descendant_outlives_a_run_and_held_pipes_do_not_stall_it(
        tmp_path: Path, entry: str, timed_out: bool) -> None:
    (tmp_path / "app_kids.py").write_text(LEAVES_CHILDREN, encoding="utf-8")
    pids_file = tmp_path / "pids.txt"
    got = _wrapped(tmp_path, entry, 3.0, {"PIDS_FILE": str(pids_file)})
    assert got["timed_out"] is timed_out
    assert got["returncode"] == (-signal.SIGKILL if timed_out else 0)
    pids = _pids(pids_file)
    assert len(pids) == 3 and all(gone(pid) for pid in pids), [
        (pid, gone(pid)) for pid in pids]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupting_dbharness_kills_every_process_of_the_run(tmp_path: Path,
                                                              sig: signal.Signals) -> None:
    root = make_app(tmp_path, {"app_kids": LEAVES_CHILDREN}, {"v1.sql": LEGACY})
    pids_file = tmp_path / "pids.txt"
    proc = subprocess.Popen([sys.executable, "-m", "harness", "migrations", "--entry",
                             "app_kids:hangs", "--snapshots", "snapshots/*", "--timeout", "50"],
                            cwd=root, env={**os.environ, "PIDS_FILE": str(pids_file)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: pids_file.exists() and len(pids_file.read_text().split()) == 3)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 2 and "interrupted" in err
    pids = _pids(pids_file)
    assert all(gone(pid) for pid in pids), [(pid, gone(pid)) for pid in pids]


def test_nothing_outlives_dbharness_even_when_dbharness_is_killed(tmp_path: Path) -> None:
    (tmp_path / "app_kids.py").write_text(LEAVES_CHILDREN, encoding="utf-8")
    pids_file = tmp_path / "pids.txt"
    proc = subprocess.Popen([sys.executable, "-c", WRAPPER, str(tmp_path), "app_kids:hangs",
                             "50"], cwd=REPO, env={**os.environ, "PIDS_FILE": str(pids_file)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: pids_file.exists() and len(pids_file.read_text().split()) == 3)
        proc.kill()
        proc.wait(timeout=30)
    finally:
        proc.kill()
    # PR_SET_PDEATHSIG kills the child and the watchdog the rest, asynchronously: wait, then
    # require every one of them gone.
    pids = _pids(pids_file)
    wait_for(lambda: all(gone(pid) for pid in pids))


# --- 5. output goes to bounded buffers --------------------------------------------------------

FLOODS = '''
import sys

def upgrade(path):
    line = ("x" * 1023 + "\\n") * 1024  # 1 MiB
    for _ in range(200):
        sys.stdout.write(line)
        sys.stderr.write(line)
    sys.stdout.write("the end\\n")
    sys.stderr.write("stderr end\\n")
'''


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_an_entry_printing_hundreds_of_mib_does_not_grow_dbharness(tmp_path: Path) -> None:
    (tmp_path / "app_flood.py").write_text(FLOODS, encoding="utf-8")
    got = _wrapped(tmp_path, "app_flood:upgrade", 60.0, {})
    assert got["returncode"] == 0 and got["timed_out"] is False
    assert got["stdout_len"] == 64 * 1024 and str(got["stdout_tail"]).endswith("the end\n")
    assert str(got["stderr_tail"]).endswith("stderr end\n")
    # 400 MiB went through; buffered whole it would be > 400 MiB of the parent's memory.
    # Alone the parent peaks near 20 MiB; under a loaded xdist run it was once seen at 221 MiB
    # (not yet explained: see the note of the untrusted-checkout issue), so the bound is set
    # between that and the 400 MiB that whole buffering costs.
    assert int(got["maxrss_kib"]) < 320 * 1024  # type: ignore[call-overload]


# --- 6. the timeout is checked where the runner receives it ---------------------------------

@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 0, -1.0, True])
def test_a_non_finite_or_non_positive_timeout_is_refused(tmp_path: Path, bad: float) -> None:
    with pytest.raises(ConfigError, match="timeout must be a finite number"):
        run_entry("app:upgrade", tmp_path / "x.sqlite", tmp_path, bad)
    # A Config built without from_sources (as an API user may) is checked by the runner too.
    config = dataclasses.replace(Config.from_sources(tmp_path), timeout=bad)
    with pytest.raises(ConfigError, match="timeout must be a finite number"):
        Verifier(config, "app:upgrade")


def test_cli_timeout_nan_is_a_usage_error(tmp_path: Path) -> None:
    root = make_app(tmp_path, {"app_good": GOOD}, {"v1.sql": LEGACY})
    proc = subprocess.run([sys.executable, "-m", "harness", "migrations", "--entry",
                           "app_good:upgrade", "--snapshots", "snapshots/*", "--timeout", "nan"],
                          cwd=root, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "timeout" in proc.stderr and "internal" not in proc.stderr


# --- 7. a view over a dropped table ------------------------------------------------------------

BROKEN_VIEW = """
CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL);
CREATE TABLE old (x);
CREATE VIEW old_x AS SELECT x FROM old;
DROP TABLE old;
"""


@pytest.mark.parametrize("snapshot", ["v1.sqlite", "v1.sql"])
def test_check_reads_a_snapshot_with_a_view_over_a_dropped_table(tmp_path: Path,
                                                                 snapshot: str) -> None:
    conn = sqlite3.connect(":memory:")
    conn.executescript(BROKEN_VIEW)
    content = "\n".join(conn.iterdump()) if snapshot.endswith(".sql") else BROKEN_VIEW
    root = make_app(tmp_path, {}, {snapshot: content})
    (root / "app.py").write_text(textwrap.dedent('''
        import sqlite3

        def init(path):
            conn = sqlite3.connect(path)
            conn.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, "
                         "name TEXT NOT NULL, price REAL, sku TEXT)")
    '''), encoding="utf-8")
    (root / "pyproject.toml").write_text('[tool.dbharness]\npaths = ["app.py"]\n'
                                         'snapshots = "snapshots/*"\n', encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "harness", "check", "--no-cache"], cwd=root,
                          capture_output=True, text=True, timeout=120)
    assert "internal error" not in proc.stderr, proc.stderr
    # The snapshot was read: the table it holds lacks the column the app's DDL declares.
    assert proc.returncode == 1 and "missing-migration" in proc.stdout + proc.stderr, (
        proc.stdout, proc.stderr)


def test_read_schema_notes_a_view_it_cannot_resolve(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db")
    conn.executescript(BROKEN_VIEW + "CREATE VIEW fine AS SELECT name FROM items;")
    notes: list[str] = []
    schema = read_schema(conn, notes=notes)
    broken, fine = schema.table("old_x"), schema.table("fine")
    assert broken is not None and broken.is_view and not broken.columns_known
    assert fine is not None and fine.columns_known and [c.name for c in fine.columns] == ["name"]
    assert notes == ["view old_x cannot be resolved (no such table: main.old): its columns are "
                     "not read"]


# --- 8. snapshot discovery stays inside the root --------------------------------------------

@pytest.mark.parametrize("pattern", ["/**/*.sqlite", "../x/*.db", "snapshots/../../*.sql",
                                     "~/*.db"])
def test_a_configured_glob_reaching_outside_the_root_is_a_config_error(
        tmp_path: Path, pattern: str) -> None:
    with pytest.raises(ConfigError, match="reaches outside the project root"):
        discover(pattern, tmp_path)


def test_symlinks_out_of_the_tree_and_special_files_are_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.sql"
    secret.write_text("CREATE TABLE secret (token TEXT);\n", encoding="utf-8")
    root = make_app(_mkdir(tmp_path / "proj"), {}, {"real.sql": LEGACY})
    snaps = root / "snapshots"
    (snaps / "a_secret.sql").symlink_to(secret)
    (snaps / "a_zero.sqlite").symlink_to("/dev/zero")
    (snaps / "a_dangling.db").symlink_to(outside / "nothing.db")
    (snaps / "b_inside.sql").symlink_to(snaps / "real.sql")  # inside the root: followed
    os.mkfifo(snaps / "c_fifo.sql")
    (snaps / "linked_dir").symlink_to(outside, target_is_directory=True)
    found = scan("snapshots/**/*", root)
    assert [s.name for s in found.snapshots] == ["snapshots/b_inside.sql", "snapshots/real.sql"]
    assert {s.name: s.reason.split(" ")[0] for s in found.skipped} == {
        "snapshots/a_secret.sql": "it", "snapshots/a_zero.sqlite": "it",
        "snapshots/a_dangling.db": "it", "snapshots/c_fifo.sql": "not",
        "snapshots/linked_dir/secret.sql": "it"}
    # A glob the user typed on the command line is the user's own: it may point anywhere.
    assert [s.path for s in discover(str(outside / "*.sql"), root, trusted=True)] == [secret]


def test_check_with_a_glob_outside_the_root_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("X = 1\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text('[tool.dbharness]\nsnapshots = "/**/*.sqlite"\n',
                                             encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "harness", "check", "--no-cache"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "reaches outside the project root" in proc.stderr


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_a_dump_symlinked_out_of_the_tree_is_not_loaded_by_migrations(tmp_path: Path) -> None:
    outside = tmp_path / "outside.sql"
    outside.write_text(LEGACY, encoding="utf-8")
    root = make_app(_mkdir(tmp_path / "proj"), {"app_good": GOOD}, {"v1.sql": LEGACY})
    (root / "snapshots" / "v0.sql").symlink_to(outside)
    (root / "pyproject.toml").write_text('[tool.dbharness]\nentry = "app_good:upgrade"\n'
                                         'snapshots = "snapshots/*"\n', encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "harness", "migrations", "--checks", "schema"],
                          cwd=root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "skipped snapshot snapshots/v0.sql" in proc.stderr
    assert "snapshots/v0.sql" not in proc.stdout and "snapshots/v1.sql" in proc.stdout


def test_a_refused_dump_is_a_snapshot_error(tmp_path: Path) -> None:
    dump = tmp_path / "x.sql"
    dump.write_text("SELECT 1;\n", encoding="utf-8")
    with pytest.raises(SnapshotError, match=r"dump x.sql: line 1: SELECT 1: not a statement"):
        materialize(Snapshot(dump, "x.sql"), tmp_path / "copy.sqlite", timeout=10)


def test_a_sidecar_symlinked_out_of_the_tree_is_not_copied(tmp_path: Path) -> None:
    outside = tmp_path / "outside-journal"
    outside.write_bytes(b"not ours" * 100)
    root = make_app(_mkdir(tmp_path / "proj"), {}, {"v1.sqlite": LEGACY})
    snap = root / "snapshots" / "v1.sqlite"
    (root / "snapshots" / "v1.sqlite-journal").symlink_to(outside)
    (root / "snapshots" / "v1.sqlite-wal").write_bytes(b"")  # a real (empty) sidecar
    snapshot = Snapshot(snap, "v1.sqlite")
    assert snapshot.sidecars() == [root / "snapshots" / "v1.sqlite-wal"]
    copy = tmp_path / "copy.sqlite"
    materialize(snapshot, copy)
    assert not copy.with_name("copy.sqlite-journal").exists()
    with sqlite3.connect(copy) as conn:
        assert conn.execute("SELECT COUNT(*) FROM items").fetchone() == (3,)


def test_snapshot_create_does_not_write_outside_through_the_configured_glob(
        tmp_path: Path) -> None:
    root = make_app(_mkdir(tmp_path / "proj"), {"app_good": GOOD}, {})
    (root / "pyproject.toml").write_text('[tool.dbharness]\nentry = "app_good:upgrade"\n'
                                         'snapshots = "../elsewhere/*"\n', encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "harness", "snapshot", "create", "v9"],
                          cwd=root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "reaches outside the project root" in proc.stderr
    assert not (tmp_path / "elsewhere").exists()
