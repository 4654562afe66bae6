"""The migration entry point dbharness runs on every legacy snapshot: open, migrate, close."""

from __future__ import annotations

from .utilities.db_manager import DatabaseManager


def upgrade(db_path: str) -> None:
    DatabaseManager(db_path).close()
