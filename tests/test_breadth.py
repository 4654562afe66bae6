"""Shapes real raw-SQL apps use (issue: breadth): generic helpers, schema built in Python,
guards, found zero-config in small apps shaped like a media server, a game library, a crawler."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import assert_rules, findings

MEDIA_DB = '''
import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS media (
    id INTEGER PRIMARY KEY,
    guid TEXT UNIQUE NOT NULL,
    title TEXT,
    year INTEGER,
    rating REAL
);
CREATE TABLE IF NOT EXISTS watched (
    id INTEGER PRIMARY KEY,
    media_guid TEXT NOT NULL,
    user TEXT NOT NULL,
    progress INTEGER DEFAULT 0
);
"""


class Database:
    def __init__(self, path):
        self.conn = sqlite3.connect(path)
        self.conn.executescript(SCHEMA)
        self.add_column("media", "summary", "TEXT")

    def add_column(self, table, column, sql_type):
        cols = [r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")]
        if column not in cols:
            self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}")

    def upsert(self, table, value_dict, key_dict):
        sets = ", ".join(f"{k} = ?" for k in value_dict)
        where = " AND ".join(f"{k} = ?" for k in key_dict)
        cur = self.conn.execute(f"UPDATE {table} SET {sets} WHERE {where}",
                                list(value_dict.values()) + list(key_dict.values()))
        if cur.rowcount == 0:
            row = {**value_dict, **key_dict}
            cols = ", ".join(row.keys())
            marks = ", ".join("?" for _ in row)
            self.conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})",
                              tuple(row.values()))

    def insert_many(self, table, rows):
        cols = list(rows[0].keys())
        sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"
        self.conn.executemany(sql, [tuple(r[c] for c in cols) for r in rows])


db = Database("media.db")
'''


def media_app(code: str) -> dict[str, str]:
    return {"mediaserver/__init__.py": "", "mediaserver/database.py": MEDIA_DB,
            "mediaserver/sync.py": "from .database import db\n\n\n" + code}


UPSERTS = [
    ("upsert value key", 'db.upsert("media", {"title": t, "ratng": 5.0}, {"guid": g})', "ratng"),
    ("upsert where key", 'db.upsert("media", {"title": t}, {"gid": g})', "gid"),
    ("upsert ok", 'db.upsert("media", {"title": t, "rating": 5.0}, {"guid": g})', None),
    ("column from a helper call", 'db.upsert("media", {"summary": s}, {"guid": g})', None),
    ("bulk", 'db.insert_many("watched", [{"media_guid": g, "user": u, "progess": 1}])',
     "progess"),
    ("bulk ok", 'db.insert_many("watched", [{"media_guid": g, "user": u, "progress": 1}])', None),
]


@pytest.mark.parametrize(("name", "call", "stray"), UPSERTS, ids=[u[0] for u in UPSERTS])
def test_media_server_helpers(tmp_path: Path, name: str, call: str, stray: str | None) -> None:
    code = f"def sync(t, g, s, u):\n    {call}\n"
    got = findings(tmp_path, media_app(code))
    if stray is None:
        assert_rules(got)
    else:
        assert [(d.rule, d.key) for d in got] == [("key-without-column", stray)], \
            "\n".join(map(str, got))


GAMES = '''
import sqlite3

conn = sqlite3.connect("games.db")


def create_table(name, body):
    conn.execute(f"CREATE TABLE IF NOT EXISTS {name} ({body})")


create_table("games", "id INTEGER PRIMARY KEY, title TEXT NOT NULL, platform TEXT, "
                      "playtime INTEGER DEFAULT 0")


def insert(table, **fields):
    cols = ", ".join(fields)
    conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(fields))})",
                 tuple(fields.values()))


class Library:
    TABLE = "games"

    def __init__(self):
        self.state = {}

    def add(self, title, platform):
        params = {"title": title}
        params["platform"] = platform
        insert(self.TABLE, **params)
'''


def test_game_library_kwargs_helper_and_python_built_schema(tmp_path: Path) -> None:
    ok = findings(tmp_path / "ok", {"games.py": GAMES,
                                    "ui.py": "from games import insert\n"
                                             "insert('games', title='x', playtime=3)\n"})
    assert_rules(ok)
    bad = findings(tmp_path / "bad", {"games.py": GAMES,
                                      "ui.py": "from games import insert\n"
                                               "insert('games', title='x', hours=3)\n"})
    assert [(d.rule, d.key, d.path) for d in bad] == [("key-without-column", "hours", "ui.py")]


CRAWLER = '''
import sqlite3

conn = sqlite3.connect("crawl.db")
conn.execute("""CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY,
    status INTEGER,
    fetched_at TEXT,
    body TEXT
)""")
conn.execute("CREATE INDEX IF NOT EXISTS pages_status ON pages (status)")


def save(page):
    conn.execute("INSERT OR REPLACE INTO pages (url, status, fetched_at, body) "
                 "VALUES (:url, :status, :fetched_at, :body)", page)


def crawl(url, response):
    page = {"url": url, "status": response.status, "body": response.text}
    page["fetched_at"] = response.date
    if response.redirected:
        page["redirect_to"] = response.url
    save(page)
'''


def test_crawler_conditional_key_and_named_writer(tmp_path: Path) -> None:
    got = findings(tmp_path, {"crawler.py": CRAWLER})
    assert [(d.rule, d.key) for d in got] == [("key-without-column", "redirect_to")]
    fixed = CRAWLER.replace('        page["redirect_to"] = response.url\n', "        pass\n")
    assert_rules(findings(tmp_path / "fixed", {"crawler.py": fixed}))


ALEMBIC_INIT = '''
from alembic import op
import sqlalchemy as sa

revision = "001"
down_revision = None


def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("nick", sa.String(50)),
    )
'''
ALEMBIC_002 = '''
from alembic import op
import sqlalchemy as sa

revision = "002"
down_revision = "001"


def upgrade():
    op.add_column("users", sa.Column("is_admin", sa.Boolean(), server_default="0"))
    op.alter_column("users", "nick", new_column_name="nickname")
'''
MODELS = '''
from sqlalchemy import Column, Integer, String, Table, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

metadata = MetaData()
audit = Table("audit", metadata, Column("id", Integer, primary_key=True),
              Column("event", String(40), nullable=False))


class Base(DeclarativeBase):
    pass


class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    title = Column(String(200), nullable=False)
    body = Column("content", String)
'''
RAW = '''
import sqlite3
conn = sqlite3.connect("x")

def add_user(user):
    conn.execute("INSERT INTO users (email, nickname, is_admin) VALUES (:email, :nickname, "
                 ":is_admin)", user)

def log(event):
    conn.execute("INSERT INTO audit (event) VALUES (?)", (event,))

def post(p):
    conn.execute("INSERT INTO posts (title, content) VALUES (:title, :content)", p)

add_user({"email": "a", "nickname": "n", "is_admin": True})
post({"title": "t", "content": "c"})
'''


def test_alembic_and_sqlalchemy_are_schema_sources(tmp_path: Path) -> None:
    files = {"migrations/versions/001_init.py": ALEMBIC_INIT,
             "migrations/versions/002_admin.py": ALEMBIC_002,
             "app/models.py": MODELS, "app/raw.py": RAW}
    assert_rules(findings(tmp_path / "ok", files))
    bad = RAW.replace('"is_admin": True', '"is_admin": True, "karma": 1').replace(
        "INSERT INTO posts (title, content)", "INSERT INTO posts (title, body)")
    got = findings(tmp_path / "bad", {**files, "app/raw.py": bad})
    # The model's attribute `body` is stored in column "content": SQL naming `body` is wrong.
    assert sorted((d.rule, d.key or d.column) for d in got) == [
        ("key-without-column", "karma"), ("unknown-column", "body")]


DESCRIPTORS = '''
import sqlite3

TABLES = {
    "games": {"id": "INTEGER PRIMARY KEY", "title": "TEXT NOT NULL", "hours": "REAL"},
    "saves": {"id": "INTEGER PRIMARY KEY", "game_id": "INTEGER", "slot": "INTEGER"},
}
EXTRA = [("rating", "INTEGER"), ("cover", "BLOB")]


def create_all(conn):
    for name, columns in TABLES.items():
        body = ", ".join(f"{col} {typ}" for col, typ in columns.items())
        conn.execute(f"CREATE TABLE IF NOT EXISTS {name} ({body})")


def create_extra(conn):
    cols = ", ".join(f"{c} {t}" for c, t in EXTRA)
    conn.execute(f"CREATE TABLE IF NOT EXISTS extra (id INTEGER PRIMARY KEY, {cols})")


def add_game(conn, game):
    conn.execute("INSERT INTO games (title, hours) VALUES (:title, :hours)", game)
'''


def test_schema_from_column_descriptors(tmp_path: Path) -> None:
    body = ("from schema import add_game\nimport sqlite3\nconn = sqlite3.connect('x')\n"
            "add_game(conn, {'title': 't', 'hours': 1.0})\n"
            "conn.execute('INSERT INTO extra (rating, cover) VALUES (?, ?)', (1, b''))\n")
    ok = findings(tmp_path / "ok", {"schema.py": DESCRIPTORS, "app.py": body})
    assert_rules(ok)
    bad = findings(tmp_path / "bad", {"schema.py": DESCRIPTORS, "app.py": body.replace(
        "'hours': 1.0", "'hours': 1.0, 'genre': 'x'").replace("(rating, cover)",
                                                              "(rating, covr)")})
    assert sorted((d.rule, d.key or d.column) for d in bad) == [
        ("key-without-column", "genre"), ("unknown-column", "covr")]


GAMES_MIGRATIONS = '''
import sqlite3

LATEST = 3
MIGRATIONS = [
    (2, "ALTER TABLE games ADD COLUMN rating INTEGER"),
    (3, "ALTER TABLE games ADD COLUMN cover_url TEXT"),
]


class GameDB:
    def __init__(self, path):
        self.conn = sqlite3.connect(path)
        self.migrate()

    def version(self):
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def migrate(self):
        if self.version() == 0:
            self.conn.execute("""CREATE TABLE games (
                id INTEGER PRIMARY KEY,
                title TEXT NOT NULL,
                platform TEXT,
                rating INTEGER{cover}
            )""")
            self.conn.execute(f"PRAGMA user_version = {LATEST}")
            return
        current = self.version()
        for version, sql in MIGRATIONS:
            if current < version:
                self.conn.execute(sql)
                self.conn.execute(f"PRAGMA user_version = {version}")

    def add(self, game):
        self.conn.execute(
            "INSERT INTO games (title, platform, rating, cover_url) VALUES (?, ?, ?, ?)",
            (game["title"], game["platform"], game["rating"], game["cover_url"]))
'''


def test_game_library_fresh_install_diverges_from_upgrades(tmp_path: Path) -> None:
    """The fresh-install branch stamps the latest version but its CREATE predates the
    cover_url migration: found zero-config, at the guard, naming the migration."""
    bad = findings(tmp_path / "bad", {"games/db.py": GAMES_MIGRATIONS.replace("{cover}", "")})
    assert [(d.rule, d.table, d.column) for d in bad] == [
        ("schema-divergence", "games", "cover_url")], "\n".join(map(str, bad))
    (d,) = bad
    assert "`self.version() == 0` is true" in d.message
    assert d.line == GAMES_MIGRATIONS.lstrip("\n").splitlines().index(
        "        if self.version() == 0:") + 1
    ok = findings(tmp_path / "ok", {"games/db.py": GAMES_MIGRATIONS.replace(
        "{cover}", ",\n                cover_url TEXT")})
    assert_rules(ok)


ALEMBIC_DROP = '''
from alembic import op

revision = "003"
down_revision = "002"


def upgrade():
    op.drop_column("users", "is_admin")
'''


def test_alembic_revisions_apply_in_chain_order_not_file_order(tmp_path: Path) -> None:
    """Revision files named so that file order is not chain order: 002 adds is_admin, 003
    drops it; sorted by name, the drop would come first and is_admin would seem to exist."""
    files = {"migrations/versions/a_init.py": ALEMBIC_INIT,
             "migrations/versions/c_admin.py": ALEMBIC_002,
             "migrations/versions/b_drop_admin.py": ALEMBIC_DROP,
             "app/models.py": MODELS, "app/raw.py": RAW}
    got = findings(tmp_path / "bad", files)
    assert [(d.rule, d.column, d.path) for d in got] == [
        ("unknown-column", "is_admin", "app/raw.py")], "\n".join(map(str, got))
    fixed = RAW.replace(", is_admin) VALUES (:email, :nickname, \"\n                 \":is_admin)",
                        ") VALUES (:email, :nickname)\"\n                 \"").replace(
        ', "is_admin": True', "")
    assert "is_admin" not in fixed
    assert_rules(findings(tmp_path / "ok", {**files, "app/raw.py": fixed}))
