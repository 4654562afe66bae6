"""Process-wide state, as ModelForge keeps it: one manager object the routers import."""

from __future__ import annotations

import os

from .utilities.db_manager import DatabaseManager


class SettingsBuilder:
    def __init__(self) -> None:
        self.model_name = ""
        self.base_model = ""
        self.task = "text-generation"
        self.is_custom_model = False


class GlobalManager:
    def __init__(self, db_path: str) -> None:
        self.settings_builder = SettingsBuilder()
        self.db_manager = DatabaseManager(db_path)


def make_global_manager() -> GlobalManager:
    return GlobalManager(os.environ.get("MODELFORGE_DB", "modelforge.sqlite"))


global_manager = GlobalManager(os.environ.get("MODELFORGE_DB", "modelforge.sqlite"))
