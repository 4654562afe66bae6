"""A real PostgreSQL server (tests/pg.py): a fresh database per test, DDL and DML through
psycopg, and the server's own answer on SQL shapes the static rules judge.

Each ``LABELS`` case is a label from the real server — ``None`` where it accepts the statement,
else its SQLSTATE (PostgreSQL manual, Appendix A "PostgreSQL Error Codes") and a part of its
message — so a static test can cite it as ``tests/test_real_postgres.py::test_label[<id>]``.
Without a server these tests skip (locally) or fail (under CI=true); see tests/pg.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import pg

try:
    import psycopg
except ImportError:  # the pg fixtures then skip (locally) or fail (under CI=true), saying why
    psycopg = None

PETS = "CREATE TABLE pets (id serial PRIMARY KEY, name text NOT NULL, kind text)"


@dataclass(frozen=True)
class Label:
    """What PostgreSQL says about ``statement`` after ``setup`` ran in an empty database."""

    id: str
    setup: tuple[str, ...]
    statement: str
    sqlstate: str | None  # None: accepted
    message: str = ""  # a part of the server's primary message


LABELS = (
    # INSERT / RETURNING / SET naming columns the table lacks (unknown-column, DBH102)
    Label("insert-missing-column", (PETS,), "INSERT INTO pets (name, colour) VALUES ('rex', 'red')",
          "42703", 'column "colour" of relation "pets" does not exist'),
    Label("insert-known-columns", (PETS,), "INSERT INTO pets (name, kind) VALUES ('rex', 'dog')",
          None),
    Label("returning-missing-column", (PETS,),
          "INSERT INTO pets (name) VALUES ('rex') RETURNING colour",
          "42703", 'column "colour" does not exist'),
    # qualified references and aliases
    Label("qualifier-not-in-from", (PETS,), "SELECT q.name FROM pets AS p",
          "42P01", 'missing FROM-clause entry for table "q"'),
    Label("qualifier-is-the-alias", (PETS,), "SELECT p.name FROM pets AS p", None),
    Label("qualifier-is-the-aliased-table", (PETS,), "SELECT pets.name FROM pets AS p",
          "42P01", 'invalid reference to FROM-clause entry for table "pets"'),
    # DDL shapes (sql-syntax DBH001, ddl-duplicate-column DBH401)
    Label("create-table-trailing-comma", (), "CREATE TABLE owners (id int, name text,)",
          "42601", 'syntax error at or near ")"'),
    Label("create-table-duplicate-column", (), "CREATE TABLE dup (a int, a text)",
          "42701", 'column "a" specified more than once'),
    # system columns: readable everywhere, never assignable, never declarable
    Label("select-system-columns", (PETS,),
          "SELECT ctid, xmin, xmax, cmin, cmax, tableoid FROM pets", None),
    Label("where-system-column", (PETS,), "DELETE FROM pets WHERE ctid = '(0,1)'", None),
    Label("insert-into-system-column", (PETS,),
          "INSERT INTO pets (name, ctid) VALUES ('a', '(0,1)')",
          "42703", 'column "ctid" of relation "pets" does not exist'),
    Label("update-system-column", (PETS,), "UPDATE pets SET xmin = '1'",
          "0A000", 'cannot assign to system column "xmin"'),
    Label("declare-system-column", (), "CREATE TABLE bad (id int, xmin int)",
          "42701", 'column name "xmin" conflicts with a system column name'),
    Label("oid-is-not-a-system-column", (PETS,), "SELECT name FROM pets WHERE oid = 1",
          "42703", 'column "oid" does not exist'),  # since PostgreSQL 12 (WITH OIDS removed)
    # identifiers fold to lower case unless quoted
    Label("quoted-name-is-case-sensitive", ('CREATE TABLE "Pets" (id int)',),
          "SELECT id FROM Pets", "42P01", 'relation "pets" does not exist'),
    Label("quoted-name-quoted-again", ('CREATE TABLE "Pets" (id int)',),
          'SELECT id FROM "Pets"', None),
    # arity and constraints (insert-arity DBH103, not-null-missing DBH105)
    Label("insert-more-columns-than-values", (PETS,),
          "INSERT INTO pets (name, kind) VALUES ('a')",
          "42601", "INSERT has more target columns than expressions"),
    Label("insert-without-not-null-column", (PETS,), "INSERT INTO pets (kind) VALUES ('cat')",
          "23502", 'null value in column "name" of relation "pets" violates not-null constraint'),
    Label("on-conflict-without-unique", (PETS,),
          "INSERT INTO pets (name) VALUES ('a') ON CONFLICT (name) DO NOTHING",
          "42P10", "no unique or exclusion constraint matching the ON CONFLICT"),
)


@pytest.fixture(scope="module")
def labels_db(pg_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """One database for the label table; each case runs in a transaction rolled back after
    it (DDL is transactional in PostgreSQL), so no case sees another's tables."""
    with pg.scratch_database(pg_url) as url, psycopg.connect(url) as conn:
        yield conn


def _answer(conn: psycopg.Connection[tuple[object, ...]], label: Label) -> tuple[str | None, str]:
    with conn.transaction(force_rollback=True):
        for statement in label.setup:
            conn.execute(statement)
        try:
            conn.execute(label.statement)
        except psycopg.Error as err:
            return err.sqlstate, err.diag.message_primary or ""
    return None, ""


@pytest.mark.parametrize("label", LABELS, ids=[label.id for label in LABELS])
def test_label(labels_db: psycopg.Connection[tuple[object, ...]], label: Label) -> None:
    sqlstate, message = _answer(labels_db, label)
    assert sqlstate == label.sqlstate, message
    assert label.message in message
    assert labels_db.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                             ).fetchone() == (0,)  # the case left nothing behind


def test_ddl_and_dml_round_trip(pg_database: str) -> None:
    with psycopg.connect(pg_database) as conn:
        conn.execute(PETS)
        conn.execute("ALTER TABLE pets ADD COLUMN is_custom_base_model boolean DEFAULT false")
        ids = [conn.execute("INSERT INTO pets (name, kind) VALUES (%s, %s) RETURNING id",
                            (name, kind)).fetchone()
               for name, kind in (("rex", "dog"), ("tom", None))]
        conn.execute("UPDATE pets SET is_custom_base_model = true WHERE name = %s", ("tom",))
        conn.commit()
    with psycopg.connect(pg_database) as conn:
        rows = conn.execute("SELECT id, name, kind, is_custom_base_model FROM pets ORDER BY id")
        assert rows.fetchall() == [(1, "rex", "dog", False), (2, "tom", None, True)]
        assert ids == [(1,), (2,)]
        columns = conn.execute(
            "SELECT column_name, data_type, is_nullable, column_default FROM "
            "information_schema.columns WHERE table_name = 'pets' ORDER BY ordinal_position")
        assert [c[:3] for c in columns.fetchall()] == [
            ("id", "integer", "NO"), ("name", "text", "NO"), ("kind", "text", "YES"),
            ("is_custom_base_model", "boolean", "YES")]


def test_each_scratch_database_is_isolated_and_dropped(pg_url: str) -> None:
    with pg.scratch_database(pg_url) as first, pg.scratch_database(pg_url) as second:
        assert first != second
        with psycopg.connect(first, autocommit=True) as conn:
            conn.execute(PETS)
        with psycopg.connect(second, autocommit=True) as conn:
            found = conn.execute("SELECT to_regclass('public.pets')").fetchone()
            assert found == (None,)
            held_open = psycopg.connect(second)  # a connection a test forgot to close
        names = {url.rsplit("/", 1)[1].split("?")[0] for url in (first, second)}
    with psycopg.connect(pg_url, autocommit=True) as admin:
        left = admin.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s)",
                             (sorted(names),)).fetchall()
    held_open.close()
    assert left == []


def test_with_database_keeps_the_socket_and_port() -> None:
    url = "postgresql://postgres@/postgres?host=/tmp/dbharness-pg-0&port=5432"
    assert pg.with_database(url, "dbh_x") == (
        "postgresql://postgres@/dbh_x?host=/tmp/dbharness-pg-0&port=5432")
    assert pg.with_database("postgresql://u:p@127.0.0.1:5433/db", "t") == (
        "postgresql://u:p@127.0.0.1:5433/t")



@pytest.mark.parametrize(("ci", "outcome"), [("", pytest.skip.Exception),
                                             ("true", pytest.fail.Exception)])
def test_without_a_server_skip_locally_fail_in_ci(
        monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]) -> None:
    monkeypatch.delenv(pg.ENV, raising=False)
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match=f"no PostgreSQL server: {pg.ENV} is not set"):
        pg.server_url()


def test_a_configured_server_that_does_not_answer_fails(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pytest.importorskip("psycopg")
    monkeypatch.setenv("CI", "")
    monkeypatch.setenv(pg.ENV, f"postgresql://postgres@/postgres?host={tmp_path}&port=5432")
    with pytest.raises(pytest.fail.Exception, match="does not answer"):
        pg.server_url()
