"""Writers: functions whose dict parameter reaches an INSERT or UPDATE.

A writer is found from the SQL it runs (an explicit column list fed by ``p['k']``, named
placeholders fed by ``p`` itself, or a column list built from ``p.keys()``), then carried up
through every function that only hands the dict on, to any depth.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlglot import exp

from harness.python.calls import Convention
from harness.python.facts import (
    ExecuteFact,
    KeyArg,
    ParamArg,
    SeqArg,
    SpreadArg,
    TextArg,
    ValuesArg,
)
from harness.python.text import KEYS, PARAM, Text
from harness.sql.memo import written
from harness.sql.parse import parse_sql

COLUMNS = "columns"  # the writer reads chosen keys into an explicit column list
NAMED = "named"  # the dict is the parameter mapping of named placeholders
KEYED = "keys"  # every key becomes a column (generic helpers)


@dataclass(frozen=True)
class Read:
    key: str
    column: str
    required: bool


@dataclass(frozen=True)
class Writer:
    """Function ``qualname`` in ``module`` writes its parameter ``param`` to a table."""

    module: str
    path: str  # the file where the SQL runs (with line, col), also for a lifted writer
    qualname: str
    param: str
    table: str | None  # None: the table is the function's parameter ``table_param``
    table_param: str | None
    mode: str
    reads: tuple[Read, ...]
    line: int  # where the SQL runs
    col: int
    kind: str  # insert / update
    via: tuple[str, ...] = ()  # pass-through functions, outermost first
    each: bool = False  # the parameter is a list; each of its items is written

    def reads_key(self, key: str) -> Read | None:
        low = key.lower()
        for r in self.reads:
            if r.key.lower() == low:
                return r
        return None

    @property
    def sql_function(self) -> str:
        """The function whose SQL runs at ``path:line:col`` (the innermost of ``via``)."""
        return self.via[-1] if self.via else self.qualname

    @property
    def label(self) -> str:
        return self.qualname + (f" (via {' -> '.join(self.via)})" if self.via else "")


def _table_of(text: Text, name: str | None) -> tuple[str | None, str | None, bool]:
    """(table, table_param, known): a literal table, a parameter hole, or unknown."""
    if name is None:
        return None, None, False
    hole = text.hole(name)
    if hole is None:
        return name, None, True
    if hole.kind == PARAM and hole.param:
        return None, hole.param, True
    return None, None, False


def writers_of_execute(module: str, path: str, execute: ExecuteFact, text: Text,
                       dialect: str) -> list[Writer]:
    """The writers one execute site makes of its function's parameters."""
    if execute.function is None or execute.params is None:
        return []
    parsed = parse_sql(text.text, dialect)
    out: list[Writer] = []
    for statement in parsed.statements:
        if statement.category not in ("insert", "update"):
            continue
        info = written(statement, dialect)
        table, table_param, known = _table_of(text, info.table)
        if not known:
            continue
        line, col = execute.line, execute.col
        base = Writer(module, path, execute.function, "", table, table_param, COLUMNS, (),
                      line, col, info.kind)
        keyed = _keyed_param(text, statement.expression, execute) if any(
            h.kind == KEYS for h in text.holes) else None
        if keyed is not None:
            # "a|b": the keys of {**a, **b} (an upsert's values and keys): a writer of each
            out.extend(replace(base, param=p, mode=KEYED) for p in keyed.split("|"))
            continue
        params = execute.params
        if isinstance(params, ParamArg) and statement.placeholders.named:
            column_of = {f.name: f.column for f in info.feeds if f.name}
            named = tuple(Read(n, column_of.get(n, ""), True)
                          for n in sorted(statement.placeholders.names))
            out.append(replace(base, param=params.name, mode=NAMED, reads=named))
        elif isinstance(params, SeqArg):
            column_at = {f.index: f.column for f in info.feeds if f.index is not None}
            by_param: dict[str, list[Read]] = {}
            for index, item in enumerate(params.items):
                if isinstance(item, KeyArg) and item.key != "*":
                    by_param.setdefault(item.param, []).append(
                        Read(item.key, column_at.get(index, ""), item.required))
            for param, reads in by_param.items():
                out.append(replace(base, param=param, reads=tuple(reads)))
    return out


def _keyed_param(text: Text, statement: exp.Expr, execute: ExecuteFact) -> str | None:
    """A column list (INSERT, SET or WHERE) that is a hole over a dict parameter's keys, fed
    its values."""
    found: list[str] = []
    for ident in statement.find_all(exp.Identifier):
        hole = text.hole(ident.name)
        if hole is not None and hole.kind == KEYS and hole.param and \
                _passes_values(execute, hole.param):
            found.extend(p for p in hole.param.split("|") if p not in found)
    return "|".join(found) or None


def _passes_values(execute: ExecuteFact, param: str) -> bool:
    params = execute.params
    if execute.convention is Convention.MANY:
        return True  # a row per dict of the list whose first row gave the column names
    if isinstance(params, ValuesArg):
        return params.param == param
    if isinstance(params, SeqArg):
        return any(
            (isinstance(i, ValuesArg) and i.param == param)
            or (isinstance(i, SpreadArg) and isinstance(i.inner, ValuesArg)
                and i.inner.param == param)
            for i in params.items)
    if isinstance(params, ParamArg):
        return params.name == param  # named placeholders built from the same keys
    return False


def sql_text(execute: ExecuteFact) -> Text | None:
    return execute.sql.text if isinstance(execute.sql, TextArg) else None
