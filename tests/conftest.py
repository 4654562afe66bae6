"""Shared fixtures: pytester, a private cache folder per test, and a real PostgreSQL server
with a database per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import pg

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory,
                       monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test (and every subprocess it starts: they inherit the environment) keeps its
    caches in a fresh folder of its own, never in the real per-user cache directory."""
    folder = tmp_path_factory.mktemp("user-cache")
    monkeypatch.setenv("DBHARNESS_CACHE_DIR", str(folder))
    yield folder


# A real PostgreSQL server (tests/pg.py): skipped locally without DBHARNESS_TEST_PG_URL,
# required under CI=true. `eval "$(scripts/pg-test-server start)"` starts the one CI uses.
@pytest.fixture(scope="session")
def pg_url() -> str:
    """The test server's libpq URI (a role that may create databases)."""
    return pg.server_url()


@pytest.fixture
def pg_database(pg_url: str) -> Iterator[str]:
    """A fresh, empty database for this test alone, as a libpq URI; dropped afterwards."""
    with pg.scratch_database(pg_url) as url:
        yield url
