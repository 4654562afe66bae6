"""Calls and SQL sites: which call runs SQL for which driver (the tables in
``harness.python.calls``), its SQL argument and its parameters, as ExecuteFact/CallFact."""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Callable

from harness.python import calls, orm
from harness.python.context import Scope, attribute_chain
from harness.python.facts import (
    Arg,
    CallArg,
    Callee,
    CallFact,
    ExecuteFact,
    ItemArg,
    KeyArg,
    ParamArg,
    RecordArg,
    RecordsArg,
    RefArg,
    SeqArg,
    SpreadArg,
    TextArg,
    UnknownArg,
    ValuesArg,
)
from harness.python.records import NOT_SPECIAL, Records
from harness.python.strings import (
    _lists,
)
from harness.python.text import Text
from harness.python.values import (
    MAX_PATHS,
    Alt,
    CallResult,
    DictValue,
    KeyRead,
    KeysOf,
    ParamValue,
    Ref,
    Seq,
    Spread,
    Value,
    ValuesOf,
    choices,
    resolve,
    to_arg,
)
from harness.sql.hints import PRAGMA_INFO_HINT, SQL_HINT

NAME_LIKE = re.compile(r"[A-Za-z_][\w.]*\Z")


LIST_GROW = frozenset({"append", "extend"})


LIST_CHANGE = frozenset({"insert", "pop", "remove", "clear"})


def _carries(arg: Arg, foreign: Callable[[Callee], bool]) -> bool:
    """Can this argument carry a record, a dict parameter, or SQL text onward? (A call's
    result only when the project could define the callee: ``json.dumps(x)`` cannot.)"""
    if isinstance(arg, CallArg):
        return not foreign(arg.callee)
    if isinstance(arg, (RecordArg, RecordsArg, ParamArg, KeyArg, ValuesArg, RefArg, ItemArg)):
        return True
    if isinstance(arg, TextArg):
        # SQL, or a bare name (a table or column handed to a helper); not log prose.
        return bool(SQL_HINT.search(arg.text.text) or NAME_LIKE.match(arg.text.text))
    if isinstance(arg, SeqArg):
        return any(_carries(a, foreign) for a in arg.items)
    if isinstance(arg, SpreadArg):
        return _carries(arg.inner, foreign)
    return False


class Calls(Records):
    def _ev_Call(self, node: ast.Call, scope: Scope) -> Value:
        func = node.func
        if self._uses("alembic", "sqlalchemy"):
            ddl = orm.alembic_ddl(node) if self._uses("alembic") and attribute_chain(func)[:1] == (
                "op",) else orm.table_ddl(node)
            if ddl:
                line, col = self.pos(node)
                self.ddl[(line, col, ddl)] = Text(ddl, (), (), line, col)
        if node.args and self._uses("psycopg2", "psycopg") and self._is_psycopg_sql(node):
            # psycopg ``sql.SQL("SELECT {} FROM t").format(sql.Identifier(c))``: the literal
            # SQL; what ``format`` puts in (identifiers, literals) are holes
            value = self.ev(node.args[0], scope)
            return value if isinstance(value, Text) else None
        if node.args and self._uses("sqlalchemy") and self._is_sa_text(node):
            # SQLAlchemy ``text(sql)``: the SQL itself, as an execute site reads it
            value = self.ev(node.args[0], scope)
            for extra in (*node.args[1:], *(k.value for k in node.keywords)):
                self.ev(extra, scope)
            return value if isinstance(value, Text) else None
        if isinstance(func, ast.Attribute):
            special = self._method_call(node, func, scope)
            if special is not NOT_SPECIAL:
                return special
        elif isinstance(func, ast.Name):
            special = self._builtin_call(node, func.id, scope)
            if special is not NOT_SPECIAL:
                return special
        args = [self._argument(a, scope) for a in node.args]
        kwargs = [(k.arg, self.ev(k.value, scope)) for k in node.keywords]
        callee = self._callee(func, scope)
        line, col = self.pos(node)
        if callee is None:
            self.ev(func, scope)
            return None
        site = self._sql_site(node, func) if isinstance(func, ast.Attribute) and \
            func.attr in calls.ALL_NAMES else None
        if site is not None:
            self._execute(node, site, args, kwargs, scope, line, col)
        elif not self.foreign(callee):
            for arg in node.args:
                # ``add_filters(where, args)``: the callee may append to the list
                if isinstance(arg, ast.Name) and _lists(scope.values.get(arg.id)):
                    scope.values[arg.id] = None
        positional = tuple(to_arg(a) for a in args)
        keywords = tuple((k, to_arg(v)) for k, v in kwargs if k is not None)
        stars = tuple(to_arg(v) for k, v in kwargs if k is None)
        every = (*positional, *stars, *(v for _, v in keywords))
        if self.foreign(callee) and not any(isinstance(a, (RecordArg, RecordsArg))
                                             for a in every):
            # ``json.dumps(x)``, ``log.info(...)``: its arguments bind to no project code.
            return CallResult(callee, line, col)
        carries = any(_carries(a, self.foreign) for a in every)
        if carries or (keywords and not self._stdlib(callee)):
            kw_record = self._kwargs_record(node, kwargs, scope)
        else:
            # Nothing here can reach SQL (constants, unknowns, log text): not worth a fact.
            return CallResult(callee, line, col)
        self.calls.append(CallFact(
            callee, positional, keywords,
            stars + ((RecordArg(kw_record.snapshot()),) if kw_record is not None else ()),
            scope.function, scope.cls, line, col,
        ))
        return CallResult(callee, line, col)

    def _argument(self, node: ast.expr, scope: Scope) -> Value:
        """A call's positional argument; ``*rest`` is a Spread: any number of items, never
        the one argument it is written as (``read(query, *args)``)."""
        if isinstance(node, ast.Starred):
            return Spread(self.ev(node.value, scope))
        return self.ev(node, scope)

    def _sql_site(self, node: ast.Call, func: ast.Attribute) -> calls.Site | None:
        """The driver method this call is, by name and what the file imports (calls.py)."""
        first = node.args[0] if node.args else None
        site = calls.recognise(func.attr, self._drivers(),
                               first is not None and self._is_sa_text(first))
        if site is None:
            return None
        receiver = attribute_chain(func.value)
        if site.driver is not calls.Driver.DBAPI and receiver and receiver[0] in \
                self.import_map and len(receiver) == 1:
            imported = self.import_map[receiver[0]]
            if imported.name is None and calls.IMPORT_NAMES.get(
                    imported.module.split(".")[0]) is not site.driver:
                return None  # ``asyncio.run(main())``: a module's function, not a query
        has_sql = (first is not None and not isinstance(first, ast.Starred)) or any(
            k.arg == site.method.sql_keyword for k in node.keywords if k.arg)
        return site if has_sql or site.method.convention is calls.Convention.COLUMNS else None

    def _is_psycopg_sql(self, node: ast.Call) -> bool:
        """``sql.SQL(...)`` / ``psycopg2.sql.SQL(...)`` / ``SQL(...)`` from psycopg(2).sql."""
        chain = attribute_chain(node.func)
        if not chain or chain[-1] != "SQL":
            return False
        imported = self.import_map.get(chain[0])
        if imported is None:
            return False
        dotted = imported.module if imported.name is None else f"{imported.module}.{imported.name}"
        full = ".".join((dotted, *chain[1:]))
        return full in ("psycopg2.sql.SQL", "psycopg.sql.SQL")

    def _is_sa_text(self, node: ast.expr) -> bool:
        """``text("...")`` / ``sa.text(...)`` from SQLAlchemy (also ``.bindparams(...)`` on it)."""
        while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in ("bindparams", "columns"):
            node = node.func.value
        if not isinstance(node, ast.Call):
            return False
        chain = attribute_chain(node.func)
        if not chain or chain[-1] not in calls.SQLALCHEMY_TEXT:
            return False
        imported = self.import_map.get(chain[0])
        if imported is None:
            return False
        if len(chain) == 1:
            return imported.module.split(".")[0] == "sqlalchemy" and imported.name == "text"
        root = imported.module if imported.name is None else f"{imported.module}.{imported.name}"
        return root.split(".")[0] == "sqlalchemy"

    def _execute(self, node: ast.Call, site: calls.Site, args: list[Value],
                 kwargs: list[tuple[str | None, Value]], scope: Scope, line: int,
                 col: int, path_index: int = 0) -> None:
        found: dict[int, int] = {}
        for value in (*args, *(v for _, v in kwargs)):
            choices(value, found)
        if found:
            # SQL and parameters built along branches: one execute per path, each judged
            # on its own; too many paths: the SQL is not judged at all.
            paths = 1
            for n in found.values():
                paths *= n
            if paths > MAX_PATHS:
                args = [None, *args[1:]]
            elif self._dependent.intersection(found):
                # Some paths may never be taken (``if where:`` follows what filled
                # ``where``): each path's SQL is judged, its parameter count is not.
                keys = sorted(found)
                for n, combo in enumerate(itertools.product(*(range(found[k]) for k in keys))):
                    path = dict(zip(keys, combo))
                    self._execute(node, site, [resolve(args[0], path),
                                                 *(None for _ in args[1:])],
                                  [(k, None) for k, _ in kwargs], scope, line, col, n + 1)
                return
            else:
                keys = sorted(found)
                for n, combo in enumerate(itertools.product(*(range(found[k]) for k in keys))):
                    path = dict(zip(keys, combo))
                    self._execute(node, site, [resolve(a, path) for a in args],
                                  [(k, resolve(v, path)) for k, v in kwargs], scope, line, col,
                                  n + 1)
                return
        method = site.method
        convention = method.convention
        named = {k: v for k, v in kwargs if k is not None}
        positional = [(a, v) for a, v in zip(node.args, args)]
        if convention is calls.Convention.COLUMNS:
            sql_value: Value = self._copy_columns(args[0] if node.args else named.get(
                "table_name"), named, line, col)
            positional = []
        elif node.args and not isinstance(node.args[0], ast.Starred):
            sql_value = args[0]
            positional = positional[1:]
        else:
            sql_value = named.get(method.sql_keyword or "")
        if isinstance(sql_value, Text):
            sql: Arg = TextArg(sql_value)
            self._maybe_ddl(sql_value)
            if PRAGMA_INFO_HINT.match(sql_value.text):
                scope.last_pragma = sql_value
        elif isinstance(sql_value, ParamValue):
            sql = ParamArg(sql_value.name)
        elif isinstance(sql_value, Ref):
            sql = RefArg(sql_value.module, sql_value.name)
        else:
            if site.project_wide:
                return  # a distinctive name, but no SQL in sight: not taken for a query
            sql = UnknownArg()
        params: Arg | None = self._params(node, site, positional, named)
        receiver = attribute_chain(node.func.value) if isinstance(node.func, ast.Attribute) else ()
        self.executes.append(ExecuteFact(
            node.func.attr if isinstance(node.func, ast.Attribute) else "execute", sql, params,
            scope.function, scope.cls, line, col, scope.branch > 0,
            other_db=bool(receiver) and receiver[0] in scope.other_dbs,
            convention=convention, driver=site.driver.value, project_wide=site.project_wide,
            path=path_index,
        ))

    def _params(self, node: ast.Call, site: calls.Site, positional: list[tuple[ast.expr, Value]],
                named: dict[str, Value]) -> Arg | None:
        """The parameters as the driver receives them; ``UnknownArg`` when they cannot be
        known (``**kw``, a keyword the table does not name, an ambiguous driver)."""
        method = site.method
        convention = method.convention
        unknown_kw = any(k.arg is None or (k.arg not in method.params_keywords and k.arg !=
                                           method.sql_keyword and k.arg not in method.ignored)
                         for k in node.keywords)
        if convention in (calls.Convention.SCRIPT, calls.Convention.COLUMNS):
            return None
        if convention is calls.Convention.SPREAD:
            if site.ambiguous or unknown_kw:
                return UnknownArg()
            if not positional:
                return None
            items: list[Value] = [v for _, v in positional]  # ``*xs`` is already a Spread
            return to_arg(Seq(tuple(items)))
        if positional:
            first_node, first = positional[0]
            if isinstance(first_node, ast.Starred) or len(positional) > 1:
                return UnknownArg()  # ``execute(sql, *args)`` on a DB-API cursor: not judged
            return to_arg(first)
        given = next((named[k] for k in method.params_keywords if k in named), None)
        if given is not None:
            return UnknownArg() if unknown_kw else to_arg(given)
        return UnknownArg() if unknown_kw else None

    @staticmethod
    def _copy_columns(table: Value, named: dict[str, Value], line: int, col: int) -> Value:
        """asyncpg ``copy_records_to_table(table, records=..., columns=[...])``: the columns it
        copies into, as the INSERT column list they amount to (None when not literal)."""
        columns = named.get("columns")
        schema = named.get("schema_name")
        if not isinstance(table, Text) or table.holes or not isinstance(columns, Seq) or \
                not columns.items or not all(isinstance(c, Text) and not c.holes
                                             for c in columns.items):
            return None
        names = [c.text for c in columns.items if isinstance(c, Text)]
        qualified = table.text
        if isinstance(schema, Text) and not schema.holes:
            qualified = f"{schema.text}.{table.text}"
        marks = ", ".join(f"${i}" for i in range(1, len(names) + 1))
        return Text(f"INSERT INTO {qualified} ({', '.join(names)}) VALUES ({marks})", (), (),
                    line, col)

    def _method_call(self, node: ast.Call, func: ast.Attribute, scope: Scope) -> Value:
        receiver = self.ev(func.value, scope)
        attr = func.attr
        if isinstance(func.value, ast.Name) and (attr in LIST_GROW or attr in LIST_CHANGE) \
                and _lists(receiver):
            # ``args.append(room)``: the list the name holds grows on this path
            args = [self.ev(a, scope) for a in node.args]
            grown = self._grow(receiver, attr, args) if attr in LIST_GROW else None
            scope.values[func.value.id] = self._bounded(grown, node)
            return None
        if isinstance(receiver, ParamValue):
            if attr == "get" and node.args:
                keys = self._keys_of(node.args[0], scope)
                if len(keys) == 1:
                    for a in node.args[1:]:
                        self.ev(a, scope)
                    return KeyRead(receiver.name, keys[0], False)
            if attr == "keys" and not node.args:
                return KeysOf(receiver.name)
            if attr == "values" and not node.args:
                return ValuesOf(receiver.name)
            if attr == "items" and not node.args:
                return KeysOf(receiver.name)
        if isinstance(receiver, DictValue):
            if attr in ("items", "keys", "values") and not node.args and receiver.closed and \
                    len(receiver.values) == len(receiver.keys):
                # A literal dict of column descriptors, iterated by a schema builder.
                line, col = self.pos(node)
                key_texts = [Text(k, (), (), line, col) for k in receiver.values]
                if attr == "keys":
                    return Seq(tuple(key_texts))
                if attr == "values":
                    return Seq(tuple(receiver.values.values()))
                return Seq(tuple(Seq((k, v)) for k, v in zip(key_texts,
                                                             receiver.values.values())))
            return self._dict_method(receiver, attr, node, scope)
        if isinstance(receiver, Text) and attr == "join" and len(node.args) == 1:
            items = self.ev(node.args[0], scope)
            if isinstance(items, Alt) or (isinstance(items, Seq) and items.mutable and any(
                    isinstance(i, (Alt, Spread)) for i in items.items)):
                # ", ".join(parts) of a list built along branches: a computed part
                line, col = self.pos(node)
                return self._hole(None, line, col)
            return self._join(receiver, items, node)
        if isinstance(receiver, Text) and ((attr in ("bindparams", "columns") and self._uses(
                "sqlalchemy")) or (attr == "as_string" and self._uses("psycopg2", "psycopg"))):
            for a in (*node.args, *(k.value for k in node.keywords)):
                self.ev(a, scope)
            return receiver  # ``text(sql).bindparams(...)``: still that SQL
        if isinstance(receiver, Text) and attr == "format":
            return self._format(receiver, node, scope)
        if isinstance(receiver, Text) and attr in ("strip", "lstrip", "rstrip", "upper",
                                                   "lower") and not node.args:
            return receiver if attr != "upper" and attr != "lower" else None
        return NOT_SPECIAL
