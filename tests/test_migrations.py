"""The migration harness on mini-apps: each check fails for the right reason, and passes."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.config import Config
from harness.migrations.snapshots import discover
from harness.migrations.verify import Outcome, Verifier

LEGACY = """
CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL);
INSERT INTO items VALUES (1, 'apple', 1.5);
INSERT INTO items VALUES (2, 'pear', NULL);
INSERT INTO items VALUES (3, 'fig', 3.0);
"""

GOOD = '''
import sqlite3

def upgrade(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                 "price REAL, in_stock BOOLEAN DEFAULT 1)")
    cols = [r[1] for r in conn.execute("PRAGMA table_info(items)")]
    if "in_stock" not in cols:
        conn.execute("ALTER TABLE items ADD COLUMN in_stock BOOLEAN DEFAULT 1")
    conn.commit()
    conn.close()

def add_item(path, item):
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO items (name, price, in_stock) VALUES (:name, :price, :in_stock)",
                 item)
    conn.commit()
    conn.close()
'''

MISSING_ALTER = '''
import sqlite3

def upgrade(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                 "price REAL, in_stock BOOLEAN DEFAULT 1)")
    conn.commit()
'''

LOSSY_REBUILD = '''
import sqlite3

def upgrade(path):
    conn = sqlite3.connect(path)
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    if "items" not in names:
        conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                     "price REAL NOT NULL DEFAULT 0)")
    else:
        info = {r[1]: r[3] for r in conn.execute("PRAGMA table_info(items)")}
        if not info["price"]:
            conn.executescript("""
                BEGIN;
                CREATE TABLE items_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL,
                                        price REAL NOT NULL DEFAULT 0);
                INSERT INTO items_new SELECT id, upper(name), price FROM items
                    WHERE price IS NOT NULL;
                DROP TABLE items;
                ALTER TABLE items_new RENAME TO items;
                COMMIT;
            """)
    conn.close()
'''

NOT_IDEMPOTENT = '''
import sqlite3

def upgrade(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                 "price REAL)")
    conn.execute("INSERT INTO items (name, price) VALUES ('default item', 0)")
    conn.commit()
'''

NOT_CRASH_SAFE = '''
import sqlite3

def upgrade(path):
    conn = sqlite3.connect(path, isolation_level=None)  # autocommit: every statement commits
    cols = [r[1] for r in conn.execute("PRAGMA table_info(items)")]
    if "cost" in cols:
        return
    if not cols:
        conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, cost REAL)")
        return
    conn.execute("CREATE TABLE IF NOT EXISTS items_new (id INTEGER, name TEXT NOT NULL, "
                 "cost REAL)")
    conn.execute("INSERT INTO items_new SELECT id, name, price FROM items")
    conn.execute("DROP TABLE items")
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, cost REAL)")
    conn.execute("INSERT INTO items SELECT * FROM items_new")
    conn.execute("DROP TABLE items_new")
'''

BROKEN_FK = '''
import sqlite3

def upgrade(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                 "price REAL)")
    conn.execute("CREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY, "
                 "item_id INTEGER REFERENCES items(id), tag TEXT)")
    if not conn.execute("SELECT COUNT(*) FROM tags").fetchone()[0]:
        conn.execute("INSERT INTO tags (item_id, tag) SELECT id + 100, 'x' FROM items")
    conn.commit()
'''

HANGS = '''
import time

def upgrade(path):
    time.sleep(60)
'''

RAISES = '''
def upgrade(path):
    raise RuntimeError("migration exploded")
'''

EXITS_AND_PRINTS = '''
import sys
from app_good import upgrade as good

def upgrade(path):
    print("migrating...", path)
    good(path)
    sys.exit(0)
'''

DELETES_DB = '''
import os
from app_good import upgrade as good

def upgrade(path):
    good(path)
    if os.path.getsize(path) and "legacy" not in path:
        pass
    os.remove(path)
'''


DROPS_KEY = '''
import sqlite3

def add_item(path, item):
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO items (name, price) VALUES (:name, :price)", item)
    conn.commit()
    conn.close()
'''


def make_app(root: Path, modules: dict[str, str], snapshots: dict[str, str | bytes]) -> Path:
    for name, code in modules.items():
        (root / f"{name}.py").write_text(textwrap.dedent(code), encoding="utf-8")
    snap_dir = root / "snapshots"
    snap_dir.mkdir(exist_ok=True)
    for name, content in snapshots.items():
        path = snap_dir / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif name.endswith(".sql"):
            path.write_text(content, encoding="utf-8")
        else:
            conn = sqlite3.connect(path)
            conn.executescript(content)
            conn.close()
    return root


def verify(root: Path, entry: str, checks: tuple[str, ...], timeout: float = 30.0,
           roundtrip: object = None) -> list[Outcome]:
    config = Config.from_sources(root, snapshots="snapshots/*", timeout=timeout)
    verifier = Verifier(config, entry, checks, roundtrip=roundtrip)  # type: ignore[arg-type]
    return list(verifier.verify(discover(config.snapshots, root)))


def status(outcomes: list[Outcome]) -> dict[tuple[str, str], str]:
    return {(o.snapshot.split("/")[-1], o.check): o.status for o in outcomes}


def test_good_migration_passes_every_check(tmp_path: Path) -> None:
    root = make_app(tmp_path, {"app_good": GOOD}, {"v1.sql": LEGACY, "v1.sqlite": LEGACY})
    got = verify(root, "app_good:upgrade",
                 ("schema", "rows", "integrity", "idempotent", "crash-safe"))
    assert all(o.status == "pass" for o in got), [o.message for o in got]
    assert len(got) == 10


def test_missing_alter_fails_schema_naming_table_and_column(tmp_path: Path) -> None:
    root = make_app(tmp_path, {"app_bad": MISSING_ALTER}, {"v1.sql": LEGACY})
    (outcome,) = verify(root, "app_bad:upgrade", ("schema",))
    assert outcome.status == "fail"
    assert "items.in_stock" in outcome.message


def test_lossy_table_rebuild_fails_rows_naming_the_rows(tmp_path: Path) -> None:
    root = make_app(tmp_path, {"app_bad": LOSSY_REBUILD}, {"v1.sql": LEGACY})
    got = {o.check: o for o in verify(root, "app_bad:upgrade", ("schema", "rows"))}
    assert got["schema"].status == "pass", got["schema"].message
    assert got["rows"].status == "fail"
    assert "items: 3 legacy rows" in got["rows"].message and "id=1" in got["rows"].message


def test_broken_foreign_keys_fail_integrity(tmp_path: Path) -> None:
    root = make_app(tmp_path, {"app_bad": BROKEN_FK}, {"v1.sql": LEGACY})
    (outcome,) = verify(root, "app_bad:upgrade", ("integrity",))
    assert outcome.status == "fail" and "foreign key: tags" in outcome.message


def test_non_idempotent_init_fails(tmp_path: Path) -> None:
    root = make_app(tmp_path, {"app_bad": NOT_IDEMPOTENT}, {"v1.sql": LEGACY})
    got = {o.check: o for o in verify(root, "app_bad:upgrade", ("rows", "idempotent"))}
    assert got["rows"].status == "pass"
    assert got["idempotent"].status == "fail" and "table items: 4 rows -> 5 rows" in \
        got["idempotent"].message


def test_not_crash_safe_migration_fails(tmp_path: Path) -> None:
    root = make_app(tmp_path, {"app_bad": NOT_CRASH_SAFE}, {"v1.sql": LEGACY})
    got = {o.check: o for o in verify(root, "app_bad:upgrade",
                                      ("rows", "idempotent", "crash-safe"))}
    assert got["idempotent"].status == "pass", got["idempotent"].message
    assert got["crash-safe"].status == "fail"
    assert "killed after statement" in got["crash-safe"].message or "rerun fails" in \
        got["crash-safe"].message


def test_corrupt_snapshot_is_an_error_and_others_still_run(tmp_path: Path) -> None:
    good = sqlite3.connect(":memory:")
    good.executescript(LEGACY)
    root = make_app(tmp_path, {"app_good": GOOD}, {
        "a_garbage.sqlite": b"this is not a database at all" * 10,
        "b_truncated.db": b"SQLite format 3\x00" + b"\x00" * 200,
        "c_bad_dump.sql": "CREATE TABLE (;\n",
        "d_ok.sql": LEGACY,
    })
    got = status(verify(root, "app_good:upgrade", ("schema", "rows")))
    assert got[("a_garbage.sqlite", "schema")] == "error"
    assert got[("b_truncated.db", "rows")] == "error"
    assert got[("c_bad_dump.sql", "schema")] == "error"
    assert got[("d_ok.sql", "schema")] == "pass" and got[("d_ok.sql", "rows")] == "pass"


def test_hanging_entry_is_killed_at_the_timeout(tmp_path: Path) -> None:
    root = make_app(tmp_path, {"app_hang": HANGS}, {"v1.sql": LEGACY})
    (outcome,) = verify(root, "app_hang:upgrade", ("schema",), timeout=1.5)
    assert outcome.status == "error" and "timeout" in outcome.message


def test_raising_entry_is_reported_with_its_error(tmp_path: Path) -> None:
    root = make_app(tmp_path, {"app_raise": RAISES}, {"v1.sql": LEGACY})
    (outcome,) = verify(root, "app_raise:upgrade", ("schema",))
    assert outcome.status == "error" and "migration exploded" in outcome.message


def test_entry_that_prints_and_exits_zero_is_fine(tmp_path: Path) -> None:
    root = make_app(tmp_path, {"app_good": GOOD, "app_noisy": EXITS_AND_PRINTS},
                    {"v1.sql": LEGACY})
    got = verify(root, "app_noisy:upgrade", ("schema", "rows"))
    assert [o.status for o in got] == ["pass", "pass"]


def test_entry_that_deletes_the_database(tmp_path: Path) -> None:
    root = make_app(tmp_path, {"app_good": GOOD, "app_del": DELETES_DB}, {"v1.sql": LEGACY})
    got = verify(root, "app_del:upgrade", ("schema", "rows"))
    assert got and all(o.status in ("fail", "error") for o in got)


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_originals_are_never_modified(tmp_path: Path) -> None:
    root = make_app(tmp_path, {"app_good": GOOD, "app_bad": LOSSY_REBUILD},
                    {"v1.sql": LEGACY, "v1.sqlite": LEGACY})
    snapshot_files = sorted((root / "snapshots").iterdir())
    (root / "snapshots" / "v1.sqlite").chmod(0o444)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in snapshot_files}
    verify(root, "app_good:upgrade", ("schema", "rows", "idempotent", "crash-safe"))
    verify(root, "app_bad:upgrade", ("schema", "rows"))
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted((root / "snapshots").iterdir())}
    assert before == after


def test_round_trip_through_the_writer(tmp_path: Path) -> None:
    from harness.migrations.roundtrip import WriterContract, _one

    root = make_app(tmp_path, {"app_good": GOOD}, {"v1.sql": LEGACY})
    config = Config.from_sources(root)
    db = tmp_path / "rt.sqlite"
    subprocess.run([sys.executable, "-c", "import app_good; app_good.upgrade('rt.sqlite')"],
                   cwd=tmp_path, check=True)
    good = WriterContract("app_good:add_item", "items",
                          (("in_stock", "in_stock"), ("name", "name"), ("price", "price")))
    assert _one(config, good, db, 30) == []
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT name, price, in_stock FROM items").fetchall() == [
            ("dbh-name", 1.5, 0)]
    # A writer that drops a key: what is read back is the column's DEFAULT, not the value.
    (root / "app_drop.py").write_text(textwrap.dedent(DROPS_KEY), encoding="utf-8")
    bad = WriterContract("app_drop:add_item", "items", good.columns)
    problems = _one(config, bad, db, 30)
    assert problems and "key 'in_stock'" in problems[0]


@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_cli_json_and_exit_codes(tmp_path: Path) -> None:
    root = make_app(tmp_path, {"app_good": GOOD, "app_bad": MISSING_ALTER}, {"v1.sql": LEGACY})

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "harness", "migrations", *args], cwd=root,
                              capture_output=True, text=True, timeout=300)

    ok = run("--entry", "app_good:upgrade", "--snapshots", "snapshots/*", "--format", "json",
             "--checks", "schema,rows")
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert {tuple(sorted(d)) for d in data} == {
        ("check", "details", "message", "snapshot", "status")}
    bad = run("--entry", "app_bad:upgrade", "--snapshots", "snapshots/*", "--checks", "schema")
    assert bad.returncode == 1 and "FAIL" in bad.stdout
    assert run("--snapshots", "snapshots/*").returncode == 2  # no entry configured
    assert run("--entry", "app_good:upgrade", "--snapshots", "none/*").returncode == 2
    assert run("--entry", "app_good:upgrade", "--snapshots", "snapshots/*",
               "--checks", "bogus").returncode == 2


@pytest.mark.parametrize("checks", [("schema", "rows", "integrity", "idempotent", "crash-safe",
                                     "round-trip")])
@pytest.mark.slow  # over ~2 s on two idle cores (subprocesses or scale)
def test_reference_app_passes_on_its_snapshots(checks: tuple[str, ...]) -> None:
    from harness.check import build_model
    from harness.migrations.roundtrip import make_roundtrip

    root = Path(__file__).resolve().parent.parent
    config = Config.from_sources(root, cache=False)
    roundtrip = make_roundtrip(config, build_model(config)[0])
    assert config.entry
    verifier = Verifier(config, config.entry, checks, roundtrip=roundtrip)
    got = list(verifier.verify(discover(config.snapshots, root)))
    assert len(got) == 12 and all(o.status == "pass" for o in got), [o.message for o in got]
