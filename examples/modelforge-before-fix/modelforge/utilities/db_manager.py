"""The ModelForge database manager before the fix: no is_custom_base_model column, an INSERT
that never reads the key, no migration (shared/seed/modelforge-fix-pr-summary.md)."""

from __future__ import annotations

import sqlite3
from typing import Any

CREATE_FINE_TUNED_MODELS = """
CREATE TABLE IF NOT EXISTS fine_tuned_models (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model_name TEXT NOT NULL,
    base_model TEXT NOT NULL,
    task TEXT NOT NULL,
    description TEXT,
    creation_date TEXT NOT NULL,
    model_path TEXT NOT NULL
)
"""

CREATE_TRAINING_RUNS = """
CREATE TABLE IF NOT EXISTS training_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model_id INTEGER NOT NULL REFERENCES fine_tuned_models(id),
    status TEXT NOT NULL DEFAULT 'queued',
    started_at TEXT,
    loss REAL
)
"""


class DatabaseManager:
    def __init__(self, db_path: str) -> None:
        self.db_path = db_path
        self.conn = sqlite3.connect(db_path)
        self.conn.execute("PRAGMA foreign_keys = ON")
        self.cursor = self.conn.cursor()
        self.initialize_database()

    def initialize_database(self) -> None:
        self.cursor.execute(CREATE_FINE_TUNED_MODELS)
        self.cursor.execute(CREATE_TRAINING_RUNS)
        self.conn.commit()

    def add_model(self, model_data: dict[str, Any]) -> int | None:
        self.cursor.execute(
            """
            INSERT INTO fine_tuned_models
                (model_name, base_model, task, description, creation_date, model_path)
            VALUES (?, ?, ?, ?, ?, ?)
            """,
            (
                model_data["model_name"],
                model_data["base_model"],
                model_data["task"],
                model_data.get("description", ""),
                model_data["creation_date"],
                model_data["model_path"],
            ),
        )
        self.conn.commit()
        return self.cursor.lastrowid

    def start_run(self, run: dict[str, Any]) -> None:
        self.cursor.execute(
            "INSERT INTO training_runs (model_id, status, started_at) "
            "VALUES (:model_id, :status, :started_at)",
            run,
        )
        self.conn.commit()

    def get_all_models(self) -> list[tuple[Any, ...]]:
        self.cursor.execute(
            "SELECT id, model_name, base_model, task, description, creation_date, model_path "
            "FROM fine_tuned_models ORDER BY creation_date DESC"
        )
        return self.cursor.fetchall()

    def get_model_by_id(self, model_id: int) -> tuple[Any, ...] | None:
        self.cursor.execute("SELECT * FROM fine_tuned_models WHERE id = ?", (model_id,))
        row: tuple[Any, ...] | None = self.cursor.fetchone()
        return row

    def delete_model(self, model_id: int) -> None:
        self.cursor.execute("DELETE FROM training_runs WHERE model_id = ?", (model_id,))
        self.cursor.execute("DELETE FROM fine_tuned_models WHERE id = ?", (model_id,))
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()
