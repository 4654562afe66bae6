"""A schema's history: ordered upgrade scripts, judged step by step.

Projects keep their schema in two shapes: today's schema (``schema.sql``) and a history of
scripts that brought old databases there (``update1.sql``, ``update2.sql``; ``0003_x.sql``;
one ``migrations.sql`` in sections). A statement in a history script runs against the
database as it stood at that step, not against today's schema: an INSERT in ``update1.sql``
rightly omits a column that ``update2.sql`` adds later.

Which ``.sql`` files are history (``is_history_script``): a file whose name, or a folder on
its path, says migration/update/upgrade/patch/changes/delta, or whose name starts with a
sequence number (``0001_init.sql``, ``V2__add.sql``). The
scripts of one folder form one chain, in natural order of their names (``update2`` before
``update10``); within a file, in text order.

The schema at a step (``HistoryReplay.at``): each table the chain has created, renamed or
dropped so far, as the chain left it; every other table is known by name from the project's
schema, but not its columns: the chain starts from an old database, which may have had
columns that today's schema has dropped since.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from sqlglot import exp

from harness.sql.ddl import SchemaBuilder, table_name
from harness.sql.parse import DDL, Statement
from harness.sql.schema import Schema, Table, fold

HISTORY_WORDS = re.compile(
    r"migrat|update|upgrade|patch|change|delta|evolution|revision", re.IGNORECASE)
NUMBERED = re.compile(r"^(?:v|r)?\d+(?:[._-]|__|$)", re.IGNORECASE)
_DIGITS = re.compile(r"(\d+)")


def is_history_script(path: str) -> bool:
    """True when ``path`` (a project-relative ``.sql`` path, ``/``-separated) is a step of an
    ordered history rather than a description of today's schema."""
    parts = path.split("/")
    stem = parts[-1].rsplit(".", 1)[0]
    return bool(HISTORY_WORDS.search(stem) or NUMBERED.search(stem)
                or any(HISTORY_WORDS.search(folder) for folder in parts[:-1]))


PYTHON_HISTORY = re.compile(r"migrat", re.IGNORECASE)


def is_history_module(path: str) -> bool:
    """True when ``path`` (a project-relative ``.py`` path) is one module of ordered schema
    steps, e.g. ``migrations.py`` of ``async def m001_initial`` ... ``m024_drop_pending``:
    its file name says migration. Only the name: a ``migrations/`` folder holds one step per
    file in an order the framework keeps (Alembic ``down_revision``), not the names' order;
    and Python modules called ``update.py`` or ``patch.py`` are usually application code."""
    name = path.rpartition("/")[2]
    return name.endswith(".py") and bool(PYTHON_HISTORY.search(name))


VERSION_COLUMN = re.compile(r"version", re.IGNORECASE)


def is_version_upgrade(statements: Iterable[Statement]) -> bool:
    """True when one Python module's SQL (``statements``, in any order) is an upgrade program
    that keeps its own schema version in a table: it stamps a literal version
    (``UPDATE config SET version = 5.0``) and alters or drops tables (``ALTER TABLE``,
    ``DROP TABLE``). Such a module runs step by step against databases older releases left
    (``if version < 5.0: ...``), so its SQL is history, judged at each step as in a
    migrations module, not against today's schema."""
    stamps = alters = False
    for st in statements:
        node = st.expression
        if isinstance(node, exp.Update):
            stamps = stamps or any(
                isinstance(e, exp.EQ) and isinstance(e.this, exp.Column)
                and VERSION_COLUMN.search(e.this.name) and isinstance(e.expression, exp.Literal)
                for e in node.expressions)
        elif isinstance(node, (exp.Alter, exp.Drop)):
            alters = True
        if stamps and alters:
            return True
    return False


def natural_key(path: str) -> tuple[object, ...]:
    """Sort key: folder, then the file name with digit runs compared as numbers."""
    folder, _, name = path.rpartition("/")
    return (folder, tuple(int(p) if p.isdigit() else p.lower() for p in _DIGITS.split(name)))


@dataclass
class HistoryReplay:
    """The schema before each statement of the history scripts, by (path, statement start)."""

    schema: Schema
    dialect: str
    steps: dict[tuple[str, int], Schema] = field(default_factory=dict)

    def at(self, path: str, start: int) -> Schema | None:
        """The schema a history statement (DML, or DDL before it applies) runs against, or
        None for a non-history one."""
        return self.steps.get((path, start))


def replay_history(scripts: Iterable[tuple[str, tuple[Statement, ...]]], schema: Schema,
                   dialect: str) -> HistoryReplay:
    """Replay each folder's chain of history scripts (``(path, statements)``, any order) on its
    own, recording the schema each DML statement sees. DDL is applied leniently (as the
    project's schema is built); a statement sqlglot did not parse is simply absent."""
    replay = HistoryReplay(schema, dialect)
    chains: dict[str, list[tuple[str, tuple[Statement, ...]]]] = {}
    for path, statements in scripts:
        if is_history_script(path):
            chains.setdefault(path.rpartition("/")[0], []).append((path, statements))
    for chain in chains.values():
        ordered = sorted(chain, key=lambda item: natural_key(item[0]))
        builder = SchemaBuilder(dialect, strict=False)
        touched: set[str] = set()
        base = schema
        for table in _base_tables(ordered, schema):
            base = base.put(table)
        current = _overlay(base, builder.schema, touched)
        for path, statements in ordered:
            for st in statements:
                replay.steps[(path, st.start)] = current
                if st.category in DDL:
                    touched |= _names_touched(st.expression, builder.schema)
                    builder.apply(st)
                    touched |= {t.key for t in builder.schema}
                    current = _overlay(base, builder.schema, touched)
    return replay


def _base_tables(chain: list[tuple[str, tuple[Statement, ...]]], schema: Schema
                 ) -> list[Table]:
    """Tables the chain alters or drops before (or without) creating them: the old database
    had them, though today's schema may not (columns unknown)."""
    created: set[str] = set()
    out: dict[str, Table] = {}
    for _path, statements in chain:
        for st in statements:
            node = st.expression if st.category in DDL else None
            if isinstance(node, exp.Create):
                name = table_name(node.this)
                if name:
                    created.add(fold(name))
            elif isinstance(node, (exp.Alter, exp.Drop)):
                targets = [node.this] if isinstance(node, exp.Alter) else \
                    list(node.args.get("tables") or [])
                for target in targets:
                    name = table_name(target)
                    if name and fold(name) not in created and name not in schema:
                        out.setdefault(fold(name), Table(name, columns_known=False))
    return list(out.values())


def _names_touched(node: exp.Expr, chain: Schema) -> set[str]:
    """Tables whose state the chain now owns: created, dropped or renamed here (an ALTER of a
    table the chain has not created leaves the project's version in place)."""
    if isinstance(node, exp.Create) and str(node.args.get("kind") or "").upper() in (
            "TABLE", "VIEW"):
        name = table_name(node.this)
        return {fold(name)} if name else set()
    if isinstance(node, exp.Drop) and str(node.args.get("kind") or "").upper() in (
            "TABLE", "VIEW"):
        names = (table_name(t) for t in node.args.get("tables") or [])
        return {fold(n) for n in names if n}
    if isinstance(node, exp.Alter):
        name = table_name(node.this)
        renamed = any(isinstance(a, exp.AlterRename) for a in node.args.get("actions") or [])
        if name and (renamed or name in chain):
            return {fold(name)}
    return set()


def _overlay(schema: Schema, chain: Schema, touched: set[str]) -> Schema:
    """The chain's tables as it left them; every other table by name only, its columns not
    known (the old database the chain starts from had columns today's schema may lack)."""
    tables = {key: replace(table, columns_known=False) for key, table in schema.tables.items()
              if key not in touched}
    tables.update(chain.tables)
    return Schema(MappingProxyType(tables))
