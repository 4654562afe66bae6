"""schema-divergence: schema code replayed from an empty database and from the oldest one it
upgrades. Each shape has a bug it must flag (naming the guard) and a near miss it must not."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import findings

HEAD = "import os\nimport sqlite3\n\n"

# expected: None (no finding), "fails" (a fresh install crashes at the ALTER), or the guard
# the finding must name and point at; the column is ``rating`` unless the case says ``cover``.
CASES: dict[str, tuple[str, str | None]] = {
    # A fresh-install branch stamps the latest version and returns; its CREATE is older.
    "fresh branch returns early": ('''
        SCHEMA_VERSION = 2

        def init(conn):
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                return
            if version < 2:
                conn.execute("ALTER TABLE items ADD COLUMN rating INTEGER")
                conn.execute("PRAGMA user_version = 2")
    ''', "version == 0"),
    "fresh branch returns early, CREATE current": ('''
        SCHEMA_VERSION = 2

        def init(conn):
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, "
                             "rating INTEGER)")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                return
            if version < 2:
                conn.execute("ALTER TABLE items ADD COLUMN rating INTEGER")
                conn.execute("PRAGMA user_version = 2")
    ''', None),
    # The version is read again after the fresh install stamped it.
    "re-read version skips the migration": ('''
        def current(conn):
            return conn.execute("PRAGMA user_version").fetchone()[0]

        def init(conn):
            if current(conn) == 0:
                conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
                conn.execute("PRAGMA user_version = 3")
            version = current(conn)
            if version < 3:
                conn.execute("ALTER TABLE items ADD COLUMN rating INTEGER")
                conn.execute("PRAGMA user_version = 3")
    ''', "version < 3"),
    "version read once: fresh installs run the migration too": ('''
        def init(conn):
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
            if version < 3:
                conn.execute("ALTER TABLE items ADD COLUMN rating INTEGER")
            conn.execute("PRAGMA user_version = 3")
    ''', None),
    # CREATE already has the column; the version-guarded ALTER crashes fresh installs.
    "version guard lets fresh installs add a declared column": ('''
        def init(conn):
            conn.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, "
                         "rating INTEGER)")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version < 2:
                conn.execute("ALTER TABLE items ADD COLUMN rating INTEGER")
                conn.execute("PRAGMA user_version = 2")
    ''', "fails"),
    "incremental versions": ('''
        def init(conn):
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version < 1:
                conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
            if version < 2:
                conn.execute("ALTER TABLE items ADD COLUMN rating INTEGER")
            if version < 3:
                conn.execute("ALTER TABLE items ADD COLUMN cover BLOB")
            conn.execute("PRAGMA user_version = 3")
    ''', None),
    "incremental versions, CREATE edited in place": ('''
        def init(conn):
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version < 1:
                conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, "
                             "rating INTEGER)")
            if version < 2:
                conn.execute("ALTER TABLE items ADD COLUMN rating INTEGER")
            conn.execute("PRAGMA user_version = 2")
    ''', "fails"),
    # Migrations as data, applied in a loop with continue.
    "migration table, fresh stamps past it": ('''
        MIGRATIONS = {
            2: "ALTER TABLE items ADD COLUMN rating INTEGER",
            3: "ALTER TABLE items ADD COLUMN cover BLOB",
        }

        def init(conn):
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if not version:
                conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, "
                             "rating INTEGER)")
                conn.execute("PRAGMA user_version = 3")
                return
            for target, sql in sorted(MIGRATIONS.items()):
                if target <= version:
                    continue
                conn.execute(sql)
                conn.execute(f"PRAGMA user_version = {target}")
    ''', "not version"),
    "migration table, fresh has every column": ('''
        MIGRATIONS = {
            2: "ALTER TABLE items ADD COLUMN rating INTEGER",
            3: "ALTER TABLE items ADD COLUMN cover BLOB",
        }

        def init(conn):
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if not version:
                conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, "
                             "rating INTEGER, cover BLOB)")
                conn.execute("PRAGMA user_version = 3")
                return
            for target, sql in sorted(MIGRATIONS.items()):
                if target <= version:
                    continue
                conn.execute(sql)
                conn.execute(f"PRAGMA user_version = {target}")
    ''', None),
    # An init split over methods of one class, with a probe helper called with constants.
    "helpers: probe-guarded add_column": ('''
        class Store:
            def __init__(self, path):
                self.conn = sqlite3.connect(path)
                self.create()
                self.add_column("items", "rating", "INTEGER")

            def create(self):
                self.conn.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, "
                                  "rating INTEGER)")

            def add_column(self, table, column, kind):
                cols = [r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")]
                if column not in cols:
                    self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
    ''', None),
    "helpers: unguarded add_column of a declared column": ('''
        class Store:
            def __init__(self, path):
                self.conn = sqlite3.connect(path)
                self.create()
                self.add_column("items", "rating", "INTEGER")

            def create(self):
                self.conn.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, "
                                  "rating INTEGER)")

            def add_column(self, table, column, kind):
                self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
    ''', "fails"),
    # The version read through a property, as isso does.
    "version property": ('''
        class DB:
            def __init__(self, conn):
                self.conn = conn
                self.migrate()

            @property
            def version(self):
                return self.conn.execute("PRAGMA user_version").fetchone()[0]

            def migrate(self):
                if self.version == 0:
                    self.conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY)")
                    self.conn.execute("PRAGMA user_version = 2")
                if self.version == 1:
                    self.conn.execute("ALTER TABLE items ADD COLUMN rating INTEGER")
                    self.conn.execute("PRAGMA user_version = 2")
    ''', "self.version == 1"),
    "version property, fresh CREATE current": ('''
        class DB:
            def __init__(self, conn):
                self.conn = conn
                self.migrate()

            @property
            def version(self):
                return self.conn.execute("PRAGMA user_version").fetchone()[0]

            def migrate(self):
                if self.version == 0:
                    self.conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, "
                                      "rating INTEGER)")
                    self.conn.execute("PRAGMA user_version = 2")
                if self.version == 1:
                    self.conn.execute("ALTER TABLE items ADD COLUMN rating INTEGER")
                    self.conn.execute("PRAGMA user_version = 2")
    ''', None),
    # Fresh installs told apart by a sqlite_master probe.
    "sqlite_master probe, fresh CREATE older": ('''
        def init(conn):
            row = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                               "AND name = 'items'").fetchone()
            if row is None:
                conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
                return
            cols = [r[1] for r in conn.execute("PRAGMA table_info(items)")]
            if "rating" not in cols:
                conn.execute("ALTER TABLE items ADD COLUMN rating INTEGER")
    ''', "row is None"),
    "sqlite_master probe, fresh CREATE current": ('''
        def init(conn):
            cur = conn.cursor()
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN "
                        "('items', 'tags')")
            if not cur.fetchall():
                cur.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, "
                            "rating INTEGER)")
            else:
                cols = [r[1] for r in cur.execute("PRAGMA table_info(items)")]
                if "rating" not in cols:
                    cur.execute("ALTER TABLE items ADD COLUMN rating INTEGER")
    ''', None),
    # Schema code split over classes: creating the instance runs its __init__.
    "constructor runs the migrations": ('''
        class Migrations:
            def __init__(self, conn):
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version < 2:
                    conn.execute("ALTER TABLE items ADD COLUMN rating INTEGER")
                    conn.execute("PRAGMA user_version = 2")

        class Store:
            def __init__(self, conn):
                conn.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, "
                             "rating INTEGER)")
                Migrations(conn)
    ''', "fails"),
    "constructor runs guarded migrations": ('''
        class Migrations:
            def __init__(self, conn):
                cols = [r[1] for r in conn.execute("PRAGMA table_info(items)")]
                if "rating" not in cols:
                    conn.execute("ALTER TABLE items ADD COLUMN rating INTEGER")

        class Store:
            def __init__(self, conn):
                conn.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, "
                             "rating INTEGER)")
                Migrations(conn)
    ''', None),
    # Fresh installs told apart by the database file's existence, checked before connect().
    "database file check, fresh CREATE older": ('''
        DB_PATH = "app.db"

        def init():
            is_new = not os.path.exists(DB_PATH)
            conn = sqlite3.connect(DB_PATH)
            if is_new:
                conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
            else:
                cols = [r[1] for r in conn.execute("PRAGMA table_info(items)")]
                if "rating" not in cols:
                    conn.execute("ALTER TABLE items ADD COLUMN rating INTEGER")
            return conn
    ''', "is_new"),
    "database file check, fresh CREATE current": ('''
        def init(path):
            existed = path.is_file()
            conn = sqlite3.connect(str(path))
            if not existed:
                conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, "
                             "rating INTEGER)")
            else:
                cols = [r[1] for r in conn.execute("PRAGMA table_info(items)")]
                if "rating" not in cols:
                    conn.execute("ALTER TABLE items ADD COLUMN rating INTEGER")
            return conn
    ''', None),
    # connect() creates the file: a check after it always finds one, so it is not judged
    "database file checked after connect": ('''
        def init(path):
            conn = sqlite3.connect(path)
            if not os.path.exists(path):
                conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
            else:
                conn.execute("ALTER TABLE items ADD COLUMN rating INTEGER")
    ''', None),
    # A version local moved along the migrations, then stamped.
    "version chain with += 1, fresh CREATE older": ('''
        def migrate(conn):
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
                version = 2
            if version == 1:
                conn.execute("ALTER TABLE items ADD COLUMN rating INTEGER")
                version += 1
            conn.execute(f"PRAGMA user_version = {version}")
    ''', "version == 1"),
    "version chain with += 1, fresh CREATE current": ('''
        def migrate(conn):
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, "
                             "rating INTEGER)")
                version = 2
            if version == 1:
                conn.execute("ALTER TABLE items ADD COLUMN rating INTEGER")
                version += 1
            if version == 2:
                conn.execute("CREATE INDEX IF NOT EXISTS items_name ON items (name)")
                version += 1
            conn.execute("PRAGMA user_version = %d" % version)
    ''', None),
    # The schema script stamps the version itself.
    "schema script stamps the version, CREATE older": ('''
        SCHEMA = """
        CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);
        PRAGMA user_version = 2;
        """

        def init(conn):
            if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
                conn.executescript(SCHEMA)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version < 2:
                conn.execute("ALTER TABLE items ADD COLUMN rating INTEGER")
    ''', "version < 2"),
    "schema script stamps the version, CREATE current": ('''
        SCHEMA = """
        CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, rating INTEGER);
        PRAGMA user_version = 2;
        """

        def init(conn):
            if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
                conn.executescript(SCHEMA)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version < 2:
                conn.execute("ALTER TABLE items ADD COLUMN rating INTEGER")
    ''', None),
    # Guards joined with and / or, and negated comparisons.
    "version and probe joined": ('''
        def init(conn):
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if not (version > 0):
                conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
                conn.execute("PRAGMA user_version = 3")
                return
            cols = [r[1] for r in conn.execute("PRAGMA table_info(items)")]
            if version < 3 and "rating" not in cols:
                conn.execute("ALTER TABLE items ADD COLUMN rating INTEGER")
    ''', "not (version > 0)"),
    "version or probe joined, CREATE current": ('''
        def init(conn):
            conn.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, "
                         "rating INTEGER)")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            cols = [r[1] for r in conn.execute("PRAGMA table_info(items)")]
            if version >= 1 and "rating" not in cols or version == 99:
                conn.execute("ALTER TABLE items ADD COLUMN rating INTEGER")
            conn.execute("PRAGMA user_version = 3")
    ''', None),
    # What the replay cannot evaluate, it does not judge.
    "unknown condition": ('''
        def init(conn):
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
                conn.execute("PRAGMA user_version = 2")
                if os.environ.get("FAST_INIT"):
                    return
            if version < 2:
                conn.execute("ALTER TABLE items ADD COLUMN rating INTEGER")
    ''', None),
    "computed migrations": ('''
        def init(conn, migrations):
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
                conn.execute("PRAGMA user_version = 2")
                return
            for sql in migrations[version:]:
                conn.execute(sql)
            conn.execute("ALTER TABLE items ADD COLUMN rating INTEGER")
    ''', None),
    "try probe": ('''
        def init(conn):
            conn.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, "
                         "rating INTEGER)")
            try:
                conn.execute("SELECT rating FROM items LIMIT 1")
            except sqlite3.OperationalError:
                conn.execute("ALTER TABLE items ADD COLUMN rating INTEGER")
    ''', None),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_schema_divergence_shapes(tmp_path: Path, name: str) -> None:
    body, expected = CASES[name]
    code = HEAD + textwrap.dedent(body).lstrip("\n")
    got = [d for d in findings(tmp_path, {"db.py": code}) if d.rule == "schema-divergence"]
    others = [d for d in findings(tmp_path, {"db.py": code}) if d.rule != "schema-divergence"]
    assert not others, "\n".join(map(str, others))
    if expected is None:
        assert not got, "\n".join(map(str, got))
        return
    assert len(got) == 1, "\n".join(map(str, got))
    (d,) = got
    lines = code.splitlines()
    if expected == "fails":
        assert "fresh install fails" in d.message and "duplicate column" in d.message
        assert "ADD COLUMN" in lines[d.line - 1] and d.column == "rating"
    else:  # the guard responsible, named and pointed at
        assert f"`{expected}`" in d.message and expected in lines[d.line - 1]
    if expected != "fails":
        column = "cover" if "cover BLOB" in body and "rating INTEGER)" in body else "rating"
        assert f"fresh installs end without items.{column}" in d.message
        assert any(f"adds {column}" in r.message for r in d.related)
        assert any(f"created here without {column}" in r.message for r in d.related)


NAMES = st.sampled_from(["title", "year", "rating", "cover", "notes", "plays", "added",
                         "source", "score", "flags"])


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), returns=st.booleans())
def test_findings_iff_the_paths_part(tmp_path_factory: pytest.TempPathFactory,
                                     data: st.DataObject, returns: bool) -> None:
    """Random versioned schema code: a fresh-install branch creating the base columns plus
    some of the migrated ones. With an early return, exactly the migrated columns the CREATE
    lacks are reported; without one (fresh installs run every migration too), a fresh install
    fails exactly when the CREATE already has a migrated column."""
    names = data.draw(st.lists(NAMES, min_size=2, max_size=6, unique=True))
    split = data.draw(st.integers(1, len(names) - 1))
    base, migrated = names[:split], names[split:]
    in_create = data.draw(st.lists(st.sampled_from(migrated), unique=True))
    latest = len(migrated) + 1
    columns = ", ".join(f"{c} TEXT" for c in base + in_create)
    lines = ["def init(conn):",
             "    version = conn.execute('PRAGMA user_version').fetchone()[0]",
             "    if version == 0:",
             f"        conn.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, {columns})')",
             f"        conn.execute('PRAGMA user_version = {latest}')"]
    if returns:
        lines.append("        return")
    for i, column in enumerate(migrated, start=2):
        lines += [f"    if version < {i}:",
                  f"        conn.execute('ALTER TABLE t ADD COLUMN {column} TEXT')"]
    root = tmp_path_factory.mktemp("prog")
    got = [d for d in findings(root, {"db.py": HEAD + "\n".join(lines) + "\n"})
           if d.rule == "schema-divergence"]
    if returns:
        expected = sorted(c for c in migrated if c not in in_create)
        assert sorted(d.column or "" for d in got) == expected, "\n".join(map(str, got))
        assert all("fresh installs end without" in d.message for d in got)
    elif in_create:
        first = next(c for c in migrated if c in in_create)
        assert [(d.column, "fresh install fails" in d.message) for d in got] == [(first, True)]
    else:
        assert got == []


@pytest.mark.parametrize(("name", "status"), [
    ("unknown condition", "not replayed: a condition it cannot evaluate: "
                          "`os.environ.get(\"FAST_INIT\")` at db.py:"),
    ("computed migrations", "not replayed: a loop over data it cannot see"),
    ("incremental versions", "replayed from an empty database and as databases upgraded "
                             "from user_version 1: they end with the same schema"),
    ("fresh branch returns early", "they end differently"),
    ("incremental versions, CREATE edited in place",
     "a fresh install fails: duplicate column name: rating"),
])
def test_contracts_say_what_each_replay_found(tmp_path: Path, name: str, status: str) -> None:
    """``dbharness contracts`` lists each starting point of the schema code and the outcome,
    or why it was not replayed: the user sees why a silent check stayed silent."""
    from harness.check import run_check
    from harness.config import Config
    from harness.contracts_report import contracts_text
    from tests.helpers import write_project

    write_project(tmp_path, {"db.py": HEAD + textwrap.dedent(CASES[name][0]).lstrip("\n")})
    text = contracts_text(run_check(Config.from_sources(tmp_path, cache=False)).model)
    section = text.split("schema code (1):\n", 1)[1]
    assert section.startswith("  db.py:") and " init: " in section and status in section, text


def test_the_rule_page_example_is_flagged(tmp_path: Path) -> None:
    """The example `dbharness rule schema-divergence` shows is itself a finding."""
    from harness.rules.migration_rules import SCHEMA_DIVERGENCE

    code = HEAD + "def init(conn):\n" + textwrap.indent(SCHEMA_DIVERGENCE.doc.example, "    ")
    got = findings(tmp_path, {"db.py": code + "\n"})
    assert [(d.rule, d.column) for d in got] == [("schema-divergence", "rating")]


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_probe_guards_always_converge(tmp_path_factory: pytest.TempPathFactory,
                                      data: st.DataObject) -> None:
    """Each migrated column added behind its own guard (a table_info probe or a SELECT in a
    try), an unguarded ADD COLUMN for others: whatever the CREATE TABLE IF NOT EXISTS
    declares, only an unguarded ADD of a column the CREATE already has is reported (a fresh
    install fails there), never a guarded one."""
    names = data.draw(st.lists(NAMES, min_size=2, max_size=6, unique=True))
    split = data.draw(st.integers(1, len(names) - 1))
    base, migrated = names[:split], names[split:]
    in_create = data.draw(st.lists(st.sampled_from(migrated), unique=True))
    guard = {c: data.draw(st.sampled_from(["probe", "try", "none"])) for c in migrated}
    columns = ", ".join(f"{c} TEXT" for c in base + in_create)
    create = f"CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, {columns})"
    lines = ["def init(conn):", f"    conn.execute('{create}')"]
    for column in migrated:
        add = f"conn.execute('ALTER TABLE t ADD COLUMN {column} TEXT')"
        if guard[column] == "probe":
            lines += ["    cols = [r[1] for r in conn.execute('PRAGMA table_info(t)')]",
                      f"    if '{column}' not in cols:", f"        {add}"]
        elif guard[column] == "try":
            lines += ["    try:", f"        conn.execute('SELECT {column} FROM t LIMIT 1')",
                      "    except sqlite3.OperationalError:", f"        {add}"]
        else:
            lines.append(f"    {add}")
    root = tmp_path_factory.mktemp("probes")
    got = [d for d in findings(root, {"db.py": HEAD + "\n".join(lines) + "\n"})
           if d.rule == "schema-divergence"]
    crashing = [c for c in migrated if guard[c] == "none" and c in in_create]
    assert [d.column for d in got] == crashing[:1], "\n".join(map(str, got))


SCHEMA_MODULE = '''
SCHEMA = [
    """CREATE TABLE IF NOT EXISTS items (
        id INTEGER PRIMARY KEY,
        name TEXT,
        rating INTEGER
    )""",
    "CREATE INDEX IF NOT EXISTS items_name ON items (name)",
]
'''
MIGRATE_MODULE = '''
import sqlite3

from .schema import SCHEMA


def migrate(conn: sqlite3.Connection) -> None:
    for statement in SCHEMA:
        conn.execute(statement)
{add}
'''


@pytest.mark.parametrize(("add", "flagged"), [
    ("    cols = [r[1] for r in conn.execute('PRAGMA table_info(items)')]\n"
     "    if 'rating' not in cols:\n"
     "        conn.execute('ALTER TABLE items ADD COLUMN rating INTEGER')", False),
    ("    conn.execute('ALTER TABLE items ADD COLUMN rating INTEGER')", True),
])
def test_schema_list_imported_from_another_module(tmp_path: Path, add: str,
                                                  flagged: bool) -> None:
    """``for statement in SCHEMA: conn.execute(statement)`` with SCHEMA imported: the replay
    runs each statement of the list (the generated benchmark project has 87 of these)."""
    got = findings(tmp_path, {"app/__init__.py": "", "app/schema.py": SCHEMA_MODULE,
                              "app/migrate.py": MIGRATE_MODULE.replace("{add}", add)})
    assert [(d.rule, d.path, d.column) for d in got] == (
        [("schema-divergence", "app/migrate.py", "rating")] if flagged else [])


def test_building_programs_adds_no_facts() -> None:
    """Programs evaluate call arguments with the extractor; that must not record the calls
    inside them a second time."""
    from harness.python.source import extract_source

    source = textwrap.dedent('''
        import sqlite3

        def helper(x):
            return x

        class S:
            def __init__(self, conn):
                self.conn = conn
                self.add_column("t", f"{helper('a')}", "TEXT")

            def add_column(self, table, column, kind):
                self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
    ''')
    facts = extract_source(source, "x.py", "x")
    assert facts.programs
    chains = [c.callee.chain for c in facts.calls]
    assert len(chains) == len(set(chains)), chains


def test_a_long_migration_table_is_replayed(tmp_path: Path) -> None:
    """Long-lived apps keep hundreds of migrations in one table: all of them are replayed."""
    migrations = "".join(f"    ({n}, 'ALTER TABLE items ADD COLUMN c{n} TEXT'),\n"
                         for n in range(2, 152))
    declared = ", ".join(f"c{n} TEXT" for n in range(2, 151))  # the fresh CREATE lacks c151
    code = (HEAD + "MIGRATIONS = [\n" + migrations + "]\n\n\n"
            "def init(conn):\n"
            "    version = conn.execute('PRAGMA user_version').fetchone()[0]\n"
            "    if version == 0:\n"
            f"        conn.execute('CREATE TABLE items (id INTEGER PRIMARY KEY, {declared})')\n"
            "        conn.execute('PRAGMA user_version = 151')\n"
            "        return\n"
            "    for target, sql in MIGRATIONS:\n"
            "        if version < target:\n"
            "            conn.execute(sql)\n")
    got = findings(tmp_path, {"db.py": code})
    assert [(d.rule, d.column) for d in got] == [("schema-divergence", "c151")], \
        "\n".join(map(str, got))
