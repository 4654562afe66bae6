"""Benchmark: verifying 1M legacy rows against the cost of running the migration itself.

    .venv/bin/python benchmarks/migrations_1m.py [--rows N]

Builds a legacy snapshot (ModelForge v1 schema, N rows, default 1,000,000) in a temporary
directory and, in one run on the same machine, times:

* migration only: the entry point on a copy of the snapshot (the subprocess included);
* ``dbharness migrations`` for the schema, rows and idempotent checks (fresh install, copies,
  migration, comparisons, second run), through the same Verifier the CLI uses.

Two migrations are measured: the reference app's (``ALTER TABLE ... ADD COLUMN``, O(1) in
SQLite: nothing to compare it against but constant costs) and a table rebuild (the copy-table
pattern, which touches every row: what the 1x/2x target is about).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.config import Config  # noqa: E402
from harness.migrations.runner import run_entry  # noqa: E402
from harness.migrations.snapshots import Snapshot  # noqa: E402
from harness.migrations.verify import Verifier  # noqa: E402

V1 = """CREATE TABLE fine_tuned_models (
    id INTEGER PRIMARY KEY AUTOINCREMENT, model_name TEXT NOT NULL, base_model TEXT NOT NULL,
    task TEXT NOT NULL, description TEXT, creation_date TEXT NOT NULL, model_path TEXT NOT NULL)"""

REBUILD = '''
import sqlite3

def upgrade(path):
    conn = sqlite3.connect(path)
    cols = [r[1] for r in conn.execute("PRAGMA table_info(fine_tuned_models)")]
    if not cols:
        conn.execute("""CREATE TABLE fine_tuned_models (
            id INTEGER PRIMARY KEY AUTOINCREMENT, model_name TEXT NOT NULL,
            base_model TEXT NOT NULL, task TEXT NOT NULL, description TEXT,
            creation_date TEXT NOT NULL, model_path TEXT NOT NULL,
            is_custom_base_model BOOLEAN NOT NULL DEFAULT 0)""")
    elif "is_custom_base_model" not in cols:
        conn.executescript("""
            BEGIN;
            CREATE TABLE fm_new (
                id INTEGER PRIMARY KEY AUTOINCREMENT, model_name TEXT NOT NULL,
                base_model TEXT NOT NULL, task TEXT NOT NULL, description TEXT,
                creation_date TEXT NOT NULL, model_path TEXT NOT NULL,
                is_custom_base_model BOOLEAN NOT NULL DEFAULT 0);
            INSERT INTO fm_new (id, model_name, base_model, task, description, creation_date,
                                model_path)
                SELECT id, model_name, base_model, task, description, creation_date, model_path
                FROM fine_tuned_models;
            DROP TABLE fine_tuned_models;
            ALTER TABLE fm_new RENAME TO fine_tuned_models;
            COMMIT;
        """)
    conn.close()
'''


def build(path: Path, rows: int) -> None:
    conn = sqlite3.connect(path)
    conn.execute(V1)
    batch = 50_000
    for start in range(0, rows, batch):
        conn.executemany(
            "INSERT INTO fine_tuned_models (model_name, base_model, task, description, "
            "creation_date, model_path) VALUES (?, ?, ?, ?, ?, ?)",
            ((f"model-{i}", "meta-llama/Llama-3.2-1B", "text-generation",
              None if i % 7 == 0 else f"run {i} of the nightly fine-tune",
              f"2025-{(i % 12) + 1:02d}-{(i % 28) + 1:02d}T00:00:00", f"/models/m{i}")
             for i in range(start, min(start + batch, rows))))
    conn.commit()
    conn.close()


def measure(root: Path, entry: str, snapshot: Path, repeat: int
            ) -> tuple[float, float, list[str]]:
    """Medians over ``repeat`` alternating runs (the machine is shared and noisy)."""
    config = Config.from_sources(root, timeout=3600)
    migrations, harnesses = [], []
    bad: list[str] = []
    for _ in range(repeat):
        copy = snapshot.with_name("migration-only.sqlite")
        shutil.copyfile(snapshot, copy)
        start = time.perf_counter()
        outcome = run_entry(entry, copy, root, 3600)
        migrations.append(time.perf_counter() - start)
        assert outcome.ok, outcome.describe()
        copy.unlink()
        verifier = Verifier(config, entry, ("schema", "rows", "idempotent"))
        start = time.perf_counter()
        outcomes = list(verifier.verify([Snapshot(snapshot, snapshot.name)]))
        harnesses.append(time.perf_counter() - start)
        bad = [f"{o.check}: {o.status} {o.message}" for o in outcomes if o.status != "pass"]
    return statistics.median(migrations), statistics.median(harnesses), bad


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    with tempfile.TemporaryDirectory(prefix="dbh-bench-") as tmp:
        work = Path(tmp)
        (work / "rebuild_app.py").write_text(textwrap.dedent(REBUILD), encoding="utf-8")
        shutil.copytree(ROOT / "examples", work / "examples")
        snapshot = work / "legacy.sqlite"
        start = time.perf_counter()
        build(snapshot, args.rows)
        print(f"built a {args.rows:,}-row snapshot ({snapshot.stat().st_size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - start:.1f} s")
        print(f"{'migration':<34}{'migration only':>16}{'dbharness':>12}{'ratio':>8}  checks")
        for label, entry in (("table rebuild (touches every row)", "rebuild_app:upgrade"),
                             ("reference app (ALTER ADD COLUMN)",
                              "examples.modelforge.migrate:upgrade")):
            migration, harness, bad = measure(work, entry, snapshot, args.repeat)
            print(f"{label:<34}{migration:>14.2f} s{harness:>10.2f} s{harness / migration:>7.1f}x"
                  f"  {'all pass' if not bad else '; '.join(bad)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
