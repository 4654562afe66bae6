"""Shared fixtures: pytester, and a real PostgreSQL server with a database per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import pg

pytest_plugins = ["pytester"]


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
