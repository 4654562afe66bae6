"""Make legacy snapshots: today's schema (or an older revision's DDL) filled with rows that
satisfy its constraints, dumped as ``sqlite3 .dump`` text."""

from __future__ import annotations

import sqlite3
import subprocess
import tempfile
from contextlib import closing
from pathlib import Path
from typing import Any

from harness import store
from harness.cache import tool_fingerprint
from harness.config import Config
from harness.discovery import SUFFIXES, _excluded
from harness.errors import ConfigError, ToolError
from harness.migrations.compare import q
from harness.migrations.gitblobs import BlobReader, TreeEntry, list_tree
from harness.migrations.runner import run_entry
from harness.python.source import MAX_BYTES, decode, extract_source, module_name
from harness.sql.ddl import SchemaBuilder
from harness.sql.parse import parse_sql
from harness.sql.schema import Schema


def _order(conn: sqlite3.Connection) -> list[str]:
    """Tables parents first, so foreign keys have rows to point at."""
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                         "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    deps = {t: {r[2] for r in conn.execute(f"PRAGMA foreign_key_list({q(t)})")} - {t}
            for t in tables}
    ordered: list[str] = []
    while deps:
        ready = sorted(t for t, d in deps.items() if not (d & deps.keys()))
        if not ready:
            ready = sorted(deps)  # a cycle: insert anyway, nulls where allowed
        for t in ready:
            ordered.append(t)
            deps.pop(t)
    return ordered


def _candidates(declared: str, column: str, i: int) -> list[Any]:
    t = declared.upper()
    if "BOOL" in t:
        return [i % 2, 0, 1]
    if "INT" in t:
        return [i + 1, 0, 1]
    if any(x in t for x in ("REAL", "FLOA", "DOUB", "NUM", "DEC")):
        return [i + 0.5, 0.0, 1.0]
    if "BLOB" in t:
        return [bytes([i % 256]) * 4]
    if "DATE" in t or "TIME" in t:
        return [f"2024-01-{(i % 28) + 1:02d}T00:00:00"]
    return [f"{column}-{i + 1}", "a", ""]


def fill_rows(conn: sqlite3.Connection, rows: int) -> None:
    for table in _order(conn):
        info = [r for r in conn.execute(f"PRAGMA table_xinfo({q(table)})") if r[6] == 0]
        fks = {r[3]: (r[2], r[4]) for r in conn.execute(f"PRAGMA foreign_key_list({q(table)})")}
        pks = [r for r in info if r[5]]
        auto = len(pks) == 1 and (pks[0][2] or "").upper() == "INTEGER"
        for i in range(rows):
            names, values = [], []
            for _cid, name, declared, _nn, _dflt, pk, _hidden in info:
                if auto and pk:
                    continue
                if name in fks:
                    parent, parent_col = fks[name]
                    row = conn.execute(
                        f"SELECT {q(parent_col or 'rowid')} FROM {q(parent)} "
                        f"LIMIT 1 OFFSET ?", (i,)).fetchone() or conn.execute(
                        f"SELECT {q(parent_col or 'rowid')} FROM {q(parent)} LIMIT 1").fetchone()
                    names.append(name)
                    values.append(row[0] if row else None)
                    continue
                names.append(name)
                values.append(_candidates(declared or "", name, i)[0])
            sql = (f"INSERT INTO {q(table)} ({', '.join(q(n) for n in names)}) "
                   f"VALUES ({', '.join('?' for _ in names)})") if names else \
                f"INSERT INTO {q(table)} DEFAULT VALUES"
            try:
                conn.execute(sql, values)
            except sqlite3.IntegrityError:
                continue  # a CHECK or UNIQUE we could not satisfy: fewer rows, still valid
    conn.commit()


def _dump(conn: sqlite3.Connection, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(conn.iterdump()) + "\n"
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version:
        text = text.replace("BEGIN TRANSACTION;", f"BEGIN TRANSACTION;\nPRAGMA user_version = "
                            f"{version};", 1)
    path.write_text(text, encoding="utf-8")
    return path


def create_snapshot(config: Config, entry: str, name: str, out_dir: Path, rows: int) -> Path:
    with tempfile.TemporaryDirectory(prefix="dbharness-") as tmp:
        db = Path(tmp) / "fresh.sqlite"
        outcome = run_entry(entry, db, config.root, config.timeout)
        if not outcome.ok:
            raise ToolError(f"running {entry}: {outcome.describe()}")
        with closing(sqlite3.connect(db)) as conn:
            fill_rows(conn, rows)
            return _dump(conn, out_dir / f"{name}.sql")


def _git(root: Path, *args: str) -> str:
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise ConfigError(f"cannot run git: {err}") from err
    if proc.returncode != 0:
        raise ConfigError(f"git {' '.join(args)}: {proc.stderr.strip() or 'failed'}")
    return proc.stdout


def resolve_commit(root: Path, rev: str) -> str:
    """The full hash of the commit ``rev`` names. ``rev`` reaches git only after
    ``--end-of-options`` (git 2.24+), so a string such as ``--output=/tmp/x`` is a revision
    git cannot find, never an option; later calls use the hash. ConfigError otherwise."""
    if not rev or rev.startswith("-"):
        raise ConfigError(f"{rev!r} is not a git revision")
    commit = _git(root, "rev-parse", "--verify", "--end-of-options",
                  f"{rev}^{{commit}}").strip()
    if len(commit) not in (40, 64) or not all(c in "0123456789abcdef" for c in commit):
        raise ConfigError(f"git did not resolve {rev!r} to a commit")
    return commit


class RevisionDdl:
    """The DDL each file declared at a revision, read statically (old code is never run).

    A revision's files are listed once (``git ls-tree``) and read through one
    ``git cat-file --batch`` process (gitblobs.py); each blob's DDL is kept by blob id and
    module, so a file unchanged between revisions, or since the last run (the project's
    cache folder, when caching is on), is never read or parsed again. Use as a context
    manager: the git process is closed and the cache written on exit."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._reader: BlobReader | None = None
        folder = store.for_config(config.root, config.cache, config.cache_dir)
        self._path = (folder / f"revddl-{tool_fingerprint()}.json") if folder else None
        self._known: dict[str, list[tuple[int, str]]] = {}
        self._used: dict[str, list[tuple[int, str]]] = {}
        if self._path is not None:
            document = store.read_document(self._path, "revision-ddl")
            entries = document.get("entries") if document is not None else None
            if type(entries) is dict:
                for key, texts in entries.items():
                    if type(texts) is list and all(
                            type(t) is list and len(t) == 2 and type(t[0]) is int
                            and type(t[1]) is str for t in texts):
                        self._known[key] = [(t[0], t[1]) for t in texts]

    def __enter__(self) -> RevisionDdl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._path is not None and self._used:
            store.write_document(self._path, "revision-ddl", {"entries": {
                key: [list(t) for t in texts] for key, texts in sorted(self._used.items())}})

    def ddl(self, rev: str) -> list[str]:
        """The DDL statements ``rev`` declared, in file and line order."""
        config = self.config
        commit = resolve_commit(config.root, rev)
        prefixes = [p.strip("./") for p in config.paths if p not in (".", "")]
        texts: list[tuple[str, int, str]] = []
        for entry in sorted(list_tree(config.root, commit), key=lambda e: e.path):
            name = entry.path
            if not name.endswith(SUFFIXES) or _excluded(name, config.exclude):
                continue
            if prefixes and not any(name == p or name.startswith(p + "/") for p in prefixes):
                continue
            texts.extend((name, line, text) for line, text in self._blob_ddl(entry))
        return [t for _, _, t in sorted(texts)]

    def _blob_ddl(self, entry: TreeEntry) -> list[tuple[int, str]]:
        name = entry.path
        module = module_name(self.config.root / name, self.config.root)
        key = f"{entry.oid} {module}" if name.endswith(".py") else f"{entry.oid} .sql"
        found = self._used.get(key)
        if found is None:
            found = self._known.get(key)
        if found is None:
            found = self._read_ddl(entry, module)
        self._used[key] = found
        return found

    def _read_ddl(self, entry: TreeEntry, module: str) -> list[tuple[int, str]]:
        if self._reader is None:
            self._reader = BlobReader(self.config.root, MAX_BYTES)
        data = self._reader.read(entry.oid)
        if data is None:  # over the size limit, or not in this (partial) clone
            return []
        if entry.path.endswith(".sql"):
            try:
                return [(0, data.decode("utf-8-sig"))]
            except UnicodeDecodeError:
                return []
        try:
            source = decode(data)
        except (SyntaxError, UnicodeDecodeError, LookupError):
            return []  # not readable Python: check reports such a file, no DDL from it
        facts = extract_source(source, entry.path, module)
        return [(text.line, text.text) for text in facts.ddl if not text.holes]


def ddl_at_revision(config: Config, rev: str) -> list[str]:
    """The DDL the project declared at ``rev``, read statically (old code is never run)."""
    with RevisionDdl(config) as reader:
        return reader.ddl(rev)


def schema_at_revision(config: Config, rev: str, reader: RevisionDdl | None = None) -> Schema:
    """The schema a fresh install of ``rev`` created, from its DDL (read statically);
    ``reader`` shares one git process and blob cache across revisions."""
    builder = SchemaBuilder(config.dialect, strict=False)
    texts = ddl_at_revision(config, rev) if reader is None else reader.ddl(rev)
    for text in texts:
        for statement in parse_sql(text, config.dialect).statements:
            builder.apply(statement)
    return builder.schema


def snapshot_from_git(config: Config, rev: str, name: str | None, out_dir: Path,
                      rows: int) -> Path:
    texts = ddl_at_revision(config, rev)
    if not texts:
        raise ToolError(f"no DDL found at {rev} under {', '.join(config.paths)}")
    with tempfile.TemporaryDirectory(prefix="dbharness-") as tmp:
        db = Path(tmp) / "old.sqlite"
        with closing(sqlite3.connect(db)) as conn:
            for text in texts:
                for statement in parse_sql(text).statements:
                    try:
                        conn.execute(statement.text)
                    except sqlite3.Error:
                        continue  # e.g. a guarded ALTER the old code ran only when needed
            conn.commit()
            fill_rows(conn, rows)
            safe = rev.replace("/", "-").replace("~", "-").replace("^", "-")
            return _dump(conn, out_dir / f"{name or 'git-' + safe}.sql")
