"""Alembic columns read from ``op.create_table`` / ``op.add_column``: a ``server_default``
given as ``sa.text(...)`` is a default, and a dialect type with no generic spelling
(``postgresql.JSONB()``) still makes a column."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import assert_rules, findings

REVISIONS = {
    "versions/001_init.py": """
        from alembic import op
        import sqlalchemy as sa
        from sqlalchemy.dialects import postgresql

        revision = "001"
        down_revision = None


        def upgrade():
            op.create_table(
                "jobs",
                sa.Column("job_id", postgresql.UUID(as_uuid=True),
                          server_default=sa.text("gen_random_uuid()"), nullable=False),
                sa.Column("kind", sa.Text(), nullable=False),
                sa.Column("meta", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"),
                          nullable=False),
                sa.Column("created_at", sa.DateTime(), server_default=sa.func.now(),
                          nullable=False),
                sa.PrimaryKeyConstraint("job_id"),
            )
    """,
    "versions/002_params.py": """
        from alembic import op
        import sqlalchemy as sa
        from sqlalchemy.dialects import postgresql

        revision = "002"
        down_revision = "001"


        def upgrade():
            op.add_column("jobs", sa.Column("params", postgresql.JSONB(), nullable=True))
    """,
}


def _check(tmp_path: Path, query: str) -> list:
    app = f"""
        import asyncpg


        async def run(conn: asyncpg.Connection, a, b):
            return await conn.fetchrow("{query}", a, b)
    """
    return findings(tmp_path, {**REVISIONS, "app.py": app}, dialect="postgres")


def test_server_defaults_written_as_expressions_fill_the_column(tmp_path: Path) -> None:
    assert_rules(_check(tmp_path, "INSERT INTO jobs (kind, params) VALUES ($1, $2)"))


def test_a_not_null_column_without_default_must_still_be_supplied(tmp_path: Path) -> None:
    assert_rules(_check(tmp_path, "INSERT INTO jobs (meta, params) VALUES ($1, $2)"),
                 "not-null-missing")


def test_a_column_added_with_a_dialect_type_exists(tmp_path: Path) -> None:
    assert_rules(_check(tmp_path, "SELECT params FROM jobs WHERE kind = $1 OR kind = $2"))


def test_a_column_never_added_is_still_unknown(tmp_path: Path) -> None:
    assert_rules(_check(tmp_path, "SELECT options FROM jobs WHERE kind = $1 OR kind = $2"),
                 "unknown-column")
