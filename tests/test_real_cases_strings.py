# ruff: noqa: E501  (the made-up snippets keep their SQL on one line, as real code does)
"""How Python code builds SQL text and parameters: false-alarm kinds seen on real code
(``shared/cases`` D, E, G, I, J, K), each with a near miss that must still be flagged.

Every snippet is made up here. Each label is confirmed in the test itself: the snippet is run
on a real SQLite database (Python's ``sqlite3``, in memory) through the calls listed, and a
clean case must run without error while a flagged case must raise the error the finding
predicts.
"""

from __future__ import annotations

import sqlite3
import textwrap
from pathlib import Path

import pytest

from tests.helpers import assert_rules, findings


def real_sqlite(code: str, calls: list[str]) -> str | None:
    """Run ``code`` (a module defining the functions) and then each of ``calls`` with ``conn``
    an in-memory SQLite connection; the first error's message, or None when all run."""
    namespace: dict[str, object] = {"__name__": "snippet"}
    exec(compile(textwrap.dedent(code), "<snippet>", "exec"), namespace)
    namespace["conn"] = sqlite3.connect(":memory:")
    try:
        for call in calls:
            exec(call, namespace)
    except (sqlite3.Error, KeyError) as err:
        return str(err)
    return None


def check(tmp_path: Path, code: str, *rules: str, calls: list[str],
          error: str | None = None) -> None:
    """The finding(s) ``rules`` on ``code``, and SQLite agrees: no error when none is
    expected, else an error containing ``error``."""
    got = real_sqlite(code, calls)
    if rules:
        assert got is not None and (error is None or error in got), got
    else:
        assert got is None, got
    assert_rules(findings(tmp_path, {"app.py": code}), *rules)


# --- kind I: a DDL statement with a computed part whose names are literal ---------------------

STAMP = '''
class Flavour:
    def __init__(self, name):
        self.name = name

    @property
    def stamp(self):
        return "NULL" if self.name == "sqlite" else "now()"

    @property
    def wide_int(self):
        return "INTEGER" if self.name == "sqlite" else "BIGINT"


flavour = Flavour("sqlite")
'''


def test_add_column_with_computed_default_adds_the_column(tmp_path: Path) -> None:
    code = STAMP + '''
def upgrade(conn):
    conn.execute("CREATE TABLE IF NOT EXISTS crates (id TEXT PRIMARY KEY, tag TEXT)")
    conn.execute(f"ALTER TABLE crates ADD COLUMN sealed_at TIMESTAMP DEFAULT {flavour.stamp}")


def seal(conn, crate, when):
    conn.execute("UPDATE crates SET sealed_at = ? WHERE id = ?", (when, crate))
'''
    check(tmp_path, code, calls=["upgrade(conn)", "seal(conn, 'c1', 5)"])


def test_add_column_with_computed_default_near_miss_other_column(tmp_path: Path) -> None:
    """The ALTER's names are literal, so a column nobody adds is still unknown."""
    code = STAMP + '''
def upgrade(conn):
    conn.execute("CREATE TABLE IF NOT EXISTS crates (id TEXT PRIMARY KEY, tag TEXT)")
    conn.execute(f"ALTER TABLE crates ADD COLUMN sealed_at TIMESTAMP DEFAULT {flavour.stamp}")


def seal(conn, crate, when):
    conn.execute("UPDATE crates SET closed_at = ? WHERE id = ?", (when, crate))
'''
    check(tmp_path, code, "unknown-column", calls=["upgrade(conn)", "seal(conn, 'c1', 5)"],
          error="no such column: closed_at")


def test_create_with_computed_type_is_modelled(tmp_path: Path) -> None:
    code = STAMP + '''
def upgrade(conn):
    conn.execute(f"CREATE TABLE IF NOT EXISTS fees (id TEXT PRIMARY KEY, cents {flavour.wide_int}, note TEXT)")


def charge(conn, fid, cents, note):
    conn.execute("INSERT INTO fees (id, cents, nots) VALUES (?, ?, ?)", (fid, cents, note))
'''
    check(tmp_path, code, "unknown-column", calls=["upgrade(conn)", "charge(conn, 'f', 1, 'x')"],
          error="no column named nots")


def test_create_with_computed_type_near_miss_right_column(tmp_path: Path) -> None:
    code = STAMP + '''
def upgrade(conn):
    conn.execute(f"CREATE TABLE IF NOT EXISTS fees (id TEXT PRIMARY KEY, cents {flavour.wide_int}, note TEXT)")


def charge(conn, fid, cents, note):
    conn.execute("INSERT INTO fees (id, cents, note) VALUES (?, ?, ?)", (fid, cents, note))
'''
    check(tmp_path, code, calls=["upgrade(conn)", "charge(conn, 'f', 1, 'x')"])


def test_computed_column_definition_leaves_the_table_open(tmp_path: Path) -> None:
    """A hole where a whole column definition goes may declare any column: not judged."""
    code = '''
EXTRA = "\\n".join([])


def upgrade(conn, extra):
    conn.execute(f"CREATE TABLE IF NOT EXISTS fees (id TEXT PRIMARY KEY, {extra})")


def charge(conn, fid, cents):
    conn.execute("INSERT INTO fees (id, cents) VALUES (?, ?)", (fid, cents))
'''
    check(tmp_path, code, calls=["upgrade(conn, 'cents INTEGER')", "charge(conn, 'f', 1)"])


# --- kind J: a hole inside a quoted identifier -------------------------------------------------

def test_hole_in_quoted_index_column_is_not_judged(tmp_path: Path) -> None:
    code = '''
def setup(conn):
    conn.execute("CREATE TABLE IF NOT EXISTS crates (id TEXT PRIMARY KEY, tag TEXT, sealed_at TEXT)")


def index_all(conn):
    for field in ["tag", "sealed_at"]:
        conn.execute(f'CREATE INDEX IF NOT EXISTS ix_crates_{field} ON crates ("{field}")')
'''
    check(tmp_path, code, calls=["setup(conn)", "index_all(conn)"])


def test_quoted_index_column_near_miss_literal(tmp_path: Path) -> None:
    code = '''
def setup(conn):
    conn.execute("CREATE TABLE IF NOT EXISTS crates (id TEXT PRIMARY KEY, tag TEXT, sealed_at TEXT)")


def index_all(conn):
    # unquoted: SQLite reads an unknown double-quoted name as a string literal
    conn.execute('CREATE INDEX IF NOT EXISTS ix_crates_tags ON crates (tags)')
'''
    check(tmp_path, code, "ddl-unknown-column", calls=["setup(conn)", "index_all(conn)"],
          error="no such column: tags")


# --- kind K: a params dict names placeholders, and a hole may hold one -------------------------

CLOCK = '''
class Clock:
    def at(self, name):
        return f"datetime(:{name}, 'unixepoch')"


clock = Clock()


def setup(conn):
    conn.execute("CREATE TABLE IF NOT EXISTS crates (id TEXT PRIMARY KEY, shut INTEGER, moved_at TEXT)")
    conn.execute("INSERT INTO crates (id) VALUES ('c1')")
'''


def test_param_key_used_inside_a_hole(tmp_path: Path) -> None:
    code = CLOCK + '''

def shut(conn, crate, when):
    conn.execute(f"UPDATE crates SET shut = 1, moved_at = {clock.at('when')} WHERE id = :crate",
                 {"crate": crate, "when": when})
'''
    check(tmp_path, code, calls=["setup(conn)", "shut(conn, 'c1', 0)"])


def test_param_key_near_miss_no_hole(tmp_path: Path) -> None:
    """Without a computed part, a key no placeholder reads and no column has is dropped."""
    code = CLOCK + '''

def shut(conn, crate, when):
    conn.execute("UPDATE crates SET shut = 1 WHERE id = :crate", {"crate": crate, "when": when})
'''
    # SQLite ignores the extra key: the value is silently dropped, which the rule reports.
    assert real_sqlite(code, ["setup(conn)", "shut(conn, 'c1', 0)"]) is None
    assert_rules(findings(tmp_path, {"app.py": code}), "key-without-column")


def test_param_key_missing_in_hole_sql_still_flagged(tmp_path: Path) -> None:
    """A visible placeholder the dict lacks is still missing, hole or not."""
    code = CLOCK + '''

def shut(conn, crate, when):
    conn.execute(f"UPDATE crates SET shut = 1, moved_at = {clock.at('when')} WHERE id = :crate",
                 {"box": crate, "when": when})
'''
    check(tmp_path, code, "missing-key", calls=["setup(conn)", "shut(conn, 'c1', 0)"],
          error="crate")


@pytest.mark.parametrize("name", ["ix_crates___dbh7__", '"__dbh7__"'])
def test_touches_hole(name: str) -> None:
    from harness.python.text import UNKNOWN, Hole, Text

    text = Text("x", (), (Hole("__dbh7__", UNKNOWN),), 1, 1)
    assert text.touches_hole(name)
    assert not text.touches_hole("ix_crates_tag")


# --- kind G: a ``*args`` wrapper called with an imported SQL constant ---------------------------

SHELF_QUERIES = '''
COUNT_SHELVES = """SELECT COUNT(*) FROM shelves"""
SHELVES_IN_AISLE = """SELECT id, label FROM shelves WHERE aisle = ?"""
'''

SHELF_APP = '''
import sqlite3

from shelf_queries import COUNT_SHELVES, SHELVES_IN_AISLE


class Shelves:
    def __init__(self, conn):
        self.conn = conn
        self.conn.execute("CREATE TABLE IF NOT EXISTS shelves (id INTEGER PRIMARY KEY, label TEXT, aisle INTEGER)")

    def fetch(self, query, *args):
        return self.conn.execute(query, args).fetchall()

    def fetch_first(self, query, *args):
        rows = self.fetch(query, *args)
        return rows[0] if rows else None


def shelf_count(shelves: Shelves):
    return shelves.fetch_first(COUNT_SHELVES)


def first_in_aisle(shelves: Shelves, aisle):
    return shelves.fetch_first(SHELVES_IN_AISLE, aisle)
'''


def _shelves_real(app: str, calls: list[str]) -> str | None:
    """The two modules run as one on real SQLite (the import line dropped)."""
    code = SHELF_QUERIES + app.replace("from shelf_queries import COUNT_SHELVES, "
                                       "SHELVES_IN_AISLE", "")
    return real_sqlite(code, ["shelves = Shelves(conn)", *calls])


def test_varargs_wrapper_gets_exactly_what_the_call_passes(tmp_path: Path) -> None:
    assert _shelves_real(SHELF_APP, ["shelf_count(shelves)",
                                     "first_in_aisle(shelves, 2)"]) is None
    assert_rules(findings(tmp_path, {"shelf_queries.py": SHELF_QUERIES, "app.py": SHELF_APP}))


def test_varargs_wrapper_near_miss_missing_argument(tmp_path: Path) -> None:
    """The 1-placeholder constant through the same wrapper with no argument: flagged, and
    placed in the file that holds the SQL text."""
    app = SHELF_APP + '''

def any_in_aisle(shelves: Shelves):
    return shelves.fetch_first(SHELVES_IN_AISLE)
'''
    error = _shelves_real(app, ["any_in_aisle(shelves)"])
    assert error is not None and "bindings" in error
    diags = findings(tmp_path, {"shelf_queries.py": SHELF_QUERIES, "app.py": app})
    assert_rules(diags, "param-count")
    assert diags[0].location.path == "shelf_queries.py"
    assert diags[0].location.line == 2


def test_spread_argument_is_not_one_parameter(tmp_path: Path) -> None:
    """``run(query, *values)`` into ``execute(query, values)``: as many as the list has."""
    code = '''
def setup(conn):
    conn.execute("CREATE TABLE IF NOT EXISTS shelves (id INTEGER PRIMARY KEY, label TEXT, aisle INTEGER)")


def run(conn, query, *values):
    return conn.execute(query, values).fetchall()


def labelled(conn, label, aisle):
    pair = [label, aisle]
    return run(conn, "SELECT id FROM shelves WHERE label = ? AND aisle = ?", *pair)
'''
    check(tmp_path, code, calls=["setup(conn)", "labelled(conn, 'a', 1)"])


# --- kind D: SQL text and its parameters grown along the same branches ------------------------

BINS = '''
def setup(conn):
    conn.execute("CREATE TABLE IF NOT EXISTS bins (id INTEGER PRIMARY KEY, colour TEXT, weight INTEGER)")
    conn.execute("INSERT INTO bins (colour, weight) VALUES ('red', 3)")
'''

ALL_FILTERS = ["setup(conn)", "find(conn)", "find(conn, colour='red')", "find(conn, heavier=1)",
               "find(conn, colour='red', heavier=1)"]


def test_sql_and_args_grown_together(tmp_path: Path) -> None:
    code = BINS + '''

def find(conn, colour=None, heavier=None):
    sql = "SELECT id FROM bins WHERE 1=1"
    params = []
    if colour is not None:
        sql += " AND colour = ?"
        params.append(colour)
    if heavier is not None:
        sql += " AND weight > ?"
        params.append(heavier)
    return conn.execute(sql, params).fetchall()
'''
    check(tmp_path, code, calls=ALL_FILTERS)


def test_sql_and_args_near_miss_one_path_unbalanced(tmp_path: Path) -> None:
    """One branch adds two placeholders and one value: that path is flagged."""
    code = BINS + '''

def find(conn, colour=None, heavier=None):
    sql = "SELECT id FROM bins WHERE 1=1"
    params = []
    if colour is not None:
        sql += " AND colour = ?"
        params.append(colour)
    if heavier is not None:
        sql += " AND weight > ? AND weight < ?"
        params.append(heavier)
    return conn.execute(sql, params).fetchall()
'''
    check(tmp_path, code, "param-count", calls=ALL_FILTERS, error="bindings")


def test_args_extended_with_a_list_and_ifexp_sql(tmp_path: Path) -> None:
    """``+=`` on the list, ``extend``, and a conditional expression: the same paths."""
    code = BINS + '''

def find(conn, colour=None, heavier=None):
    sql = "SELECT id FROM bins WHERE " + ("colour = ?" if colour else "1 = ?")
    params = [colour] if colour else [1]
    if heavier is not None:
        sql += " AND weight BETWEEN ? AND ?"
        params += [heavier, 100]
    return conn.execute(sql, params).fetchall()
'''
    check(tmp_path, code, calls=ALL_FILTERS)


def test_list_handed_to_a_helper_is_not_counted(tmp_path: Path) -> None:
    """A helper that appends to the list: its length is not known here."""
    code = BINS + '''

def add_colour(where, params, colour):
    where.append("colour = ?")
    params.append(colour)


def find(conn, colour=None, heavier=None):
    where = ["1=1"]
    params = []
    add_colour(where, params, colour or "red")
    return conn.execute("SELECT id FROM bins WHERE colour = ?", params).fetchall()
'''
    check(tmp_path, code, calls=ALL_FILTERS)


def test_many_branches_are_not_judged(tmp_path: Path) -> None:
    """Seven independent filters are 128 paths, over the bound: nothing is judged."""
    ifs = "".join(f'''
    if f{i} is not None:
        sql += " AND weight > ?"
        params.append(f{i})''' for i in range(7))
    code = BINS + f'''

def find(conn, {", ".join(f"f{i}=None" for i in range(7))}):
    sql = "SELECT id FROM bins WHERE 1=1"
    params = []{ifs}
    return conn.execute(sql, params).fetchall()
'''
    check(tmp_path, code, calls=["setup(conn)", "find(conn)", "find(conn, 1, 2, 3, 4, 5, 6, 7)"])


def test_set_parts_joined_is_a_hole(tmp_path: Path) -> None:
    code = BINS + '''

def change(conn, bin_id, colour=None, weight=None):
    sets = []
    params = []
    if colour is not None:
        sets.append("colour = ?")
        params.append(colour)
    if weight is not None:
        sets.append("weight = ?")
        params.append(weight)
    if not sets:
        return
    params.append(bin_id)
    conn.execute("UPDATE bins SET " + ", ".join(sets) + " WHERE id = ?", params)
'''
    check(tmp_path, code, calls=["setup(conn)", "change(conn, 1)", "change(conn, 1, 'blue')",
                                 "change(conn, 1, weight=2)", "change(conn, 1, 'blue', 2)"])


def test_set_parts_near_miss_known_list(tmp_path: Path) -> None:
    """Parts appended on every path are known text: the missing id value is flagged."""
    code = BINS + '''

def change(conn, bin_id, colour, weight):
    sets = []
    params = []
    sets.append("colour = ?")
    params.append(colour)
    sets.append("weight = ?")
    params.append(weight)
    conn.execute("UPDATE bins SET " + ", ".join(sets) + " WHERE id = ?", params)
'''
    check(tmp_path, code, "param-count", calls=["setup(conn)", "change(conn, 1, 'blue', 2)"],
          error="bindings")


# --- kind E: if/else branches are alternatives -------------------------------------------------

def test_if_else_suffix(tmp_path: Path) -> None:
    code = BINS + '''

def heaviest(conn, top=True):
    sql = "SELECT id FROM bins ORDER BY weight "
    if top:
        sql += "DESC"
    else:
        sql += "ASC"
    return conn.execute(sql).fetchall()
'''
    check(tmp_path, code, calls=["setup(conn)", "heaviest(conn)", "heaviest(conn, False)"])


def test_if_else_suffix_near_miss_broken_branch(tmp_path: Path) -> None:
    code = BINS + '''

def heaviest(conn, top=True):
    sql = "SELECT id FROM bins ORDER BY weight "
    if top:
        sql += "DESC"
    else:
        sql += "ASC LIMIT"
    return conn.execute(sql).fetchall()
'''
    check(tmp_path, code, "sql-syntax", calls=["setup(conn)", "heaviest(conn, False)"],
          error="incomplete input")


def test_if_else_order_clause(tmp_path: Path) -> None:
    code = BINS + '''

def listing(conn, by_colour=False):
    sql = "SELECT id, colour, weight FROM bins"
    if by_colour:
        sql += " ORDER BY colour, weight"
    else:
        sql += " ORDER BY weight DESC"
    sql += " LIMIT 10"
    return conn.execute(sql).fetchall()
'''
    check(tmp_path, code, calls=["setup(conn)", "listing(conn)", "listing(conn, True)"])


def test_if_else_order_clause_near_miss_second_order_by(tmp_path: Path) -> None:
    code = BINS + '''

def listing(conn, by_colour=False):
    sql = "SELECT id, colour, weight FROM bins"
    if by_colour:
        sql += " ORDER BY colour, weight"
    else:
        sql += " ORDER BY weight DESC"
    sql += " ORDER BY id LIMIT 10"
    return conn.execute(sql).fetchall()
'''
    check(tmp_path, code, "sql-syntax", calls=["setup(conn)", "listing(conn)"],
          error="syntax error")


def test_branch_that_returns_does_not_reach_the_execute(tmp_path: Path) -> None:
    """``if ...: return`` leaves only the other path for the code after it."""
    code = BINS + '''

def weights(conn, colour=None):
    sql = "SELECT weight FROM bins"
    params = []
    if colour is None:
        return conn.execute(sql).fetchall()
    sql += " WHERE colour = ?"
    params.append(colour)
    return conn.execute(sql, params).fetchall()
'''
    check(tmp_path, code, calls=["setup(conn)", "weights(conn)", "weights(conn, 'red')"])


def test_same_test_twice_is_one_branch_point(tmp_path: Path) -> None:
    """The text grows under one ``if``, its parameter under another with the same test (or
    its negation): they take the same path."""
    code = BINS + '''

def find(conn, colour=None, heavier=None):
    sql = "SELECT id FROM bins WHERE 1=1"
    if colour is not None:
        sql += " AND colour = ?"
    if heavier:
        sql += " AND weight > ?"
    params = []
    if colour is None:
        pass
    else:
        params.append(colour)
    if not heavier:
        pass
    else:
        params.append(heavier)
    return conn.execute(sql, params).fetchall()
'''
    check(tmp_path, code, calls=ALL_FILTERS)


def test_same_test_twice_near_miss_different_tests(tmp_path: Path) -> None:
    """A parameter added under a different test than its placeholder: a path is off."""
    code = BINS + '''

def find(conn, colour=None, heavier=None):
    sql = "SELECT id FROM bins WHERE 1=1"
    if colour is not None:
        sql += " AND colour = ?"
    params = []
    if heavier is not None:
        params.append(colour)
    return conn.execute(sql, params).fetchall()
'''
    check(tmp_path, code, "param-count", calls=ALL_FILTERS, error="bindings")


def test_list_grown_in_a_loop_is_not_counted(tmp_path: Path) -> None:
    """A loop appends any number of values: the count is known only at run time."""
    code = BINS + '''

def add(conn, values):
    params = []
    for value in values:
        params.append(value)
    conn.execute("INSERT INTO bins (id, colour, weight) VALUES (?, ?, ?)", params)
'''
    check(tmp_path, code, calls=["setup(conn)", "add(conn, [7, 'green', 2])"])


def test_list_grown_in_a_loop_near_miss_fixed_part(tmp_path: Path) -> None:
    """The list made inside the loop is exact on each iteration: two values, three ``?``."""
    code = BINS + '''

def add(conn, rows):
    for colour, weight in rows:
        params = []
        params.append(colour)
        params.append(weight)
        conn.execute("INSERT INTO bins (id, colour, weight) VALUES (?, ?, ?)", params)
'''
    check(tmp_path, code, "param-count", calls=["setup(conn)", "add(conn, [('green', 2)])"],
          error="bindings")


WHERE_JOINED = BINS + '''

def find(conn, colour=None, heavier=None):
    sql = "SELECT id FROM bins"
    where = []
    params = []
    if colour is not None:
        where.append("colour = ?")
        params.append(colour)
    if heavier is not None:
        where.append("weight > ?")
        params.append(heavier)
    if where:
        sql += " WHERE " + " AND ".join(where)
    return conn.execute(sql, params).fetchall()
'''


def test_test_on_a_branch_built_list_is_not_an_independent_path(tmp_path: Path) -> None:
    """``if where:`` follows the branches that filled ``where``: the path with parameters
    and no WHERE is never taken, so counts are not judged there."""
    check(tmp_path, WHERE_JOINED, calls=ALL_FILTERS)


def test_test_on_a_branch_built_list_near_miss_text_still_judged(tmp_path: Path) -> None:
    code = WHERE_JOINED.replace('sql = "SELECT id FROM bins"', 'sql = "SELECT idd FROM bins"')
    check(tmp_path, code, "unknown-column", calls=ALL_FILTERS, error="no such column: idd")


WRAPPER = BINS + '''

def run(conn, query, values=()):
    if values:
        return conn.execute(query, values).fetchall()
    return conn.execute(query).fetchall()


def by_colour(conn, colour):
    return run(conn, "SELECT id FROM bins WHERE colour = ?", (colour,))
'''


def test_wrapper_branch_without_values_is_an_alternative(tmp_path: Path) -> None:
    """``execute(q)`` runs only when no values are given: not judged against a call that
    gives them."""
    check(tmp_path, WRAPPER, calls=["setup(conn)", "by_colour(conn, 'red')"])


def test_wrapper_branch_near_miss_no_values_given(tmp_path: Path) -> None:
    code = WRAPPER + '''

def any_colour(conn):
    return run(conn, "SELECT id FROM bins WHERE colour = ?")
'''
    check(tmp_path, code, "param-count", calls=["setup(conn)", "any_colour(conn)"],
          error="bindings")
