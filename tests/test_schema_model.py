"""The static schema (DDL applied in order) equals the schema SQLite reports for the same DDL."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.sql.ddl import DdlConflict, SchemaBuilder, build_schema
from harness.sql.diff import diff_schemas, render_changes
from harness.sql.live import read_schema
from harness.sql.parse import parse_sql
from harness.sql.schema import Column, Schema, Table

CORPUS = [
    "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)",
    "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL)",
    "CREATE TABLE t (a, b, c)",
    "CREATE TABLE t (a PRIMARY KEY, b UNIQUE)",
    "CREATE TABLE t (a INT, b TEXT, PRIMARY KEY (a, b))",
    "CREATE TABLE t (a INT, b TEXT, UNIQUE (a, b))",
    # AUTOINCREMENT at the end of a table-level key list (valid SQLite, rejected by sqlglot)
    "CREATE TABLE t (a integer NOT NULL, b TEXT, PRIMARY KEY (a AUTOINCREMENT))",
    # table constraints without commas between them (valid SQLite, rejected by sqlglot)
    "CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE t (a INT, b INT CHECK (b > 0) "
    "UNIQUE, FOREIGN KEY (a) REFERENCES p (id) ON DELETE CASCADE\n FOREIGN KEY (b) "
    "REFERENCES p (id) UNIQUE (a, b) CONSTRAINT k CHECK (a > 0))",
    "CREATE TABLE t (a INT, b TEXT, c REAL, PRIMARY KEY (a)) WITHOUT ROWID",
    "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT NOT NULL) STRICT",
    "CREATE TABLE t (a INTEGER, b TEXT PRIMARY KEY) STRICT, WITHOUT ROWID",
    "CREATE TABLE t (a TEXT DEFAULT 'x', b INT DEFAULT 0, c REAL DEFAULT 1.5)",
    "CREATE TABLE t (a TEXT DEFAULT CURRENT_TIMESTAMP, b INT DEFAULT (1 + 2))",
    "CREATE TABLE t (a INT DEFAULT -1, b TEXT DEFAULT 'it''s')",
    "CREATE TABLE t (a VARCHAR(20), b NUMERIC(10, 2), c DOUBLE PRECISION, d BLOB)",
    "CREATE TABLE t (a BOOLEAN DEFAULT 0, b DATETIME, c NVARCHAR(100))",
    "CREATE TABLE t (a UNSIGNED BIG INT NOT NULL, b VARYING CHARACTER(255), c DOUBLE PRECISION)",
    "CREATE TABLE t (rating TEXT parent_rating_key INTEGER, title TEXT)",
    "CREATE TABLE t (a INT, b INT GENERATED ALWAYS AS (a * 2) VIRTUAL)",
    "CREATE TABLE t (a INT, b INT GENERATED ALWAYS AS (a + 1) STORED)",
    "CREATE TABLE t (a INT, b INT AS (a * 3))",
    'CREATE TABLE "Quoted Table" ("Col One" TEXT, [two] INT, `three` REAL)',
    "CREATE TABLE t (a INT NOT NULL CHECK (a > 0), b TEXT COLLATE NOCASE)",
    "CREATE TABLE p (id INTEGER PRIMARY KEY); "
    "CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INT REFERENCES p(id) ON DELETE CASCADE)",
    "CREATE TABLE p (id INTEGER PRIMARY KEY); "
    "CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INT, FOREIGN KEY (p_id) REFERENCES p(id))",
    "CREATE TABLE t (a INT); ALTER TABLE t ADD COLUMN b TEXT",
    "CREATE TABLE t (a INT); ALTER TABLE t ADD COLUMN b TEXT NOT NULL DEFAULT ''",
    "CREATE TABLE t (a INT); ALTER TABLE t ADD b BOOLEAN DEFAULT 0",
    "CREATE TABLE t (a INT, b TEXT); ALTER TABLE t RENAME COLUMN b TO c",
    "CREATE TABLE t (a INT, b TEXT); ALTER TABLE t DROP COLUMN b",
    "CREATE TABLE t (a INT); ALTER TABLE t RENAME TO u",
    "CREATE TABLE t (a INT); ALTER TABLE t RENAME TO u; ALTER TABLE u ADD COLUMN z INT",
    "CREATE TABLE t (a INT); DROP TABLE t; CREATE TABLE t (b TEXT)",
    "CREATE TABLE t (a INT); CREATE TABLE IF NOT EXISTS t (a INT, b INT)",
    "CREATE TABLE IF NOT EXISTS t (a INT); CREATE TABLE IF NOT EXISTS t (x TEXT)",
    "CREATE TABLE t (a INT, b TEXT); CREATE VIEW v AS SELECT a, b AS bee FROM t",
    "CREATE TABLE t (a INT, b TEXT); CREATE TABLE c AS SELECT a, b FROM t",
    "CREATE TABLE t (a INTEGER, b VARCHAR(9), c FLOAT, d BOOLEAN); "
    "CREATE TABLE c AS SELECT a, b, c, d FROM t",
    "CREATE TEMP TABLE IF NOT EXISTS scratch (a INT)".replace("TEMP ", ""),
    "CREATE TABLE t (a INT); CREATE INDEX i ON t (a); CREATE UNIQUE INDEX j ON t (a)",
    "CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT);"
    "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET body = upper(body); END;"
    "ALTER TABLE t ADD COLUMN extra INT",
    # The copy-table migration pattern.
    "CREATE TABLE t (a INT, b TEXT, c REAL); BEGIN; CREATE TABLE t_new (a INT, c REAL);"
    "INSERT INTO t_new SELECT a, c FROM t; DROP TABLE t; ALTER TABLE t_new RENAME TO t; COMMIT",
    "CREATE TABLE fine_tuned_models (id INTEGER PRIMARY KEY AUTOINCREMENT, model_name TEXT NOT "
    "NULL, model_path TEXT NOT NULL); ALTER TABLE fine_tuned_models ADD COLUMN "
    "is_custom_base_model BOOLEAN DEFAULT 0",
    "-- a comment\nCREATE TABLE t (a INT /* inline */, b TEXT) -- trailing\n;",
]


def _static(script: str) -> Schema:
    parsed = parse_sql(script)
    assert not parsed.errors, parsed.errors
    return build_schema(list(parsed.statements), strict=True)


def _live(script: str) -> Schema:
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(script)
        return read_schema(conn)
    finally:
        conn.close()


@pytest.mark.parametrize("script", CORPUS)
def test_static_schema_equals_live(script: str) -> None:
    changes = diff_schemas(_static(script), _live(script))
    assert not changes, render_changes(changes)


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 30


def test_diff_names_what_differs() -> None:
    old = _static("CREATE TABLE t (a INT, b TEXT NOT NULL, c INT)")
    new = _static("CREATE TABLE t (a TEXT, b TEXT, d INT); CREATE TABLE u (x INT)")
    got = sorted(str(c) for c in diff_schemas(old, new))
    assert got == [
        "column-added: t.d (INT)",
        "column-changed: t.a (type: 'INT' -> 'TEXT')",
        "column-changed: t.b (not_null: True -> False)",
        "column-removed: t.c",
        "table-added: u",
    ]


def test_strict_mode_rejects_what_sqlite_rejects() -> None:
    builder = SchemaBuilder(strict=True)
    for statement in parse_sql("CREATE TABLE t (a INT)").statements:
        builder.apply(statement)
    for bad in ("ALTER TABLE t ADD COLUMN a INT", "CREATE TABLE t (b INT)",
                "ALTER TABLE missing ADD COLUMN x INT", "ALTER TABLE t DROP COLUMN nope"):
        with pytest.raises(DdlConflict):
            for statement in parse_sql(bad).statements:
                builder.apply(statement)


def test_lenient_mode_unions_declarations() -> None:
    parsed = parse_sql("CREATE TABLE IF NOT EXISTS t (a INT); CREATE TABLE IF NOT EXISTS t (b INT);"
                       "ALTER TABLE t ADD COLUMN a INT")
    schema = build_schema(list(parsed.statements), strict=False)
    table = schema.table("T")
    assert table is not None and sorted(table.column_names()) == ["a", "b"]


def test_case_insensitive_names() -> None:
    schema = _static('CREATE TABLE Models ("Name" TEXT)')
    table = schema.table("MODELS")
    assert table is not None and table.has_column("name")


def test_rowid_alias() -> None:
    schema = _static("CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT); "
                     "CREATE TABLE w (id INTEGER PRIMARY KEY, x TEXT) WITHOUT ROWID")
    t, w = schema.table("t"), schema.table("w")
    assert t is not None and t.rowid_alias() == "id" and t.has_column("rowid")
    assert w is not None and w.rowid_alias() is None and not w.has_column("rowid")


IDENT = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda s: s not in {"as", "by", "if", "in", "is", "no", "of", "on", "or", "to", "do",
                        "key", "end", "not", "and", "set", "add", "all", "asc", "row", "for",
                        "use", "top", "int", "desc", "case", "cast", "drop", "else", "from",
                        "full", "glob", "into", "join", "last", "left", "like", "null", "over",
                        "plan", "then", "view", "when", "with", "true", "false"})
TYPES = st.sampled_from(["INTEGER", "TEXT", "REAL", "BLOB", "NUMERIC", "VARCHAR(30)", "BOOLEAN",
                         "INT", ""])


@st.composite
def tables(draw: st.DrawFn) -> tuple[str, list[tuple[str, str, bool, str | None]]]:
    name = draw(IDENT)
    cols = draw(st.lists(st.tuples(IDENT, TYPES, st.booleans(),
                                   st.sampled_from([None, "0", "'x'", "1.5", "NULL"])),
                         min_size=1, max_size=8, unique_by=lambda c: c[0]))
    return name, cols


@settings(max_examples=60, deadline=None)
@given(tables())
def test_generated_schemas_match_sqlite(spec: tuple[str, list[tuple[str, str, bool, str | None]]]
                                        ) -> None:
    name, cols = spec
    defs = []
    for col, typ, not_null, default in cols:
        parts = [f'"{col}"', typ]
        if not_null:
            parts.append("NOT NULL")
        if default is not None:
            parts.append(f"DEFAULT {default}")
        defs.append(" ".join(p for p in parts if p))
    script = f'CREATE TABLE "{name}" ({", ".join(defs)})'
    changes = diff_schemas(_static(script), _live(script))
    assert not changes, script + "\n" + render_changes(changes)


def test_table_model_helpers() -> None:
    table = Table("t", (Column("a", "INT"),))
    assert table.with_columns(()).columns == ()
    assert Schema().put(table).remove("T") == Schema()


def test_lenient_mode_applies_an_alter_seen_before_its_create() -> None:
    """DDL spread over files: migrations.py sorts before schema.py."""
    parsed = parse_sql("ALTER TABLE t ADD COLUMN late TEXT; CREATE TABLE IF NOT EXISTS t (a INT)")
    lenient = build_schema(list(parsed.statements), strict=False).table("t")
    assert lenient is not None and lenient.column_names() == ["a", "late"]
    with pytest.raises(DdlConflict):
        build_schema(list(parsed.statements), strict=True)
