"""Which calls run SQL, per driver, and how each passes its parameters: the one table.

A method call is a SQL site when its name is a query method of a driver and its SQL argument
is found where that driver takes it. Names every DB-API driver shares (``execute``,
``executemany``) are sites wherever they appear, as before; names that only one library uses
(asyncpg's ``fetchrow``, postgres.py's ``run``/``one``/``all``, twisted's ``runQuery``) are sites
when the file imports that library, or — for names no other common library uses for something
else — when the project does (a data layer that is handed an asyncpg connection need not import
asyncpg itself).

Calling conventions (the sources of each rule are the drivers' own documentation):

- ``ONE``: DB-API 2.0 (PEP 249) ``execute(sql, params)``: one sequence or mapping, or none.
  sqlite3, aiosqlite, psycopg2, psycopg 3, pymysql, MySQLdb, aiomysql (and aiosqlite's
  ``execute_fetchall`` / ``execute_insert``); postgres.py's ``run/one/all(sql, parameters)``;
  twisted adbapi's ``runQuery/runOperation(sql, *args)`` (it calls
  ``cursor.execute(sql, *args)``, so its second argument is the params); SQLAlchemy
  ``exec_driver_sql(sql, params)``.
- ``MANY``: ``executemany(sql, rows)``: a sequence of rows, each as for ``ONE``.
- ``SCRIPT``: ``executescript(sql)``: several statements, no parameters.
- ``SPREAD``: asyncpg ``execute/fetch/fetchrow/fetchval(query, *args)``: each argument after
  the query is one ``$n`` (a list passed there is ONE parameter, e.g. for ``$1::jsonb``).
  The extractor turns the arguments into one sequence, so it is then judged as ``ONE``.
- ``BINDS``: SQLAlchemy ``Connection/Session.execute(text(sql), params)`` and ``databases``
  ``execute/fetch_all/fetch_one/fetch_val(query, values)``: ``:name`` binds fed by a mapping or
  a list of mappings (an executemany); the count of a sequence is not judged.
- ``COLUMNS``: asyncpg ``copy_records_to_table(table, records=..., columns=[...])``: no SQL
  text; the table and its literal column list are checked as an INSERT column list.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Convention(enum.Enum):
    """How a SQL site receives its parameters (see the module docstring)."""

    ONE = "one"
    MANY = "many"
    SCRIPT = "script"
    SPREAD = "spread"
    BINDS = "binds"
    COLUMNS = "columns"


class Driver(enum.Enum):
    """A database library, by the top-level package it is imported as."""

    DBAPI = "dbapi"  # any DB-API 2.0 driver: the shared method names
    SQLITE3 = "sqlite3"
    AIOSQLITE = "aiosqlite"
    PSYCOPG2 = "psycopg2"
    PSYCOPG = "psycopg"
    ASYNCPG = "asyncpg"
    SQLALCHEMY = "sqlalchemy"
    DATABASES = "databases"
    POSTGRES_PY = "postgres"
    TWISTED = "twisted"
    PYMYSQL = "pymysql"
    MYSQLDB = "MySQLdb"
    AIOMYSQL = "aiomysql"

    @property
    def dialect(self) -> str | None:
        """The SQL dialect the driver speaks, or None when it depends on the URL/backend."""
        return DIALECT_OF.get(self)


DIALECT_OF: dict[Driver, str] = {
    Driver.SQLITE3: "sqlite", Driver.AIOSQLITE: "sqlite",
    Driver.PSYCOPG2: "postgres", Driver.PSYCOPG: "postgres", Driver.ASYNCPG: "postgres",
    Driver.POSTGRES_PY: "postgres",
    Driver.PYMYSQL: "mysql", Driver.MYSQLDB: "mysql", Driver.AIOMYSQL: "mysql",
}

IMPORT_NAMES: dict[str, Driver] = {d.value: d for d in Driver if d is not Driver.DBAPI}
IMPORT_NAMES["pysqlite2"] = Driver.SQLITE3
IMPORT_NAMES["pysqlite3"] = Driver.SQLITE3


@dataclass(frozen=True)
class Method:
    """One query method: where its SQL is and how its parameters are passed.

    ``sql_keyword``: the keyword the SQL may be passed as instead of positionally;
    ``params_keywords``: keywords that may carry the parameters; ``distinctive``: no other
    common library uses the name for something else, so a project-wide import is enough."""

    convention: Convention
    sql_keyword: str | None = None
    params_keywords: tuple[str, ...] = ()
    distinctive: bool = False
    text_only: bool = False  # the SQL must be wrapped in ``text()`` (SQLAlchemy execute)
    ignored: tuple[str, ...] = ()  # keywords that are not parameters (``timeout=``)


_DBAPI_PARAMS = ("parameters", "params", "args", "values", "bindings", "vars")
_DBAPI: dict[str, Method] = {
    "execute": Method(Convention.ONE, params_keywords=_DBAPI_PARAMS),
    "executemany": Method(Convention.MANY, params_keywords=("seq_of_parameters", "vars_list",
                                                            *_DBAPI_PARAMS)),
    "executescript": Method(Convention.SCRIPT),
}
_ASYNCPG_KW = ("timeout", "column", "record_class")
_ASYNCPG: dict[str, Method] = {
    "execute": Method(Convention.SPREAD, "query", ignored=_ASYNCPG_KW),
    "executemany": Method(Convention.MANY, "command", ("args",), ignored=_ASYNCPG_KW),
    "fetch": Method(Convention.SPREAD, "query", ignored=_ASYNCPG_KW),
    "fetchrow": Method(Convention.SPREAD, "query", distinctive=True, ignored=_ASYNCPG_KW),
    "fetchval": Method(Convention.SPREAD, "query", distinctive=True, ignored=_ASYNCPG_KW),
    "copy_records_to_table": Method(Convention.COLUMNS, "table_name", distinctive=True,
                                    ignored=("records", "columns", "schema_name", "timeout",
                                             "where")),
}
_POSTGRES_KW = ("back_as", "default", "max_age")

METHODS: dict[Driver, dict[str, Method]] = {
    Driver.DBAPI: _DBAPI,
    Driver.ASYNCPG: _ASYNCPG,
    Driver.SQLALCHEMY: {
        "execute": Method(Convention.BINDS, params_keywords=("parameters", "params"),
                          text_only=True),
        "exec_driver_sql": Method(Convention.ONE, params_keywords=("parameters",),
                                  distinctive=True),
    },
    Driver.DATABASES: {
        "execute": Method(Convention.BINDS, "query", ("values",)),
        "execute_many": Method(Convention.BINDS, "query", ("values",), distinctive=True),
        "fetch_all": Method(Convention.BINDS, "query", ("values",), distinctive=True),
        "fetch_one": Method(Convention.BINDS, "query", ("values",), distinctive=True),
        "fetch_val": Method(Convention.BINDS, "query", ("values",), distinctive=True),
    },
    Driver.AIOSQLITE: {
        "execute_fetchall": Method(Convention.ONE, params_keywords=("parameters",),
                                   distinctive=True),
        "execute_insert": Method(Convention.ONE, params_keywords=("parameters",),
                                 distinctive=True),
    },
    Driver.POSTGRES_PY: {
        "run": Method(Convention.ONE, "sql", ("parameters",), ignored=_POSTGRES_KW),
        "one": Method(Convention.ONE, "sql", ("parameters",), ignored=_POSTGRES_KW),
        "all": Method(Convention.ONE, "sql", ("parameters",), ignored=_POSTGRES_KW),
    },
    Driver.TWISTED: {
        "runQuery": Method(Convention.ONE, distinctive=True),
        "runOperation": Method(Convention.ONE, distinctive=True),
    },
}
"""driver -> method name -> how it takes SQL and parameters. sqlite3, psycopg2, psycopg,
pymysql, MySQLdb and aiomysql use the DB-API names only (aiosqlite adds two)."""

DISTINCTIVE: dict[str, Driver] = {
    name: driver for driver, methods in METHODS.items() for name, m in methods.items()
    if m.distinctive
}
ALL_NAMES: frozenset[str] = frozenset(n for methods in METHODS.values() for n in methods)
SCHEMA_METHODS: frozenset[str] = frozenset({"execute", "executescript"})
"""The methods the schema-code simulation replays (DDL and user_version stamps)."""

SQLALCHEMY_TEXT: frozenset[str] = frozenset({"text"})


@dataclass(frozen=True)
class Site:
    """A call recognised as a SQL site: whose method it is and how it takes its parameters.
    ``project_wide``: recognised only from a distinctive name, so the link step keeps it only
    when some module of the project imports ``driver``."""

    driver: Driver
    method: Method
    project_wide: bool = False
    ambiguous: bool = False  # the file also imports a DB-API driver: the convention is unsure


def drivers_imported(modules: frozenset[str]) -> frozenset[Driver]:
    """The drivers a file imports, from the top-level package names of its imports."""
    return frozenset(IMPORT_NAMES[m] for m in modules if m in IMPORT_NAMES)


def recognise(name: str, drivers: frozenset[Driver], sql_is_text_call: bool) -> Site | None:
    """Is ``<receiver>.<name>(...)`` a SQL site in a file importing ``drivers``?

    ``sql_is_text_call``: the SQL argument is SQLAlchemy's ``text(...)``. A driver the file
    imports decides the convention of a shared name (``execute`` on asyncpg takes ``*args``);
    with none of them, the DB-API names are sites as before, and a distinctive name is a site
    when the project imports its driver."""
    if sql_is_text_call:
        m = METHODS[Driver.SQLALCHEMY].get(name)
        if m is not None:
            return Site(Driver.SQLALCHEMY, m)
    for driver in _PREFERENCE:
        if driver in drivers:
            m = METHODS[driver].get(name)
            if m is not None and not m.text_only:
                return Site(driver, m, ambiguous=bool(drivers & _DBAPI_DRIVERS)
                            and name in _DBAPI)
    m = _DBAPI.get(name)
    if m is not None:
        return Site(Driver.DBAPI, m)
    owner = DISTINCTIVE.get(name)
    if owner is not None:
        return Site(owner, METHODS[owner][name], project_wide=True)
    return None


_DBAPI_DRIVERS = frozenset({Driver.SQLITE3, Driver.AIOSQLITE, Driver.PSYCOPG2, Driver.PSYCOPG,
                            Driver.PYMYSQL, Driver.MYSQLDB, Driver.AIOMYSQL})
_PREFERENCE = (Driver.ASYNCPG, Driver.DATABASES, Driver.POSTGRES_PY, Driver.TWISTED,
               Driver.SQLALCHEMY, Driver.AIOSQLITE)
"""When a file imports several libraries, the one whose convention differs most from DB-API
decides a shared name (a file importing asyncpg and sqlite3 is rare; asyncpg's ``execute``
with ``*args`` is the one a DB-API reading would misjudge)."""


def inferred_dialect(modules_per_file: list[frozenset[str]]) -> str | None:
    """The one dialect every driver the project imports speaks (asyncpg, psycopg, psycopg2,
    postgres.py -> postgres; pymysql, MySQLdb, aiomysql -> mysql; sqlite3, aiosqlite ->
    sqlite), from each file's top-level imports; None when they import none, or drivers of
    different databases (a multi-backend project: the configured default stays)."""
    dialects = {d.dialect for mods in modules_per_file for d in drivers_imported(mods)}
    dialects.discard(None)
    return next(iter(dialects)) if len(dialects) == 1 else None
