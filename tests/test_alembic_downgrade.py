"""An Alembic revision's ``downgrade()`` undoes its ``upgrade()``: its ``op.drop_table`` and
``DROP TABLE`` strings are no part of the schema at head (Alembic docs, "Create a Migration
Script")."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import assert_rules, findings

REVISION = """
    from alembic import op
    import sqlalchemy as sa

    revision = "001"
    down_revision = None


    def upgrade():
        op.create_table(
            "jobs",
            sa.Column("job_id", sa.Integer, primary_key=True),
            sa.Column("kind", sa.Text, nullable=False),
        )
        op.execute("CREATE TABLE notes (note_id INTEGER PRIMARY KEY, body TEXT)")


    def downgrade():
        op.drop_table("jobs")
        op.execute("DROP TABLE notes")
"""


def _app(query: str) -> str:
    return f"""
        import asyncpg


        async def get(conn: asyncpg.Connection, key):
            return await conn.fetchrow("{query}", key)
    """


def _check(tmp_path: Path, query: str) -> list:
    return findings(tmp_path, {"versions/001_init.py": REVISION, "app.py": _app(query)},
                    dialect="postgres")


def test_tables_dropped_only_by_downgrade_exist_at_head(tmp_path: Path) -> None:
    assert_rules(_check(tmp_path, "SELECT job_id, kind FROM jobs WHERE job_id = $1"))
    assert_rules(_check(tmp_path / "b", "SELECT body FROM notes WHERE note_id = $1"))


def test_columns_of_a_table_downgrade_drops_are_still_judged(tmp_path: Path) -> None:
    assert_rules(_check(tmp_path, "SELECT kind FROM jobs WHERE id = $1"), "unknown-column")
    assert_rules(_check(tmp_path / "b", "SELECT title FROM notes WHERE note_id = $1"),
                 "unknown-column")
