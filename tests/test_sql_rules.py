"""Each SQL rule: a case it must flag, and a near miss it must not."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import assert_rules, findings

SCHEMA = '''
import sqlite3
conn = sqlite3.connect("app.db")
conn.executescript("""
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    age INTEGER
);
CREATE TABLE IF NOT EXISTS posts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id),
    title TEXT NOT NULL,
    body TEXT
);
""")
'''


def run(tmp_path: Path, code: str, **config: object) -> list:
    return findings(tmp_path, {"schema.py": SCHEMA, "app.py": code}, **config)


CASES = [
    # (rule expected or None, code)
    ("unknown-table", 'conn.execute("SELECT id FROM user WHERE id = ?", (1,))'),
    (None, 'conn.execute("SELECT id FROM users WHERE id = ?", (1,))'),
    (None, 'conn.execute("SELECT name FROM sqlite_master WHERE type = ?", ("table",))'),
    ("unknown-column", 'conn.execute("SELECT nme FROM users")'),
    (None, 'conn.execute("SELECT name FROM users")'),
    ("unknown-column", 'conn.execute("INSERT INTO users (name, nme) VALUES (?, ?)", ("a", 1))'),
    ("unknown-column", 'conn.execute("UPDATE users SET nme = ? WHERE id = ?", ("a", 1))'),
    ("unknown-column", 'conn.execute("DELETE FROM users WHERE idd = ?", (1,))'),
    ("unknown-column", 'conn.execute("SELECT u.name, p.titel FROM users u JOIN posts p ON '
                       'p.user_id = u.id")'),
    (None, 'conn.execute("SELECT u.name, p.title FROM users u JOIN posts p ON p.user_id = u.id")'),
    (None, 'conn.execute("WITH c AS (SELECT id, name AS n FROM users) SELECT n FROM c")'),
    ("unknown-column", 'conn.execute("WITH c AS (SELECT id, name AS n FROM users) '
                       'SELECT name FROM c")'),
    (None, 'conn.execute("SELECT s.n FROM (SELECT name AS n FROM users) AS s")'),
    (None, 'conn.execute("SELECT id FROM users WHERE id IN (SELECT user_id FROM posts '
           'WHERE posts.title = users.name)")'),
    (None, 'conn.execute("INSERT INTO users (name) VALUES (?) ON CONFLICT(id) DO UPDATE '
           'SET name = excluded.name RETURNING id", ("a",))'),
    ("unknown-column", 'conn.execute("INSERT INTO users (name) VALUES (?) ON CONFLICT(id) DO '
                       'UPDATE SET name = excluded.nme", ("a",))'),
    ("unknown-column", 'conn.execute("INSERT INTO users (name) VALUES (?) RETURNING idd", ("a",))'),
    (None, 'conn.execute(\'SELECT "name" FROM "users"\')'),
    (None, 'conn.execute("SELECT NAME FROM USERS")'),
    (None, 'conn.execute("SELECT rowid, name FROM users ORDER BY rowid")'),
    (None, 'conn.execute("SELECT name AS n FROM users ORDER BY n")'),
    ("insert-arity", 'conn.execute("INSERT INTO users (name, email) VALUES (?)", ("a",))'),
    (None, 'conn.execute("INSERT INTO users (name, email) VALUES (?, ?)", ("a", "b"))'),
    ("insert-arity", 'conn.execute("INSERT INTO users VALUES (?, ?)", (1, "a"))'),
    (None, 'conn.execute("INSERT INTO users VALUES (?, ?, ?, ?)", (1, "a", "b", 3))'),
    ("param-count", 'conn.execute("INSERT INTO users (name, email) VALUES (?, ?)", ("a",))'),
    ("param-count", 'conn.execute("SELECT * FROM users WHERE id = ?")'),
    ("param-count", 'conn.execute("SELECT * FROM users WHERE id = :id", (1,))'),
    (None, 'conn.execute("SELECT * FROM users WHERE id = ?", [1])'),
    (None, 'conn.execute("SELECT * FROM users WHERE id = ?", params)'),
    (None, 'conn.execute("SELECT * FROM users WHERE id = ?", (*ids,))'),
    ("param-count", 'conn.executemany("INSERT INTO users (name) VALUES (?)", [("a", 1)])'),
    (None, 'conn.executemany("INSERT INTO users (name) VALUES (?)", [("a",), ("b",)])'),
    ("not-null-missing", 'conn.execute("INSERT INTO users (email) VALUES (?)", ("a",))'),
    (None, 'conn.execute("INSERT INTO users (name) VALUES (?)", ("a",))'),
    ("not-null-missing", 'conn.execute("INSERT INTO posts (user_id) VALUES (?)", (1,))'),
    (None, 'conn.execute("INSERT INTO posts (user_id, title) VALUES (?, ?)", (1, "t"))'),
    ("sql-syntax", 'conn.execute("INSERT INTO users (name VALUES (?)", ("a",))'),
    ("sql-syntax", 'conn.execute("SELEC name FROM users")'),
    ("sql-syntax", 'conn.execute("SELEC broken")'),
    (None, 'conn.execute("REINDEX")'),
    # SQLite syntax sqlglot does not know: SQLite's own parser has the last word.
    (None, 'conn.execute("CREATE TABLE items2 (id INTEGER PRIMARY KEY, data ANY) STRICT")'),
    (None, 'conn.execute("CREATE TABLE dogs (id INTEGER PRIMARY KEY, name TEXT UNIQUE ON '
           'CONFLICT IGNORE)")'),
    ("unknown-column", 'conn.execute("REPLACE INTO users (name, nme) VALUES (?, ?)", ("a", 1))'),
    (None, 'conn.execute("REPLACE INTO users (name) VALUES (?)", ("a",))'),
    (None, 'conn.execute("SELECT name FROM users -- ; not a second statement\\n")'),
    (None, 'conn.execute("SELECT \'it\'\'s; fine\' FROM users")'),
    (None, 'log.info("could not create table users: %s", err)'),
    (None, 'conn.execute(f"SELECT {col} FROM users ORDER BY {col} {direction}")'),
    ("unknown-column", 'conn.execute(f"SELECT nme FROM users WHERE id = {user_id}")'),
    (None, 'conn.execute("SELECT name FROM users WHERE email = \\"x@y\\"")'),
]


@pytest.mark.parametrize(("rule", "code"), CASES, ids=[f"{i}-{c[0]}" for i, c in enumerate(CASES)])
def test_sql_rule_cases(tmp_path: Path, rule: str | None, code: str) -> None:
    got = run(tmp_path, "from schema import conn\n" + code + "\n")
    assert_rules(got, *([rule] if rule else []))


PARAMSTYLES = [
    ("postgres", '"SELECT * FROM users WHERE id = %s AND name = %s"', "(1, 'a')", None),
    ("postgres", '"SELECT * FROM users WHERE id = %s AND name = %s"', "(1,)", "param-count"),
    ("postgres", '"SELECT * FROM users WHERE id = %(id)s"', "(1,)", "param-count"),
    ("mysql", '"SELECT * FROM users WHERE id = %s"', "(1,)", None),
    ("sqlite", '"SELECT * FROM users WHERE id = ?1 AND age > ?1"', "(1,)", None),
    ("sqlite", '"SELECT * FROM users WHERE id = ?2"', "(1,)", "param-count"),
    ("postgres", '"SELECT * FROM users WHERE id = $1 AND age > $2"', "(1, 2)", None),
    ("postgres", '"SELECT * FROM users WHERE id = $1 AND age > $2"', "(1,)", "param-count"),
    ("sqlite", '"SELECT * FROM users WHERE id = :1"', "(1,)", None),
    ("sqlite", '"SELECT * FROM users WHERE id = \'?\' AND name = ?"', "('a',)", None),
]


@pytest.mark.parametrize(("dialect", "sql", "params", "rule"), PARAMSTYLES)
def test_paramstyles(tmp_path: Path, dialect: str, sql: str, params: str,
                     rule: str | None) -> None:
    got = run(tmp_path, f"from schema import conn\nconn.execute({sql}, {params})\n",
              dialect=dialect)
    assert_rules([d for d in got if d.rule != "sql-syntax" or dialect == "sqlite"],
                 *([rule] if rule else []))


def test_location_points_at_the_name_inside_a_multiline_string(tmp_path: Path) -> None:
    code = 'from schema import conn\nconn.execute("""\n    SELECT id,\n           nme\n' \
           '    FROM users""")\n'
    got = run(tmp_path, code)
    assert [(d.rule, d.path, d.line, d.col) for d in got] == [("unknown-column", "app.py", 4, 12)]


def test_location_through_implicit_concatenation(tmp_path: Path) -> None:
    code = 'from schema import conn\nconn.execute(\n    "SELECT id "\n    "FROM userz"\n)\n'
    got = run(tmp_path, code)
    assert [(d.rule, d.line, d.col) for d in got] == [("unknown-table", 4, 11)]


def test_syntax_error_location(tmp_path: Path) -> None:
    code = 'from schema import conn\nconn.execute("INSERT INTO users (name VALUES (?)", (1,))\n'
    got = run(tmp_path, code)
    assert [(d.rule, d.line) for d in got] == [("sql-syntax", 2)]
    assert "VALUES" in got[0].message


def test_sql_file(tmp_path: Path) -> None:
    files = {"schema.sql": "CREATE TABLE a (id INTEGER PRIMARY KEY, x TEXT);\n",
             "queries.sql": "SELECT id,\n  y FROM a;\n"}
    got = findings(tmp_path, files)
    assert [(d.rule, d.path, d.line, d.col) for d in got] == [
        ("unknown-column", "queries.sql", 2, 3)]


def test_no_ddl_means_no_unknown_table(tmp_path: Path) -> None:
    got = findings(tmp_path, {"app.py": 'conn.execute("SELECT * FROM anything")\n'})
    assert got == []


def test_suppression_comment(tmp_path: Path) -> None:
    code = ('from schema import conn\n'
            'conn.execute("SELECT nme FROM users")  # dbharness: ignore[unknown-column]\n'
            'conn.execute("SELECT nme FROM users")  # dbharness: ignore[unknown-table]\n'
            'conn.execute("SELECT nme FROM users")  # dbharness: ignore\n')
    got = run(tmp_path, code)
    assert [(d.rule, d.line) for d in got] == [("unknown-column", 3)]


def test_external_tables_config(tmp_path: Path) -> None:
    code = 'from schema import conn\nconn.execute("SELECT id FROM auth_user")\n'
    assert_rules(run(tmp_path, code), "unknown-table")
    assert_rules(run(tmp_path, code, external_tables=("auth_user",)))


def test_disable_rule(tmp_path: Path) -> None:
    code = 'from schema import conn\nconn.execute("SELECT nme FROM users")\n'
    assert_rules(run(tmp_path, code, disable=("unknown-column",)))


COLUMN = st.from_regex(r"c[a-z]{1,5}", fullmatch=True)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table_cols=st.lists(COLUMN, min_size=1, max_size=6, unique=True),
       used=st.lists(COLUMN, min_size=1, max_size=4, unique=True),
       kind=st.sampled_from(["insert", "select"]))
def test_unknown_column_iff_absent(tmp_path: Path, table_cols: list[str], used: list[str],
                                   kind: str) -> None:
    """For random schemas and column lists: unknown-column exactly for the absent names."""
    ddl = f"CREATE TABLE t ({', '.join(c + ' TEXT' for c in table_cols)})"
    if kind == "insert":
        sql = f"INSERT INTO t ({', '.join(used)}) VALUES ({', '.join('?' for _ in used)})"
        params = "(" + "".join("1, " for _ in used) + ")"
    else:
        sql = f"SELECT {', '.join(used)} FROM t"
        params = "()"
    code = f'conn.execute("{ddl}")\nconn.execute("{sql}", {params})\n'
    got = findings(tmp_path, {"app.py": code})
    reported = sorted(d.column for d in got if d.rule == "unknown-column")
    assert reported == sorted(c for c in used if c not in table_cols)
    assert all(d.rule == "unknown-column" for d in got), [str(d) for d in got]


def test_keyword_named_placeholders(tmp_path: Path) -> None:
    code = ("import sqlite3\nconn = sqlite3.connect('x')\n"
            "conn.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, comment TEXT, count INT)')\n"
            "def add(rec):\n"
            "    conn.execute('INSERT INTO t (comment, count) VALUES (:comment, :count)', rec)\n"
            "add({'comment': 'c', 'count': 1})\n")
    assert findings(tmp_path, {"app.py": code}) == []


@pytest.mark.parametrize("call", [
    'db.execute("SELECT id FROM users WHERE id = ?", params=(1,))',
    'db.execute("SELECT id FROM users WHERE id = ?", **kw)',
    'db.execute("SELECT id FROM users WHERE id = ?", args=[1])',
])
def test_wrapper_keywords_carry_parameters(tmp_path: Path, call: str) -> None:
    """datasette's ``execute(sql, params=...)``: found as a false alarm on real code."""
    assert_rules(run(tmp_path, "from schema import conn\n" + call + "\n"))


def test_wrong_count_through_params_keyword(tmp_path: Path) -> None:
    got = run(tmp_path, 'from schema import conn\n'
                        'db.execute("SELECT id FROM users WHERE id = ? AND age = ?", '
                        'params=(1,))\n')
    assert_rules(got, "param-count")


@pytest.mark.parametrize("code", [
    'conn.execute("vacuum into ?", ["backup.db"])',  # llm: sqlglot keeps VACUUM as a Command
    'conn.execute("SELECT relname FROM pg_class JOIN pg_namespace ON true")',  # peewee
    'conn.execute("SET TRANSACTION AS OF SYSTEM TIME %s", (t,))',  # peewee's cockroach module
])
def test_real_code_near_misses(tmp_path: Path, code: str) -> None:
    assert_rules(run(tmp_path, "from schema import conn\n" + code + "\n"))


OTHER_DB = [
    # buku reads Firefox's places.sqlite: a database the caller names, none of our tables.
    (None, "def load(path):\n    other = sqlite3.connect('file:%s?mode=ro' % path, uri=True)\n"
           "    cur = other.cursor()\n    cur.execute('SELECT url FROM moz_places')\n"),
    (None, "def load(path):\n    with sqlite3.connect(path) as other:\n"
           "        other.execute('SELECT title FROM moz_bookmarks WHERE id = 1')\n"),
    # the same SQL on the application's own connection is an unknown table
    ("unknown-table", "def load(path):\n    conn.execute('SELECT url FROM moz_places')\n"),
    # a connection to a fixed file is the application's own database
    ("unknown-table", "def load():\n    other = sqlite3.connect('app.db')\n"
                      "    other.execute('SELECT url FROM moz_places')\n"),
    # a method opening the application's configured path is the application's database
    ("unknown-table", "class Repo:\n    def load(self):\n"
                      "        other = sqlite3.connect(self.path)\n"
                      "        other.execute('SELECT url FROM moz_places')\n"),
    # a named database that is queried for one of our tables is checked as ours
    ("unknown-column", "def load(path):\n    other = sqlite3.connect(path)\n"
                       "    other.execute('SELECT nmae FROM users')\n"),
]


@pytest.mark.parametrize(("rule", "code"), OTHER_DB, ids=[str(i) for i in range(len(OTHER_DB))])
def test_another_applications_database(tmp_path: Path, rule: str | None, code: str) -> None:
    got = run(tmp_path, "import sqlite3\nfrom schema import conn\n\n" + code)
    assert_rules(got, *([rule] if rule else []))


VARARGS = '''
class Store:
    def __init__(self, conn):
        self.conn = conn

    def fetch(self, query, *args):
        return self.conn.execute(query, args).fetchall()

    def first(self, index):
        return self.fetch("SELECT * FROM users WHERE id = ? LIMIT 1", {call})
'''


@pytest.mark.parametrize(("call", "rule"), [("index", None), ("*index", None),
                                            ("index, 2", "param-count")])
def test_varargs_wrapper_passes_the_rest_as_parameters(tmp_path: Path, call: str,
                                                      rule: str | None) -> None:
    """buku's ``_fetch(query, *args)``: found as a false alarm on real code."""
    got = run(tmp_path, VARARGS.replace("{call}", call))
    assert_rules(got, *([rule] if rule else []))


VIRTUAL = '''
import sqlite3
conn = sqlite3.connect("x.db")
conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS notes_fts USING fts5(body, title UNINDEXED, "
             "tokenize='porter', content='')")
conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS old_fts USING fts4(body, tokenize=porter)")
conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS boxes USING rtree(id, min_x, max_x)")
conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS words USING spellfix1")
'''


@pytest.mark.parametrize(("sql", "rule"), [
    ("SELECT rowid, body, title, rank FROM notes_fts WHERE notes_fts MATCH ?", None),
    ("SELECT docid, body FROM old_fts WHERE old_fts MATCH ?", None),
    ("SELECT id FROM boxes WHERE min_x > ?", None),
    ("SELECT word FROM words WHERE word MATCH ?", None),  # a module whose columns are unknown
    ("SELECT bodyy FROM notes_fts WHERE notes_fts MATCH ?", "unknown-column"),
    ("SELECT id FROM boxes WHERE min_y > ?", "unknown-column"),
    ("SELECT body FROM note_fts WHERE body MATCH ?", "unknown-table"),
])
def test_virtual_tables(tmp_path: Path, sql: str, rule: str | None) -> None:
    """FTS and R*Tree tables declare columns as module arguments (options such as
    ``tokenize='porter'`` and words such as UNINDEXED are not columns; rowid, docid/rank and
    the table's own name are hidden columns): found as false alarms on mopidy-local."""
    code = VIRTUAL + f"conn.execute({sql!r}, ('q',))\n"
    assert_rules(findings(tmp_path, {"app.py": code}), *([rule] if rule else []))
