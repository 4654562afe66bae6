"""A Python migrations module (``async def m001_initial`` ... ``m003_rename``) is a history:
each SQL string runs against the schema its earlier strings left, not today's schema."""

from __future__ import annotations

from pathlib import Path

from harness.sql.history import is_history_module
from tests.helpers import findings

MIGRATIONS = '''
async def m001_initial(db):
    await db.execute("CREATE TABLE payments (payhash TEXT NOT NULL, wallet TEXT NOT NULL, "
                     "pending BOOLEAN NOT NULL)")


async def m002_hash(db):
    await db.execute("ALTER TABLE payments ADD COLUMN hash TEXT")
    await db.execute("CREATE INDEX by_hash ON payments (hash)")
    await db.execute("UPDATE payments SET wallet = 'x' WHERE NOT pending")


async def m003_rename(db):
    await db.execute("DROP INDEX by_hash")
    await db.execute("ALTER TABLE payments RENAME COLUMN hash TO payment_hash")
    await db.execute("ALTER TABLE payments DROP COLUMN pending")
    await db.execute("CREATE INDEX by_hash ON payments (payment_hash)")
'''


def _found(tmp_path: Path, extra: str = "") -> list[tuple[str, int, str | None]]:
    diags = findings(tmp_path, {"app/migrations.py": MIGRATIONS + extra})
    return [(str(d.rule), d.line, d.column) for d in diags]


def test_each_step_sees_the_schema_earlier_steps_left(tmp_path: Path) -> None:
    assert _found(tmp_path) == []


def test_a_later_step_still_sees_a_dropped_or_renamed_column_as_gone(tmp_path: Path) -> None:
    found = _found(tmp_path, '''

async def m004_late(db):
    await db.execute("UPDATE payments SET wallet = 'y' WHERE NOT pending")
    await db.execute("CREATE INDEX by_old ON payments (hash)")
''')
    assert found == [("unknown-column", 20, "pending"), ("ddl-unknown-column", 21, "hash")]


def test_application_code_is_judged_against_todays_schema(tmp_path: Path) -> None:
    diags = findings(tmp_path, {"app/migrations.py": MIGRATIONS, "app/crud.py": '''
async def unpaid(db):
    return await db.execute("SELECT payment_hash FROM payments WHERE pending")
'''})
    assert [(str(d.rule), d.path, d.column) for d in diags] == [
        ("unknown-column", "app/crud.py", "pending")]


def test_which_python_modules_are_histories() -> None:
    assert is_history_module("lnbits/core/migrations.py")
    assert is_history_module("app/db_migrate.py")
    assert not is_history_module("app/update.py")  # application code, not schema steps
    assert not is_history_module("migrations/versions/1a2b_add_x.py")  # Alembic: one per file
