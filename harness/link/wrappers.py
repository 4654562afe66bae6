"""The app's own query wrappers: SQL handed to a function that runs it, to any depth.

``def query(self, sql, args=None)`` that runs ``cur.execute(sql)`` when ``args`` is None and
``cur.execute(sql, args)`` otherwise; ``def one(self, sql, *args): return self.query(sql,
args)``; ``async def fetchrow(self, q, *args): return await self.pool.fetchrow(q, *args)``.
Each call that passes SQL text to such a function becomes a SQL site at that call, with the
parameters the call passes, carried through ``*args`` forwarding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace

from harness.python.facts import (
    Arg,
    CallFact,
    ExecuteFact,
    ParamArg,
    RefArg,
    SeqArg,
    SpreadArg,
    TextArg,
    UnknownArg,
)
from harness.python.text import Text

MAX_DEPTH = 12  # wrapper layers followed (each round lifts one layer to its callers)

Key = tuple[str, str]  # (module, function qualname)
Resolved = tuple[str, CallFact, Key, Mapping[str, Arg]]


def one_path_each(executes: Iterable[ExecuteFact]) -> list[ExecuteFact]:
    """A wrapper's executes of one SQL parameter, minus the parameter-less ones when another
    execute of the same SQL passes parameters: ``if args is None: execute(sql) else:
    execute(sql, args)`` is one site whose parameters are what the caller passes (absent or
    None: none), so the parameter-less path is never judged on its own."""
    items = list(executes)
    with_params = {e.sql.name for e in items if isinstance(e.sql, ParamArg)
                   and e.params is not None}
    return [e for e in items if e.params is not None or not isinstance(e.sql, ParamArg)
            or e.sql.name not in with_params]


def substitute(params: Arg | None, args: Mapping[str, Arg]) -> Arg | None:
    """The wrapper's parameters as the caller's arguments make them: a parameter name is
    what the call passes for it (nothing passed: no parameters), ``*args`` inside a tuple is
    spliced when the call's tuple is known (``f(*xs)`` at the call: of unknown length);
    anything else stays as it is."""
    if isinstance(params, ParamArg):
        return args.get(params.name)
    if isinstance(params, SeqArg):
        items: list[Arg] = []
        for item in params.items:
            if isinstance(item, SpreadArg) and isinstance(item.inner, ParamArg):
                given = args.get(item.inner.name)
                if isinstance(given, SeqArg):
                    items.extend(given.items)
                elif isinstance(given, ParamArg):
                    items.append(SpreadArg(given))
                else:
                    items.append(SpreadArg(UnknownArg()))
            else:
                items.append(item)
        return SeqArg(tuple(items))
    return params


Lifted = tuple[str, str, ExecuteFact]  # (module of the call, module holding the text, fact)


def lift(executors: Mapping[Key, list[ExecuteFact]], resolved: Iterable[Resolved],
         constant: Callable[[str, str], tuple[Text, str] | None]
         ) -> tuple[list[Lifted], list[Lifted]]:
    """(sites, dead ends): each call that hands a wrapper SQL text, as an execute at that
    call; and each call that hands it something not known here (computed SQL), for
    coverage. ``constant(module, name)`` reads an imported SQL constant: its text and the
    module whose file holds it ("" when that is not a project file)."""
    calls = list(resolved)
    sites: list[Lifted] = []
    dead: list[Lifted] = []
    current = {k: one_path_each(v) for k, v in executors.items()}
    seen: set[tuple[str, int, int, str]] = set()
    for _ in range(MAX_DEPTH):
        found: dict[Key, list[ExecuteFact]] = {}
        for module, call, target, args in calls:
            for execute in current.get(target, []):
                assert isinstance(execute.sql, ParamArg)
                sql = args.get(execute.sql.name)
                home = module
                if isinstance(sql, RefArg):
                    found_text = constant(sql.module, sql.name)
                    sql = TextArg(found_text[0]) if found_text is not None else None
                    home = (found_text[1] or module) if found_text is not None else module
                new = replace(execute, sql=sql if sql is not None else UnknownArg(),
                              params=substitute(execute.params, args), function=call.function,
                              cls=call.cls, line=call.line, col=call.col, guarded=False)
                if isinstance(sql, TextArg):
                    sites.append((module, home, new))
                elif isinstance(sql, ParamArg) and sql.name and call.function:
                    mark = (module, call.line, call.col, sql.name)
                    if mark not in seen:
                        seen.add(mark)
                        found.setdefault((module, call.function), []).append(new)
                else:
                    dead.append((module, module, new))
        if not found:
            break
        current = {k: one_path_each(v) for k, v in found.items()}
    return sites, dead
