from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory,
                       monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test (and every subprocess it starts: they inherit the environment) keeps its
    caches in a fresh folder of its own, never in the real per-user cache directory."""
    folder = tmp_path_factory.mktemp("user-cache")
    monkeypatch.setenv("DBHARNESS_CACHE_DIR", str(folder))
    yield folder
