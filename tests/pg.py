"""The real PostgreSQL server the tests use: where it is, and a fresh database per test.

The server is named by ``DBHARNESS_TEST_PG_URL``, a libpq URI of a role that may create
databases (``scripts/pg-test-server start`` prints one; ``.ci/run`` exports it). Without it
the PostgreSQL tests skip with the reason, except under ``CI=true``, where they must run and
fail instead. A URL that is set but does not answer fails everywhere (it was asked for).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

import pytest

ENV = "DBHARNESS_TEST_PG_URL"
START = 'eval "$(scripts/pg-test-server start)"'


def in_ci() -> bool:
    """True when the CI variable says so (``CI=true``, as CI services and .ci/run set it)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _unavailable(reason: str) -> NoReturn:
    if in_ci():
        pytest.fail(f"{reason}; under CI=true the PostgreSQL tests must run "
                    "(.ci/run starts the server)", pytrace=False)
    pytest.skip(reason)


def server_url() -> str:
    """The configured server's URI after one round trip; skips (locally) or fails (in CI)."""
    url = os.environ.get(ENV, "").strip()
    if not url:
        _unavailable(f"no PostgreSQL server: {ENV} is not set (start one with `{START}`)")
    if not url.startswith(("postgresql://", "postgres://")):
        pytest.fail(f"{ENV} must be a libpq URI (postgresql://...), not {url!r}", pytrace=False)
    try:
        import psycopg
    except ImportError:
        _unavailable("psycopg is not installed (pip install -e '.[test]')")
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as err:
        pytest.fail(f"{ENV}={url} does not answer: {str(err).strip()} (start it with "
                    f"`{START}`)", pytrace=False)
    return url


def with_database(url: str, name: str) -> str:
    """``url`` naming database ``name`` instead (host, port, user and options kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


@contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """A new empty database on the server at ``url``, yielded as its URI, dropped on exit
    (``WITH (FORCE)``, PostgreSQL 13+: connections a test left open do not keep it)."""
    import psycopg
    from psycopg import sql

    name = f"dbh_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(url, name)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                          .format(sql.Identifier(name)))
