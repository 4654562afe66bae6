"""DDL self-checks: each flags its mistake and leaves the near miss alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.rules.ddl_rules import suspicious
from tests.helpers import assert_rules, findings

CASES = [
    ("ddl-duplicate-column", "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, Name TEXT)"),
    (None, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, name2 TEXT)"),
    ("ddl-unknown-column", "CREATE TABLE t (a INT, b INT, UNIQUE (a, c))"),
    (None, "CREATE TABLE t (a INT, b INT, UNIQUE (a, b))"),
    ("ddl-unknown-column", "CREATE TABLE t (a INT, b INT, PRIMARY KEY (a, bb))"),
    (None, "CREATE TABLE t (a INT, b INT, PRIMARY KEY (a, b))"),
    ("ddl-unknown-column", "CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE t (a INT, "
                           "FOREIGN KEY (aa) REFERENCES p(id))"),
    (None, "CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE t (a INT, "
           "FOREIGN KEY (a) REFERENCES p(id))"),
    # the parent side of a foreign key: a column the parent table never has
    ("ddl-unknown-column", "CREATE TABLE p (name TEXT PRIMARY KEY); CREATE TABLE t (pn TEXT, "
                           "FOREIGN KEY (pn) REFERENCES p (pname))"),
    (None, "CREATE TABLE p (name TEXT PRIMARY KEY); CREATE TABLE t (pn TEXT, "
           "FOREIGN KEY (pn) REFERENCES p (name))"),
    ("ddl-unknown-column", "CREATE TABLE p (id INTEGER PRIMARY KEY); "
                           "CREATE TABLE t (a INT REFERENCES p(pid))"),
    (None, "CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE t (a INT REFERENCES p(id))"),
    ("ddl-unknown-column", "CREATE TABLE t (id INTEGER PRIMARY KEY, up INT REFERENCES t(uid))"),
    (None, "CREATE TABLE t (id INTEGER PRIMARY KEY, up INT REFERENCES t(id))"),
    # no column list (the parent's primary key), a parent no DDL declares, a parent column
    # renamed later (SQLite rewrites the reference): nothing to judge
    (None, "CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE t (a INT REFERENCES p)"),
    (None, "CREATE TABLE t (a INT, FOREIGN KEY (a) REFERENCES elsewhere (x))"),
    (None, "CREATE TABLE p (old INTEGER PRIMARY KEY); CREATE TABLE t (a INT REFERENCES p(old)); "
           "ALTER TABLE p RENAME COLUMN old TO id"),
    ("ddl-unknown-column", "CREATE TABLE t (a INT, b INT); CREATE INDEX i ON t (a, c)"),
    (None, "CREATE TABLE t (a INT, b INT); CREATE UNIQUE INDEX i ON t (b DESC, a)"),
    ("ddl-suspicious-type", "CREATE TABLE t (id INTEGER PRIMARY KEY, rating TEXT "
                            "parent_rating_key INTEGER, title TEXT)"),
    (None, "CREATE TABLE t (id INTEGER PRIMARY KEY, n DOUBLE PRECISION, u UNSIGNED BIG INT, "
           "c CHARACTER VARYING(20), ts TIMESTAMP WITH TIME ZONE, v VARCHAR(10))"),
]


@pytest.mark.parametrize(("rule", "ddl"), CASES, ids=[f"{i}-{c[0]}" for i, c in enumerate(CASES)])
def test_ddl_rules(tmp_path: Path, rule: str | None, ddl: str) -> None:
    got = findings(tmp_path, {"schema.sql": ddl + ";\n"})
    assert_rules(got, *([rule] if rule else []))


def test_ddl_in_python_points_at_the_column(tmp_path: Path) -> None:
    code = ('import sqlite3\nsqlite3.connect("x").execute("""CREATE TABLE media (\n'
            "    id INTEGER PRIMARY KEY,\n    rating TEXT parent_rating_key INTEGER,\n"
            '    title TEXT)""")\n')
    (d,) = findings(tmp_path, {"app.py": code})
    assert (d.rule, d.line, d.col, d.column) == ("ddl-suspicious-type", 4, 5, "rating")
    assert "parent_rating_key" in d.message


@pytest.mark.parametrize(("declared", "word"), [
    ("TEXT PARENT_RATING_KEY INTEGER", "PARENT_RATING_KEY"),
    ("INTEGER count INTEGER", "count"),
    ("VARCHAR(20) other TEXT", "other"),
    ("TEXT", None), ("DOUBLE PRECISION", None), ("UNSIGNED BIG INT", None),
    ("CHARACTER VARYING(255)", None), ("TIMESTAMP WITH TIME ZONE", None), ("", None),
    ("my_custom_type", None), ("TEXT COLLATE", None),
])
def test_suspicious_words(declared: str, word: str | None) -> None:
    assert suspicious(declared) == word


GUARDS = {
    "try mismatch": ('''
        try:
            cur.execute("SELECT is_custom FROM models LIMIT 1")
        except sqlite3.OperationalError:
            cur.execute("ALTER TABLE models ADD COLUMN is_custom_base_model BOOLEAN DEFAULT 0")
    ''', "migration-guard-mismatch"),
    "try match": ('''
        try:
            cur.execute("SELECT is_custom_base_model FROM models LIMIT 1")
        except sqlite3.OperationalError:
            cur.execute("ALTER TABLE models ADD COLUMN is_custom_base_model BOOLEAN DEFAULT 0")
    ''', None),
    "membership mismatch": ('''
        cols = [r[1] for r in cur.execute("PRAGMA table_info(models)")]
        if "rating" not in cols:
            cur.execute("ALTER TABLE models ADD COLUMN score REAL")
    ''', "migration-guard-mismatch"),
    "membership match": ('''
        cols = [r[1] for r in cur.execute("PRAGMA table_info(models)")]
        if "score" not in cols:
            cur.execute("ALTER TABLE models ADD COLUMN score REAL")
    ''', None),
    "other table": ('''
        cols = [r[1] for r in cur.execute("PRAGMA table_info(users)")]
        if "rating" not in cols:
            cur.execute("ALTER TABLE models ADD COLUMN score REAL")
    ''', None),
}


@pytest.mark.parametrize("name", sorted(GUARDS))
def test_migration_guards(tmp_path: Path, name: str) -> None:
    import textwrap

    body, rule = GUARDS[name]
    code = ("import sqlite3\ncur = sqlite3.connect('x').cursor()\n"
            "cur.execute('CREATE TABLE IF NOT EXISTS models (id INTEGER PRIMARY KEY, "
            "is_custom INT, rating INT, is_custom_base_model BOOLEAN DEFAULT 0, score REAL)')\n"
            "cur.execute('CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, rating INT)')\n"
            "def migrate():\n" + textwrap.indent(textwrap.dedent(body), "    "))
    got = findings(tmp_path, {"app.py": code})
    assert_rules(got, *([rule] if rule else []))
    if rule:  # the finding points at the column the ALTER adds
        alter_line = next(i for i, line in enumerate(code.splitlines(), 1) if "ALTER" in line)
        assert got[0].line == alter_line and "ADD COLUMN" in code.splitlines()[alter_line - 1]


DIVERGENCE = {
    "unguarded add of a declared column": ('''
        cur.execute("CREATE TABLE IF NOT EXISTS m (id INTEGER PRIMARY KEY, flag BOOLEAN)")
        cur.execute("ALTER TABLE m ADD COLUMN flag BOOLEAN DEFAULT 0")
    ''', "schema-divergence"),
    "guarded add": ('''
        cur.execute("CREATE TABLE IF NOT EXISTS m (id INTEGER PRIMARY KEY, flag BOOLEAN)")
        cols = [r[1] for r in cur.execute("PRAGMA table_info(m)")]
        if "flag" not in cols:
            cur.execute("ALTER TABLE m ADD COLUMN flag BOOLEAN DEFAULT 0")
    ''', None),
    "add in a try": ('''
        cur.execute("CREATE TABLE IF NOT EXISTS m (id INTEGER PRIMARY KEY, flag BOOLEAN)")
        try:
            cur.execute("ALTER TABLE m ADD COLUMN flag BOOLEAN DEFAULT 0")
        except sqlite3.OperationalError:
            pass
    ''', None),
    "add of a new column": ('''
        cur.execute("CREATE TABLE IF NOT EXISTS m (id INTEGER PRIMARY KEY)")
        cur.execute("ALTER TABLE m ADD COLUMN flag BOOLEAN DEFAULT 0")
    ''', None),
}


@pytest.mark.parametrize("name", sorted(DIVERGENCE))
def test_schema_divergence(tmp_path: Path, name: str) -> None:
    import textwrap

    body, rule = DIVERGENCE[name]
    code = ("import sqlite3\ncur = sqlite3.connect('x').cursor()\n\ndef init():\n"
            + textwrap.indent(textwrap.dedent(body), "    "))
    assert_rules(findings(tmp_path, {"app.py": code}), *([rule] if rule else []))


def test_alters_in_separate_migration_scripts_are_not_divergence(tmp_path: Path) -> None:
    files = {"schema.py": "def init(cur):\n    cur.execute('CREATE TABLE IF NOT EXISTS m "
                          "(id INTEGER PRIMARY KEY, flag BOOLEAN)')\n",
             "migrations/m002.py": "def up(cur):\n    cur.execute('ALTER TABLE m ADD COLUMN "
                                   "flag BOOLEAN')\n"}
    assert_rules(findings(tmp_path, files))


def test_old_column_probed_inside_a_guard_is_not_unknown(tmp_path: Path) -> None:
    code = ("import sqlite3\ncur = sqlite3.connect('x').cursor()\n\ndef init():\n"
            "    cur.execute('CREATE TABLE IF NOT EXISTS m (id INTEGER PRIMARY KEY, old_name "
            "TEXT)')\n"
            "    try:\n"
            "        cur.execute('SELECT old_name FROM m LIMIT 1')\n"
            "        cur.execute('ALTER TABLE m RENAME COLUMN old_name TO new_name')\n"
            "    except sqlite3.OperationalError:\n"
            "        pass\n"
            "    cur.execute('SELECT new_name FROM m')\n")
    assert_rules(findings(tmp_path, {"app.py": code}))
    unguarded = code.replace("    cur.execute('SELECT new_name FROM m')\n",
                             "    cur.execute('SELECT old_name FROM m')\n")
    got = findings(tmp_path / "b", {"app.py": unguarded})
    assert [(d.rule, d.column, d.line) for d in got] == [("unknown-column", "old_name", 11)]
