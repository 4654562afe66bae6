"""The schema model: our own normalised dataclasses, never SQL text.

sqlglot round-trips drop STRICT and VIRTUAL and ``sqlglot.diff`` misses renamed columns,
so both the static side (DDL) and the live side (PRAGMA) are reduced to these types and
compared as data.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError


def fold(name: str) -> str:
    """Identifier identity: SQLite and MySQL compare table and column names case-insensitively."""
    return name.lower()


def canonical_type(declared: str | None, dialect: str = "sqlite") -> str:
    """One spelling per type so DDL text and PRAGMA output compare equal (INT == INTEGER)."""
    if not declared:
        return ""
    text = " ".join(declared.split())
    try:
        return exp.DataType.build(text, dialect=dialect).sql(dialect=dialect).upper()
    except (ParseError, TokenError, ValueError):
        return text.upper()


@functools.lru_cache(maxsize=65536)
def canonical_default(default: str | None, dialect: str = "sqlite") -> str | None:
    """Defaults as sqlglot writes them back, so ``'x'``/``"x"`` spellings agree."""
    if default is None:
        return None
    text = default.strip()
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    try:
        return sqlglot.parse_one(text, read=dialect).sql(dialect=dialect)
    except (ParseError, TokenError, ValueError):
        return text


@dataclass(frozen=True)
class Column:
    name: str
    type: str = ""
    not_null: bool = False
    default: str | None = None
    primary_key: bool = False
    unique: bool = False
    generated: bool = False
    autoincrement: bool = False

    @property
    def key(self) -> str:
        return fold(self.name)


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...] = ()
    without_rowid: bool = False
    strict: bool = False
    is_view: bool = False
    columns_known: bool = True  # False for views/CTAS whose columns could not be derived
    primary_key: tuple[str, ...] = ()
    unique_sets: tuple[tuple[str, ...], ...] = ()

    @property
    def key(self) -> str:
        return fold(self.name)

    def column(self, name: str) -> Column | None:
        wanted = fold(name)
        for col in self.columns:
            if col.key == wanted:
                return col
        return None

    def has_column(self, name: str) -> bool:
        if self.column(name) is not None:
            return True
        return not self.without_rowid and not self.is_view and fold(name) in (
            "rowid", "oid", "_rowid_",
        )

    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def rowid_alias(self) -> str | None:
        """The INTEGER PRIMARY KEY column that aliases rowid, if any (never NULL on insert)."""
        if self.without_rowid or self.is_view:
            return None
        pks = [c for c in self.columns if c.primary_key]
        if len(pks) == 1 and (pks[0].type.upper() == "INTEGER" or pks[0].autoincrement):
            return pks[0].name  # exactly "INTEGER": "INT PRIMARY KEY" is no rowid alias
        return None

    def with_columns(self, columns: tuple[Column, ...]) -> Table:
        return replace(self, columns=columns)


@dataclass(frozen=True)
class Schema:
    """Tables by folded name. Immutable: applying DDL returns a new Schema."""

    tables: Mapping[str, Table] = field(default_factory=lambda: MappingProxyType({}))

    def table(self, name: str) -> Table | None:
        """The table ``name`` (``t``, ``public.t`` or ``other.t``), or None.

        A table created in a schema other than the default one is kept under its qualified
        name, so PostgreSQL's ``statistics.user`` and ``"user"`` stay two tables. A bare name
        with no default-schema table falls back to the one qualified table of that name (the
        search path may reach it); with several, the reference is ambiguous and gets None.
        """
        key = fold(_unqualify(name))
        found = self.tables.get(key)
        if found is not None or "." in key:
            return found
        suffix = "." + key
        matches = [t for k, t in self.tables.items() if k.endswith(suffix)]
        return matches[0] if len(matches) == 1 else None

    def __contains__(self, name: object) -> bool:
        """Known by that name, or a bare name some non-default schema defines: PostgreSQL's
        ``search_path`` may find ``s.t`` as ``t`` (PostgreSQL docs, "The Schema Search Path"),
        so such a name is not unknown, though ``table()`` does not judge its columns."""
        if not isinstance(name, str):
            return False
        if self.table(name) is not None:
            return True
        bare = fold(name)
        return "." not in bare and any(key.rpartition(".")[2] == bare for key in self.tables)

    def __iter__(self) -> Iterator[Table]:
        return iter(self.tables.values())

    def __len__(self) -> int:
        return len(self.tables)

    def put(self, table: Table) -> Schema:
        tables = dict(self.tables)
        tables[table.key] = table
        return Schema(MappingProxyType(tables))

    def remove(self, name: str) -> Schema:
        tables = dict(self.tables)
        tables.pop(fold(_unqualify(name)), None)
        return Schema(MappingProxyType(tables))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and dict(self.tables) == dict(other.tables)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.tables)))


DEFAULT_SCHEMAS = frozenset({"main", "public", "dbo", "temp"})


def qualified_name(name: str, db: str | None) -> str:
    """``t`` for a table in the default schema (SQLite ``main``/``temp``, PostgreSQL
    ``public``, SQL Server ``dbo``), else ``db.t``."""
    if db and fold(db) not in DEFAULT_SCHEMAS:
        return f"{db}.{name}"
    return name


def _unqualify(name: str) -> str:
    """``main.t`` / ``public.t`` name the same table as ``t``."""
    head, _, tail = name.rpartition(".")
    if head and fold(head) in DEFAULT_SCHEMAS:
        return tail
    return name
