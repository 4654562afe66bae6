"""Subcommands of the migration harness (``migrations``, ``snapshot``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {}


def add_commands(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Registered once the harness lands (issue: migration regression harness)."""
