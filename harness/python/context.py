"""The walk's context: one file's state, its scopes, imports and the expression dispatch.

:class:`Context` holds what the walk of one module accumulates (the facts lists, the import
map, the module scope) and the helpers every layer uses (positions, holes, bounded values,
the dispatch :meth:`Context.ev` through the one handler table ``HANDLERS`` that
``harness.python.extract`` fills). :class:`Scope` is one function's (or the module's) values.
The layers above it, in order: strings -> records -> sites -> guards -> extract.
"""

from __future__ import annotations

import ast
import builtins
import functools
import itertools
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from harness.python import calls
from harness.python.facts import (
    Arg,
    Callee,
    CallFact,
    ClassFact,
    ExecuteFact,
    FunctionFact,
    GuardFact,
    ImportFact,
    KeyFact,
)
from harness.python.positions import Run, char_col
from harness.python.text import KEYS, PARAM, PLACEHOLDERS, UNKNOWN, Hole, Text, hole_text
from harness.python.values import (
    MAX_PATHS,
    Alt,
    CallResult,
    Const,
    DictValue,
    KeysOf,
    LoopKeys,
    ParamValue,
    PlaceholderRun,
    Ref,
    Seq,
    Spread,
    Value,
    choices,
    leaves,
)
from harness.sql.hints import DDL_HINT

STDLIB = frozenset(sys.stdlib_module_names)


BUILTINS = frozenset(dir(builtins))


@dataclass
class Scope:
    function: str | None
    cls: str | None
    params: frozenset[str]
    values: dict[str, Value] = field(default_factory=dict)
    param_types: dict[str, tuple[str, ...]] = field(default_factory=dict)
    branch: int = 0
    last_pragma: Text | None = None  # the latest PRAGMA table_info run here
    returns: list[Arg] = field(default_factory=list)
    # locals holding a connection (or its cursor) this function opens to a database its
    # caller names: ``sqlite3.connect(path)`` with ``path`` a parameter (Firefox's places.db)
    other_dbs: set[str] = field(default_factory=set)
    # branch points by the test they make: two ``if since is not None:`` in one function
    # take the same path (the text grown in one, its parameter in the other)
    conds: dict[str, int] = field(default_factory=dict)


def attribute_chain(node: ast.expr) -> tuple[str, ...]:
    """``a.b.c`` as ("a", "b", "c"); () when the root is not a plain name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return tuple(reversed(parts))
    return ()


def obvious_type(value: Value) -> str | None:
    """The type ("int", "str", ...) of a literal or a string value; else None."""
    if isinstance(value, Const):
        return value.type
    if isinstance(value, Text):
        return "str"
    return None


class Context:
    # node type -> its handler: the one table, filled in harness.python.extract
    HANDLERS: ClassVar[dict[type, Callable[..., Value]]] = {}

    def __init__(self, path: str, module: str, source: str, tree: ast.Module) -> None:
        self.path = path
        self.module = module
        self.source = source
        self.lines = source.splitlines() or [""]
        self.tree = tree
        self.counter = itertools.count()
        self.imports: list[ImportFact] = []
        self.import_map: dict[str, ImportFact] = {}
        self.functions: list[FunctionFact] = []
        self.classes: list[ClassFact] = []
        self.calls: list[CallFact] = []
        self.executes: list[ExecuteFact] = []
        self.instances: list[tuple[str, tuple[str, ...]]] = []
        self.constants: dict[str, Text] = {}
        self.class_constants: dict[str, dict[str, Text]] = {}
        self.ddl: dict[tuple[int, int, str], Text] = {}
        self.guards: list[GuardFact] = []
        self.sequences: list[tuple[str, tuple[Text, ...]]] = []  # SCHEMA = ["CREATE ...", ...]
        self._class_attrs: dict[str, dict[str, tuple[str, ...]]] = {}
        self._class_records: dict[str, dict[str, DictValue]] = {}
        self.module_scope = Scope(None, None, frozenset())
        self._function_nodes: list[tuple[str, str | None, ast.FunctionDef | ast.AsyncFunctionDef]]
        self._function_nodes = []
        self._uses_seen: dict[tuple[tuple[str, ...], int], bool] = {}
        # branch points whose test reads a value built along other branches (``if where:``
        # after ``where.append(...)`` in an ``if``): their paths are not independent
        self._dependent: set[int] = set()

    def pos(self, node: ast.AST) -> tuple[int, int]:
        lineno = getattr(node, "lineno", 1)
        line = self.lines[lineno - 1] if 0 < lineno <= len(self.lines) else ""
        return lineno, char_col(line, getattr(node, "col_offset", 0)) + 1

    # --- imports ------------------------------------------------------------------------------
    def _collect_imports(self, tree: ast.Module) -> None:
        """Module-level imports first (a function may use a name imported below it); imports
        inside functions are added as the walk meets them."""
        todo: list[ast.stmt] = list(tree.body)
        while todo:
            node = todo.pop()
            if isinstance(node, (ast.If, ast.Try)) or type(node).__name__ == "TryStar":
                for field in ("body", "orelse", "finalbody"):
                    todo.extend(getattr(node, field, []))
                for handler in getattr(node, "handlers", []):
                    todo.extend(handler.body)
                continue
            self._import_stmt(node)

    def _import_stmt(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                target = alias.name if alias.asname else alias.name.split(".")[0]
                self._import(ImportFact(local, target, None))
        elif isinstance(node, ast.ImportFrom):
            base = self._absolute(node.module, node.level)
            for alias in node.names:
                if alias.name != "*":
                    self._import(ImportFact(alias.asname or alias.name, base, alias.name))

    def _import(self, fact: ImportFact) -> None:
        self.imports.append(fact)
        self.import_map.setdefault(fact.local, fact)

    def _absolute(self, module: str | None, level: int) -> str:
        if level == 0:
            return module or ""
        parts = self.module.split(".")
        is_package = self.path.endswith("__init__.py")
        keep = len(parts) - level + (1 if is_package else 0)
        base = parts[: max(keep, 0)]
        return ".".join([*base, module] if module else base)

    @staticmethod
    def _reads_branched(test: ast.expr, values: dict[str, Value]) -> bool:
        """Does ``test`` read a value built along branches or a loop (``if where:``)?"""
        for node in ast.walk(test):
            if isinstance(node, ast.Name):
                value = values.get(node.id)
                if choices(value) or (isinstance(value, Seq) and any(
                        isinstance(i, Spread) for i in value.items)):
                    return True
        return False

    def _bounded(self, value: Value, node: ast.AST) -> Value:
        """Alternatives beyond MAX_PATHS are not spelled out: the text is a hole, a list is
        not known."""
        if leaves(value) <= MAX_PATHS:
            return value
        if isinstance(value, Alt) and all(isinstance(o, (Text, Alt)) for o in value.options):
            line, col = self.pos(node)
            return self._hole(None, line, col)
        return None

    def _keys_of(self, node: ast.expr, scope: Scope) -> list[str]:
        value = self.ev(node, scope)
        if isinstance(value, Text) and not value.holes:
            return [value.text]
        if isinstance(value, LoopKeys):
            return list(value.keys)
        return []

    # --- definitions --------------------------------------------------------------------------
    def _is_downgrade(self, node: ast.FunctionDef | ast.AsyncFunctionDef, outer: Scope) -> bool:
        """An Alembic revision's module-level ``downgrade()`` (or ``downgrade_<name>()`` in a
        multi-database template): it undoes ``upgrade()``, so its DDL (``op.drop_table``, a
        ``DROP TABLE`` string) is no part of the schema at head and its SQL runs against an
        earlier schema (Alembic docs, "Create a Migration Script"). Not walked at all."""
        return outer.function is None and outer.cls is None and \
            node.name.startswith("downgrade") and self._uses("alembic")

    @functools.cached_property
    def _has_ddl(self) -> bool:
        """Any CREATE/ALTER/DROP TABLE text in the file? (The regex alone scans slowly; most
        files lack even the words.)"""
        low = self.source.lower()
        return ("table" in low or "view" in low) and DDL_HINT.search(self.source) is not None

    def _uses(self, *packages: str) -> bool:
        key = (packages, len(self.imports))  # imports inside functions arrive during the walk
        found = self._uses_seen.get(key)
        if found is None:
            found = self._uses_seen[key] = any(
                imp.module.split(".")[0] in packages for imp in self.imports)
        return found

    # --- expressions --------------------------------------------------------------------------
    def ev(self, node: ast.expr | None, scope: Scope) -> Value:
        """Evaluate ``node`` abstractly; record every call it contains."""
        if node is None:
            return None
        method = self.HANDLERS.get(type(node))
        if method is not None:
            return method(self, node, scope)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.ev(child, scope)
            elif isinstance(child, ast.comprehension):
                self.ev(child.iter, scope)
        return None

    def _hole(self, value: Value, line: int, col: int) -> Text:
        """Text for an interpolated value: its text when known, else a marked hole."""
        if isinstance(value, Text):
            return Text(value.text, tuple(Run(r.start, r.length, line, col) for r in value.runs[:1])
                        if value.runs else (Run(0, 1, line, col),), value.holes, line, col)
        n = next(self.counter)
        if isinstance(value, ParamValue):
            return hole_text(Hole(f"__dbh{n}__", PARAM, value.name), f"__dbh{n}__", line, col)
        if isinstance(value, KeysOf):
            return hole_text(Hole(f"__dbh{n}__", KEYS, value.param), f"__dbh{n}__", line, col)
        if isinstance(value, PlaceholderRun):
            return hole_text(Hole(f"__dbh{n}__", PLACEHOLDERS), "?", line, col)
        return hole_text(Hole(f"__dbh{n}__", UNKNOWN), f"__dbh{n}__", line, col)

    def foreign(self, callee: Callee) -> bool:
        """A builtin or standard-library callable: never a project helper returning a dict."""
        if callee.root == "name" and len(callee.chain) == 1 and callee.chain[0] in BUILTINS \
                and callee.chain[0] not in self.module_scope.values:
            return True
        return self._stdlib(callee)

    def _stdlib(self, callee: Callee) -> bool:
        """``json.dumps(x, indent=2)``: a standard-library call never takes **fields."""
        head = callee.root_class[0] if callee.root == "instance" and callee.root_class \
            else callee.chain[0]
        imported = self.import_map.get(head)
        if imported is None and callee.root == "name":
            # ``log = logging.getLogger(__name__)`` at module level, then ``log.info(...)``.
            value = self.module_scope.values.get(head)
            if isinstance(value, CallResult) and value.callee.root == "name" and \
                    value.callee.chain[0] != head:
                imported = self.import_map.get(value.callee.chain[0])
        return imported is not None and imported.module.split(".")[0] in STDLIB

    def _drivers(self) -> frozenset[calls.Driver]:
        return calls.drivers_imported(frozenset(i.module.split(".")[0] for i in self.imports))

    def _callee(self, func: ast.expr, scope: Scope) -> Callee | None:
        chain = attribute_chain(func)
        if not chain:
            return Callee((func.attr,), "opaque") if isinstance(func, ast.Attribute) else None
        head = chain[0]
        if head == "self" and scope.cls:
            return Callee(chain, "self")
        if head in scope.param_types:
            return Callee(chain[1:] or chain, "instance", scope.param_types[head])
        local = scope.values.get(head) if head in scope.values else None
        if head in scope.values:
            if isinstance(local, CallResult) and local.callee.root == "name":
                return Callee(chain[1:] or chain, "instance", local.callee.chain)
            if isinstance(local, Ref):
                return Callee((local.name, *chain[1:]), "name", ()) if local.module == \
                    self.module else Callee(chain, "name")
            if scope.function is not None or not isinstance(local, CallResult):
                return Callee(chain, "opaque")
        if head in self.module_scope.values:
            value = self.module_scope.values[head]
            if isinstance(value, CallResult) and value.callee.root == "name":
                return Callee(chain, "name")
            if not isinstance(value, (Ref, type(None))):
                return Callee(chain, "opaque")
        return Callee(chain, "name")

    def _update(self, record: DictValue, args: list[Value],
                keywords: list[tuple[ast.keyword, Value]], scope: Scope,
                certain: bool | None = None) -> None:
        certain = scope.branch == 0 if certain is None else certain
        for value in args:
            if isinstance(value, DictValue):
                record.merge(value, certain)
            else:
                record.closed = False
        for kw, value in keywords:
            if kw.arg is None:
                if isinstance(value, DictValue):
                    record.merge(value, certain)
                else:
                    record.closed = False
                continue
            line, col = self.pos(kw)
            record.add(KeyFact(kw.arg, line, col, certain, obvious_type(value)))

    # --- DDL anywhere ---------------------------------------------------------------------------
    def _maybe_ddl(self, text: Text) -> None:
        if not text.unknown_holes and DDL_HINT.search(text.text):
            self.ddl[(text.line, text.col, text.text)] = text
