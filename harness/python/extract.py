"""Walk one Python file's AST once and produce its FileFacts.

Function bodies are read in order, the way the code runs: a dict's keys are the ones it has
where it is handed on, the last assignment to a name is the one a call sees, and anything
that cannot be known (a parameter of unknown type, ``**unknown``) is recorded as unknown,
never guessed.
"""

from __future__ import annotations

import ast
import builtins
import functools
import itertools
import re
import string
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.python import calls, orm
from harness.python.facts import (
    Arg,
    CallArg,
    Callee,
    CallFact,
    ClassFact,
    ExecuteFact,
    FileFacts,
    FunctionFact,
    GuardFact,
    ImportFact,
    ItemArg,
    KeyArg,
    KeyFact,
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
from harness.python.positions import Run, char_col, compress, literal_map, string_pieces
from harness.python.programs import ProgramBuilder
from harness.python.text import KEYS, PARAM, PLACEHOLDERS, UNKNOWN, Hole, Text, hole_text, literal
from harness.python.values import (
    MAX_PATHS,
    Alt,
    CallResult,
    Const,
    DictValue,
    ItemOf,
    KeyRead,
    KeysOf,
    LoopKeys,
    ParamValue,
    PlaceholderRun,
    Ref,
    Seq,
    Spread,
    Value,
    ValuesOf,
    alternative,
    choices,
    leaves,
    resolve,
    to_arg,
)

DDL_HINT = re.compile(
    r"\b(create\s+(temp\w*\s+|virtual\s+)?(table|view)|alter\s+table|drop\s+(table|view))\b",
    re.IGNORECASE,
)
PROBE_HINT = re.compile(r"\s*select\b", re.IGNORECASE)
PRAGMA_INFO_HINT = re.compile(r"\s*pragma\s+(\w+\.)?table_x?info\b", re.IGNORECASE)
ADD_COLUMN_HINT = re.compile(r"\balter\s+table\b.*\badd\b", re.IGNORECASE | re.DOTALL)
SQL_HINT = re.compile(
    r"\b(select|insert|update|delete|create|alter|drop|from|where|values|into|set|join|table|"
    r"replace|returning|conflict|pragma|order|group|primary|default|integer|text|real|"
    r"references|unique)\b", re.IGNORECASE)
NAME_LIKE = re.compile(r"[A-Za-z_][\w.]*\Z")
SUPPRESS = re.compile(r"#\s*dbharness:\s*ignore(?:\[([A-Za-z0-9_,\- ]+)\])?")
PERCENT_SPEC = re.compile(
    r"%(\([^)]*\))?[#0\- +]*(\*|\d+)?(\.(\*|\d+))?[hlL]?([diouxXeEfFgGcrsa%])")
BUILTIN_TYPES = frozenset({
    "dict", "Dict", "list", "List", "str", "int", "float", "bool", "bytes", "Any", "Mapping",
    "MutableMapping", "Sequence", "Iterable", "Optional", "Union", "object", "tuple", "Tuple",
    "set", "Set", "TypedDict", "Connection", "Cursor",
})
STDLIB = frozenset(sys.stdlib_module_names)
BUILTINS = frozenset(dir(builtins))
MAX_UNROLL = 50  # literal items a loop is walked once each for
LIST_GROW = frozenset({"append", "extend"})
LIST_CHANGE = frozenset({"insert", "pop", "remove", "clear"})
CONST_TYPES = {bool: "bool", int: "int", float: "float", str: "str", bytes: "bytes",
               type(None): "none"}


@dataclass
class _Scope:
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


class Extractor:
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
        self._module_scope = _Scope(None, None, frozenset())
        self._function_nodes: list[tuple[str, str | None, ast.FunctionDef | ast.AsyncFunctionDef]]
        self._function_nodes = []
        self._uses_seen: dict[tuple[tuple[str, ...], int], bool] = {}
        # branch points whose test reads a value built along other branches (``if where:``
        # after ``where.append(...)`` in an ``if``): their paths are not independent
        self._dependent: set[int] = set()

    # --- entry ------------------------------------------------------------------------------
    def run(self) -> FileFacts:
        self._collect_imports(self.tree)
        self._body(self.tree.body, self._module_scope)
        for name, value in self._module_scope.values.items():
            if isinstance(value, CallResult) and value.callee.root == "name":
                self.instances.append((name, value.callee.chain))
            if isinstance(value, Text) and not value.holes:
                self.constants[name] = value
            if isinstance(value, Seq) and value.items and all(
                    isinstance(i, Text) and not i.holes for i in value.items) and any(
                    isinstance(i, Text) and DDL_HINT.search(i.text) for i in value.items):
                self.sequences.append((name, tuple(i for i in value.items
                                                   if isinstance(i, Text))))
        for cls, consts in self.class_constants.items():
            for name, text in consts.items():
                self.constants[f"{cls}.{name}"] = text
        self._collect_loose_ddl()
        programs = ProgramBuilder(self, self._function_nodes).build() if (
            self._has_ddl or "user_version" in self.source) else ()
        classes = []
        for fact in self.classes:
            attrs = tuple(sorted(self._class_attrs.get(fact.name, {}).items()))
            classes.append(ClassFact(fact.name, fact.bases, attrs, fact.line, fact.col))
        return FileFacts(
            path=self.path, module=self.module, imports=tuple(self.imports),
            functions=tuple(self.functions), classes=tuple(classes), calls=tuple(self.calls),
            executes=tuple(self.executes), instances=tuple(self.instances),
            constants=tuple(sorted(self.constants.items())), ddl=tuple(self.ddl.values()),
            guards=tuple(self.guards), programs=programs, sequences=tuple(self.sequences),
            suppressions=suppressions(self.lines),
        )

    def _pos(self, node: ast.AST) -> tuple[int, int]:
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

    # --- statements ---------------------------------------------------------------------------
    def _body(self, body: list[ast.stmt], scope: _Scope) -> None:
        for stmt in body:
            self._stmt(stmt, scope)

    def _branch(self, body: list[ast.stmt], scope: _Scope) -> None:
        scope.branch += 1
        self._body(body, scope)
        scope.branch -= 1

    def _stmt(self, stmt: ast.stmt, scope: _Scope) -> None:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if not self._is_downgrade(stmt, scope):
                self._function(stmt, scope)
        elif isinstance(stmt, ast.ClassDef):
            self._class(stmt, scope)
        elif isinstance(stmt, ast.Assign):
            value = self.ev(stmt.value, scope)
            for target in stmt.targets:
                self._assign(target, value, stmt.value, scope)
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            self._assign(stmt.target, self.ev(stmt.value, scope), stmt.value, scope)
        elif isinstance(stmt, ast.AugAssign):
            self._augassign(stmt, scope)
        elif isinstance(stmt, ast.Expr):
            self.ev(stmt.value, scope)
        elif isinstance(stmt, ast.Return):
            if stmt.value is not None:
                scope.returns.append(to_arg(self.ev(stmt.value, scope)))
        elif isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                self._delete_key(target, scope)
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            self._for(stmt, scope)
        elif isinstance(stmt, ast.If):
            self._if(stmt, scope)
        elif isinstance(stmt, ast.While):
            self.ev(stmt.test, scope)
            self._loop_body(stmt.body, scope)
            self._branch(stmt.orelse, scope)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                value = self.ev(item.context_expr, scope)
                if isinstance(item.optional_vars, ast.Name):
                    scope.values[item.optional_vars.id] = value
                    if _opens_named_db(item.context_expr, scope.params, scope.other_dbs):
                        scope.other_dbs.add(item.optional_vars.id)
            self._body(stmt.body, scope)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            start = len(self.executes)
            self._branch(stmt.body, scope)  # type: ignore[attr-defined]
            middle = len(self.executes)
            for handler in stmt.handlers:  # type: ignore[attr-defined]
                self._branch(handler.body, scope)
            self._try_guard(self.executes[start:middle], self.executes[middle:],
                            self._pos(stmt))
            self._branch(stmt.orelse, scope)  # type: ignore[attr-defined]
            self._body(stmt.finalbody, scope)  # type: ignore[attr-defined]
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            if scope.function is not None:
                self._import_stmt(stmt)
        elif isinstance(stmt, ast.Match):
            self.ev(stmt.subject, scope)
            for case in stmt.cases:
                self._branch(case.body, scope)
        else:
            for node in ast.iter_child_nodes(stmt):
                if isinstance(node, ast.expr):
                    self.ev(node, scope)

    def _if(self, stmt: ast.If, scope: _Scope) -> None:
        """Both branches from the same state; afterwards a name whose text or list differs
        holds both, as alternatives of one choice (a branch that returns or raises does not
        reach the code after the ``if``)."""
        self.ev(stmt.test, scope)
        before = scope.values
        start = len(self.executes)
        scope.values = dict(before)
        self._branch(stmt.body, scope)
        self._membership_guard(stmt, scope, self.executes[start:])
        body = scope.values
        scope.values = dict(before)
        self._branch(stmt.orelse, scope)
        orelse = scope.values
        if _ends(stmt.body) and not _ends(stmt.orelse):
            return  # only the else path goes on
        if _ends(stmt.orelse):
            scope.values = body
            return
        key, flipped = _condition(stmt.test)
        choice = scope.conds.setdefault(key, next(self.counter))
        if self._reads_branched(stmt.test, before):
            self._dependent.add(choice)
        merged: dict[str, Value] = {}
        for name in {**body, **orelse}:
            if name not in orelse or name not in body:
                merged[name] = body[name] if name in body else orelse[name]
                continue
            a, b = body[name], orelse[name]
            if a is b:
                merged[name] = a
            elif isinstance(a, (Text, Seq, Alt)) and isinstance(b, (Text, Seq, Alt)):
                # option 0: the test's positive form holds
                merged[name] = self._bounded(
                    alternative(choice, (b, a) if flipped else (a, b)), stmt)
            else:  # anything else: the last assignment the walk saw, as before
                merged[name] = b if b is not before.get(name) else a
        scope.values = merged

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
            line, col = self._pos(node)
            return self._hole(None, line, col)
        return None

    def _for(self, stmt: ast.For | ast.AsyncFor, scope: _Scope) -> None:
        iterable = self.ev(stmt.iter, scope)
        if isinstance(iterable, Seq) and isinstance(stmt.target, ast.Tuple) and \
                0 < len(iterable.items) <= MAX_UNROLL and all(
                    isinstance(i, Seq) and len(i.items) == len(stmt.target.elts)
                    for i in iterable.items) and all(
                    isinstance(e, ast.Name) for e in stmt.target.elts):
            # ``for name, columns in TABLES.items():`` over literal data: once per item.
            for item in iterable.items:
                assert isinstance(item, Seq)
                for elt, value in zip(stmt.target.elts, item.items):
                    assert isinstance(elt, ast.Name)
                    scope.values[elt.id] = value
                self._branch(stmt.body, scope)
            self._branch(stmt.orelse, scope)
            return
        if isinstance(stmt.target, ast.Name):
            if isinstance(iterable, Seq) and iterable.items and all(
                isinstance(i, Text) and not i.holes for i in iterable.items
            ):
                scope.values[stmt.target.id] = LoopKeys(
                    tuple(i.text for i in iterable.items if isinstance(i, Text)))
            elif isinstance(iterable, Seq) and iterable.items and all(
                isinstance(i, DictValue) for i in iterable.items
            ):
                scope.values[stmt.target.id] = iterable.items[0]
            elif isinstance(iterable, ParamValue):
                scope.values[stmt.target.id] = ItemOf(iterable.name)
            else:
                scope.values.pop(stmt.target.id, None)
        self._loop_body(stmt.body, scope)
        self._branch(stmt.orelse, scope)

    def _loop_body(self, body: list[ast.stmt], scope: _Scope) -> None:
        """A loop body, walked once; a list it grows holds any number of the items it adds
        (``for v in values: args.append(v)`` is not one parameter)."""
        before = dict(scope.values)
        self._branch(body, scope)
        for name, old in before.items():
            new = scope.values.get(name)
            if new is old or not (isinstance(old, Seq) and old.mutable):
                continue
            if isinstance(new, Seq) and new.items[:len(old.items)] == old.items:
                added = new.items[len(old.items):]
                scope.values[name] = Seq((*old.items, *(
                    i if isinstance(i, Spread) else Spread(i) for i in added)), True)
            else:
                scope.values[name] = None

    def _assign(self, target: ast.expr, value: Value, node: ast.expr, scope: _Scope) -> None:
        if isinstance(target, ast.Name):
            scope.other_dbs.discard(target.id)
            if _opens_named_db(node, scope.params, scope.other_dbs):
                scope.other_dbs.add(target.id)
            if isinstance(value, DictValue) and value.var is None:
                value.var = target.id
            if isinstance(value, Text):
                self._maybe_ddl(value)
            if isinstance(value, Seq):
                for item in value.items:
                    if isinstance(item, Text):
                        self._maybe_ddl(item)
            scope.values[target.id] = value
        elif isinstance(target, ast.Subscript):
            container = self.ev(target.value, scope)
            if isinstance(container, DictValue):
                for key in self._keys_of(target.slice, scope):
                    line, col = self._pos(target.slice)
                    container.add(KeyFact(key, line, col, scope.branch == 0, _type_of(value)))
                if not self._keys_of(target.slice, scope):
                    container.closed = False
        elif isinstance(target, ast.Attribute):
            chain = _chain(target)
            if chain and chain[0] == "self" and len(chain) == 2 and scope.cls:
                if isinstance(value, CallResult) and value.callee.root == "name":
                    self._class_attrs.setdefault(scope.cls, {})[chain[1]] = value.callee.chain
                scope.values["self." + chain[1]] = value
                if isinstance(value, DictValue):
                    # Read back in later methods: ``self.defaults`` handed on in save().
                    self._class_records.setdefault(scope.cls, {})[chain[1]] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = value.items if isinstance(value, Seq) else ()
            for i, elt in enumerate(target.elts):
                self._assign(elt, items[i] if i < len(items) else None, node, scope)

    def _augassign(self, stmt: ast.AugAssign, scope: _Scope) -> None:
        if not isinstance(stmt.target, ast.Name):
            self.ev(stmt.value, scope)
            return
        right = self.ev(stmt.value, scope)
        left = scope.values.get(stmt.target.id)
        if isinstance(stmt.op, ast.Add) and isinstance(left, (Text, Alt)) and _texts(left):
            scope.values[stmt.target.id] = self._bounded(
                self._concat(left, right, stmt.target, stmt.value), stmt)
        elif isinstance(stmt.op, ast.Add) and isinstance(left, (Seq, Alt)) and \
                isinstance(right, Seq) and _lists(left):
            scope.values[stmt.target.id] = self._grow(left, "extend", [right])
        elif isinstance(stmt.op, ast.BitOr) and isinstance(left, DictValue):
            self._update(left, [right], [], scope)
        else:
            scope.values.pop(stmt.target.id, None)

    def _delete_key(self, target: ast.expr, scope: _Scope) -> None:
        if isinstance(target, ast.Subscript):
            container = self.ev(target.value, scope)
            if isinstance(container, DictValue):
                for key in self._keys_of(target.slice, scope):
                    if scope.branch == 0:
                        container.keys.pop(key, None)

    def _keys_of(self, node: ast.expr, scope: _Scope) -> list[str]:
        value = self.ev(node, scope)
        if isinstance(value, Text) and not value.holes:
            return [value.text]
        if isinstance(value, LoopKeys):
            return list(value.keys)
        return []

    # --- definitions --------------------------------------------------------------------------
    def _is_downgrade(self, node: ast.FunctionDef | ast.AsyncFunctionDef, outer: _Scope) -> bool:
        """An Alembic revision's module-level ``downgrade()`` (or ``downgrade_<name>()`` in a
        multi-database template): it undoes ``upgrade()``, so its DDL (``op.drop_table``, a
        ``DROP TABLE`` string) is no part of the schema at head and its SQL runs against an
        earlier schema (Alembic docs, "Create a Migration Script"). Not walked at all."""
        return outer.function is None and outer.cls is None and \
            node.name.startswith("downgrade") and self._uses("alembic")

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, outer: _Scope) -> None:
        if outer.function is None:
            qualname = f"{outer.cls}.{node.name}" if outer.cls else node.name
        else:
            qualname = f"{outer.function}.<locals>.{node.name}"
        args = node.args
        params = [a.arg for a in (*args.posonlyargs, *args.args)]
        if args.vararg:
            params.append("*" + args.vararg.arg)
        params.extend(a.arg for a in args.kwonlyargs)
        kwarg = args.kwarg.arg if args.kwarg else None
        names = {p.lstrip("*") for p in params} | ({kwarg} if kwarg else set())
        scope = _Scope(qualname, outer.cls if outer.function is None else None, frozenset(names))
        for name in names:
            scope.values[name] = ParamValue(name)
        for a in (*args.posonlyargs, *args.args, *args.kwonlyargs):
            annotation = _chain(a.annotation) if a.annotation is not None else ()
            if annotation and annotation[-1] not in BUILTIN_TYPES:
                scope.param_types[a.arg] = annotation
        for default in (*args.defaults, *[d for d in args.kw_defaults if d is not None]):
            self.ev(default, outer)
        for deco in node.decorator_list:
            self.ev(deco, outer)
        self._body(node.body, scope)
        if "<locals>" not in qualname:
            self._function_nodes.append((qualname, scope.cls, node))
        line, col = self._pos(node)
        self.functions.append(FunctionFact(
            qualname, node.name, scope.cls, tuple(params), kwarg, line, col, tuple(scope.returns),
        ))

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

    def _class(self, node: ast.ClassDef, outer: _Scope) -> None:
        if outer.function is not None or outer.cls is not None:
            return  # nested classes: not modelled
        if self._uses("sqlalchemy", "sqlmodel"):
            ddl = orm.model_ddl(node)
            if ddl:
                line, col = self._pos(node)
                self.ddl[(line, col, ddl)] = Text(ddl, (), (), line, col)
        scope = _Scope(None, node.name, frozenset())
        consts: dict[str, Text] = {}
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(
                stmt.targets[0], ast.Name
            ):
                value = self.ev(stmt.value, scope)
                if isinstance(value, Text):
                    consts[stmt.targets[0].id] = value
                    self._maybe_ddl(value)
                scope.values[stmt.targets[0].id] = value
        self.class_constants[node.name] = consts
        line, col = self._pos(node)
        bases = tuple(c for c in (_chain(b) for b in node.bases) if c)
        self.classes.append(ClassFact(node.name, bases, (), line, col))
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._function(stmt, scope)

    # --- expressions --------------------------------------------------------------------------
    def ev(self, node: ast.expr | None, scope: _Scope) -> Value:
        """Evaluate ``node`` abstractly; record every call it contains."""
        if node is None:
            return None
        method = _DISPATCH.get(type(node))
        if method is not None:
            return method(self, node, scope)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.ev(child, scope)
            elif isinstance(child, ast.comprehension):
                self.ev(child.iter, scope)
        return None

    def _ev_Constant(self, node: ast.Constant, scope: _Scope) -> Value:
        if isinstance(node.value, str):
            if " " in node.value and SQL_HINT.search(node.value):
                return literal(node.value, literal_map(node, self.lines))
            # Not SQL on its own: exact positions are not worth tokenizing the source for.
            line, col = self._pos(node)
            return Text(node.value, (), (), line, col)
        return Const(CONST_TYPES.get(type(node.value), "other"))

    def _ev_Name(self, node: ast.Name, scope: _Scope) -> Value:
        if node.id in scope.values:
            return scope.values[node.id]
        if node.id in self._module_scope.values:
            value = self._module_scope.values[node.id]
            return value if not isinstance(value, DictValue) else value.copy()
        if scope.cls and node.id in self.class_constants.get(scope.cls, {}):
            return self.class_constants[scope.cls][node.id]
        imported = self.import_map.get(node.id)
        if imported is not None and imported.name is not None:
            return Ref(imported.module, imported.name)
        return None

    def _ev_Attribute(self, node: ast.Attribute, scope: _Scope) -> Value:
        chain = _chain(node)
        if chain and len(chain) == 2:
            head, attr = chain
            if head == "self" and scope.function and "self." + attr in scope.values:
                return scope.values["self." + attr]
            stored = self._class_records.get(scope.cls or "", {}).get(attr)
            if head == "self" and stored is not None:
                return stored
            owner = scope.cls if head in ("self", "cls") else head
            if owner and attr in self.class_constants.get(owner, {}):
                return self.class_constants[owner][attr]
            imported = self.import_map.get(head)
            if imported is not None and imported.name is None:
                return Ref(imported.module, attr)
        self.ev(node.value, scope)
        return None

    def _ev_JoinedStr(self, node: ast.JoinedStr, scope: _Scope) -> Value:
        pieces = string_pieces(node, self.lines)
        line, col = self._pos(node)
        holes = [v for v in node.values if isinstance(v, ast.FormattedValue)]
        if pieces is None or sum(1 for p in pieces if p.text is None) != len(holes):
            pieces = None
        out = Text("", (), (), line, col)
        hole_iter = iter(holes)
        if pieces is None:
            for value in node.values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    out = out + Text(value.value, (), (), line, col)
                elif isinstance(value, ast.FormattedValue):
                    out = out + self._hole(self.ev(value.value, scope), line, col)
            return out
        for piece in pieces:
            if piece.text is not None:
                out = out + Text(piece.text, compress(list(piece.chars)), (), line, col)
            else:
                value = next(hole_iter)
                hline, hcol = piece.chars[0]
                out = out + self._hole(self.ev(value.value, scope), hline, hcol)
        return out

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

    def _concat(self, left: Value, right: Value, lnode: ast.expr, rnode: ast.expr) -> Value:
        """``left + right`` on every path: alternatives on either side stay alternatives."""
        if isinstance(left, Alt):
            return Alt(left.choice, tuple(self._concat(o, right, lnode, rnode)
                                          for o in left.options))
        if isinstance(right, Alt):
            return Alt(right.choice, tuple(self._concat(left, o, lnode, rnode)
                                           for o in right.options))
        return self._as_text(left, lnode) + self._as_text(right, rnode)

    def _grow(self, value: Value, attr: str, args: list[Value]) -> Value:
        """A list after ``append``/``extend`` (on every path it may hold); None: not known."""
        if isinstance(value, Alt):
            return Alt(value.choice, tuple(self._grow(o, attr, args) for o in value.options))
        if not isinstance(value, Seq) or len(args) != 1:
            return None
        if attr == "append":
            return Seq((*value.items, args[0]), True)
        extra = args[0]
        if isinstance(extra, Seq):
            return Seq((*value.items, *extra.items), True)
        return Seq((*value.items, Spread(extra)), True)

    def _as_text(self, value: Value, node: ast.expr) -> Text:
        if isinstance(value, Text):
            return value
        line, col = self._pos(node)
        return self._hole(value, line, col)

    def _ev_BinOp(self, node: ast.BinOp, scope: _Scope) -> Value:
        left = self.ev(node.left, scope)
        right = self.ev(node.right, scope)
        if isinstance(node.op, ast.Add) and (isinstance(left, Alt) or isinstance(right, Alt)):
            if _texts(left) or _texts(right):
                return self._bounded(self._concat(left, right, node.left, node.right), node)
            if _lists(left) and isinstance(right, Seq):
                return self._grow(left, "extend", [right])
            return None
        if isinstance(node.op, ast.Add) and (isinstance(left, Text) or isinstance(right, Text)):
            return self._as_text(left, node.left) + self._as_text(right, node.right)
        if isinstance(node.op, ast.Add) and isinstance(left, (Seq, ValuesOf, KeysOf)) and \
                isinstance(right, (Seq, ValuesOf, KeysOf)):
            # list(a.values()) + list(b.values()): any number of items from each
            return Seq(_items(left) + _items(right))
        if isinstance(node.op, ast.Mod) and isinstance(left, Text) and not left.holes:
            return self._percent(left, right, node)
        if isinstance(node.op, ast.Mult) and isinstance(left, (Text, Seq)):
            if isinstance(left, Text) and left.text.strip() == "?":
                return PlaceholderRun("?")
            if isinstance(left, Seq) and len(left.items) == 1 and isinstance(left.items[0], Text):
                return PlaceholderRun(left.items[0].text) if "?" in left.items[0].text or \
                    "%s" in left.items[0].text else None
        if isinstance(node.op, ast.BitOr) and isinstance(left, DictValue):
            merged = left.copy()
            merged.var = None
            self._update(merged, [right], [], scope)
            return merged
        return None

    def _percent(self, fmt: Text, right: Value, node: ast.BinOp) -> Value:
        """Python ``%`` formatting (before the SQL driver sees the string)."""
        args = list(right.items) if isinstance(right, Seq) else [right]
        out = Text("", (), (), fmt.line, fmt.col)
        last, i = 0, 0
        for m in PERCENT_SPEC.finditer(fmt.text):
            out = out + fmt.slice(last, m.start())
            line, col = fmt.locate(m.start())
            if m.group(5) == "%":
                out = out + Text("%", (Run(0, 1, line, col),), (), line, col)
            elif m.group(1):
                out = out + self._hole(None, line, col)
            else:
                out = out + self._hole(args[i] if i < len(args) else None, line, col)
                i += 1
            last = m.end()
        return out + fmt.slice(last, len(fmt.text))

    def _ev_IfExp(self, node: ast.IfExp, scope: _Scope) -> Value:
        """``"DESC" if newest else "ASC"``: two alternatives of one choice. ``1 if
        d.get("k") else 0``: a value computed from key ``k`` alone stands for that key's read
        (the key reaches the SQL, transformed), never a required one."""
        test = self.ev(node.test, scope)
        a, b = self.ev(node.body, scope), self.ev(node.orelse, scope)
        if isinstance(test, KeyRead) and isinstance(a, Const) and isinstance(b, Const):
            return KeyRead(test.param, test.key, False)
        if isinstance(a, (Text, Seq, Alt)) and isinstance(b, (Text, Seq, Alt)):
            key, flipped = _condition(node.test)
            choice = scope.conds.setdefault(key, next(self.counter))
            if self._reads_branched(node.test, scope.values):
                self._dependent.add(choice)
            return self._bounded(alternative(choice, (b, a) if flipped else (a, b)), node)
        return None

    def _ev_Dict(self, node: ast.Dict, scope: _Scope) -> Value:
        line, col = self._pos(node)
        if node.keys and all(k is None for k in node.keys):
            merged = [self.ev(v, scope) for v in node.values]
            if all(isinstance(m, ParamValue) for m in merged):
                # {**values, **keys} of dict parameters: its keys are theirs (upsert helpers)
                return ParamValue("|".join(m.name for m in merged if isinstance(m, ParamValue)))
        record = DictValue(self.path, line, col, function=scope.function)
        for key, value in zip(node.keys, node.values):
            evaluated = self.ev(value, scope)
            if key is None:
                if isinstance(evaluated, DictValue):
                    record.merge(evaluated, True)
                else:
                    record.closed = False
                continue
            k = self.ev(key, scope)
            if isinstance(k, Text) and not k.holes:
                kline, kcol = self._pos(key)
                record.add(KeyFact(k.text, kline, kcol, True, _type_of(evaluated)))
                record.values[k.text] = evaluated
            else:
                record.closed = False
        return record

    def _ev_List(self, node: ast.List | ast.Tuple, scope: _Scope) -> Value:
        items: list[Value] = []
        for elt in node.elts:
            if isinstance(elt, ast.Starred):
                inner = self.ev(elt.value, scope)
                if isinstance(inner, Seq):
                    items.extend(inner.items)
                else:
                    items.append(Spread(inner))
            else:
                items.append(self.ev(elt, scope))
        return Seq(tuple(items), isinstance(node, ast.List))

    _ev_Tuple = _ev_List


    def _ev_ListComp(self, node: ast.ListComp | ast.GeneratorExp, scope: _Scope) -> Value:
        iterable = self.ev(node.generators[0].iter, scope) if node.generators else None
        if isinstance(iterable, ParamValue):
            iterable = KeysOf(iterable.name)  # iterating a dict yields its keys
        target = node.generators[0].target if node.generators else None
        unrolled = self._unroll(node, iterable, target, scope)
        if unrolled is not None:
            return unrolled
        inner = _Scope(scope.function, scope.cls, scope.params, dict(scope.values),
                       dict(scope.param_types), scope.branch)
        pairs = isinstance(iterable, KeysOf) and _is_items_call(node.generators[0].iter)
        if isinstance(iterable, KeysOf) and pairs and isinstance(target, ast.Tuple) and \
                len(target.elts) == 2 and all(isinstance(t, ast.Name) for t in target.elts):
            key, value = target.elts  # ``for k, v in d.items()``: k is the key
            assert isinstance(key, ast.Name) and isinstance(value, ast.Name)
            inner.values[key.id] = KeysOf(iterable.param)
            inner.values.pop(value.id, None)
        elif isinstance(iterable, KeysOf) and pairs and isinstance(target, ast.Name):
            inner.values[target.id] = _ItemOf(iterable.param)  # ``field[0]`` is the key
        elif isinstance(iterable, KeysOf) and isinstance(target, ast.Name):
            inner.values[target.id] = KeysOf(iterable.param)
        elif isinstance(target, ast.Name):
            inner.values.pop(target.id, None)
        elt = self.ev(node.elt, inner)
        if isinstance(elt, DictValue):
            return Seq((elt,))
        if isinstance(iterable, KeysOf):
            if isinstance(elt, Text):
                if isinstance(node.elt, ast.Constant):
                    return PlaceholderRun(elt.text)
                return _KeysTemplate(iterable.param, elt)
            if isinstance(elt, KeysOf):
                return iterable
            if isinstance(elt, KeyRead) or isinstance(node.elt, ast.Subscript):
                return ValuesOf(iterable.param)
        return None

    _ev_GeneratorExp = _ev_ListComp

    def _unroll(self, node: ast.ListComp | ast.GeneratorExp, iterable: Value,
                target: ast.expr | None, scope: _Scope) -> Value:
        """``", ".join(f"{c} {t}" for c, t in COLUMNS.items())`` over a literal sequence:
        evaluate the element once per item, so the text it builds is known."""
        if not isinstance(iterable, Seq) or not iterable.items or len(iterable.items) > 200 \
                or target is None or len(node.generators) != 1 or node.generators[0].ifs:
            return None
        results: list[Value] = []
        for item in iterable.items:
            inner = _Scope(scope.function, scope.cls, scope.params, dict(scope.values),
                           dict(scope.param_types), scope.branch)
            if isinstance(target, ast.Name):
                inner.values[target.id] = item
            elif isinstance(target, ast.Tuple) and isinstance(item, Seq) and \
                    len(item.items) == len(target.elts) and \
                    all(isinstance(e, ast.Name) for e in target.elts):
                for elt_target, value in zip(target.elts, item.items):
                    assert isinstance(elt_target, ast.Name)
                    inner.values[elt_target.id] = value
            else:
                return None
            results.append(self.ev(node.elt, inner))
        if all(isinstance(r, Text) and not r.holes for r in results):
            return Seq(tuple(results))
        return None

    def _ev_Subscript(self, node: ast.Subscript, scope: _Scope) -> Value:
        container = self.ev(node.value, scope)
        if isinstance(container, ParamValue) and isinstance(node.slice, ast.Constant) and \
                isinstance(node.slice.value, int):
            return ParamValue(container.name)  # rows[0] of a list of dicts: the same keys
        keys = self._keys_of(node.slice, scope)
        if isinstance(container, ParamValue) and len(keys) == 1:
            return KeyRead(container.name, keys[0], True)
        if isinstance(container, KeysOf) and isinstance(node.slice, ast.Name):
            return KeyRead(container.param, "*", True)
        if isinstance(container, _ItemOf) and isinstance(node.slice, ast.Constant) and \
                node.slice.value == 0:
            return KeysOf(container.param)  # ``item[0]`` of ``d.items()``: the key
        self.ev(node.slice, scope)
        return None

    def _ev_Call(self, node: ast.Call, scope: _Scope) -> Value:
        func = node.func
        if self._uses("alembic", "sqlalchemy"):
            ddl = orm.alembic_ddl(node) if self._uses("alembic") and _chain(func)[:1] == (
                "op",) else orm.table_ddl(node)
            if ddl:
                line, col = self._pos(node)
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
            if special is not _NOT_SPECIAL:
                return special
        elif isinstance(func, ast.Name):
            special = self._builtin_call(node, func.id, scope)
            if special is not _NOT_SPECIAL:
                return special
        args = [self._argument(a, scope) for a in node.args]
        kwargs = [(k.arg, self.ev(k.value, scope)) for k in node.keywords]
        callee = self._callee(func, scope)
        line, col = self._pos(node)
        if callee is None:
            self.ev(func, scope)
            return None
        site = self._sql_site(node, func) if isinstance(func, ast.Attribute) and \
            func.attr in calls.ALL_NAMES else None
        if site is not None:
            self._execute(node, site, args, kwargs, scope, line, col)
        elif not self._foreign(callee):
            for arg in node.args:
                # ``add_filters(where, args)``: the callee may append to the list
                if isinstance(arg, ast.Name) and _lists(scope.values.get(arg.id)):
                    scope.values[arg.id] = None
        positional = tuple(to_arg(a) for a in args)
        keywords = tuple((k, to_arg(v)) for k, v in kwargs if k is not None)
        stars = tuple(to_arg(v) for k, v in kwargs if k is None)
        every = (*positional, *stars, *(v for _, v in keywords))
        if self._foreign(callee) and not any(isinstance(a, (RecordArg, RecordsArg))
                                             for a in every):
            # ``json.dumps(x)``, ``log.info(...)``: its arguments bind to no project code.
            return CallResult(callee, line, col)
        carries = any(_carries(a, self._foreign) for a in every)
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

    def _argument(self, node: ast.expr, scope: _Scope) -> Value:
        """A call's positional argument; ``*rest`` is a Spread: any number of items, never
        the one argument it is written as (``read(query, *args)``)."""
        if isinstance(node, ast.Starred):
            return Spread(self.ev(node.value, scope))
        return self.ev(node, scope)

    def _foreign(self, callee: Callee) -> bool:
        """A builtin or standard-library callable: never a project helper returning a dict."""
        if callee.root == "name" and len(callee.chain) == 1 and callee.chain[0] in BUILTINS \
                and callee.chain[0] not in self._module_scope.values:
            return True
        return self._stdlib(callee)

    def _stdlib(self, callee: Callee) -> bool:
        """``json.dumps(x, indent=2)``: a standard-library call never takes **fields."""
        head = callee.root_class[0] if callee.root == "instance" and callee.root_class \
            else callee.chain[0]
        imported = self.import_map.get(head)
        if imported is None and callee.root == "name":
            # ``log = logging.getLogger(__name__)`` at module level, then ``log.info(...)``.
            value = self._module_scope.values.get(head)
            if isinstance(value, CallResult) and value.callee.root == "name" and \
                    value.callee.chain[0] != head:
                imported = self.import_map.get(value.callee.chain[0])
        return imported is not None and imported.module.split(".")[0] in STDLIB

    def _kwargs_record(self, node: ast.Call, kwargs: list[tuple[str | None, Value]],
                       scope: _Scope) -> DictValue | None:
        """``insert(table, a=1, b=2)``: the keywords may become a ``**fields`` record."""
        named = [k for k in node.keywords if k.arg is not None]
        if not named:
            return None
        line, col = self._pos(node)
        record = DictValue(self.path, line, col, var="**kwargs", function=scope.function)
        # The keywords of a call are all there at the call, whatever branch it sits in.
        self._update(record, [], [(kw, v) for kw, (_, v) in zip(node.keywords, kwargs)], scope,
                     certain=True)
        return record

    def _drivers(self) -> frozenset[calls.Driver]:
        return calls.drivers_imported(frozenset(i.module.split(".")[0] for i in self.imports))

    def _sql_site(self, node: ast.Call, func: ast.Attribute) -> calls.Site | None:
        """The driver method this call is, by name and what the file imports (calls.py)."""
        first = node.args[0] if node.args else None
        site = calls.recognise(func.attr, self._drivers(),
                               first is not None and self._is_sa_text(first))
        if site is None:
            return None
        receiver = _chain(func.value)
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
        chain = _chain(node.func)
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
        chain = _chain(node.func)
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
                 kwargs: list[tuple[str | None, Value]], scope: _Scope, line: int,
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
        receiver = _chain(node.func.value) if isinstance(node.func, ast.Attribute) else ()
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

    def _callee(self, func: ast.expr, scope: _Scope) -> Callee | None:
        chain = _chain(func)
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
        if head in self._module_scope.values:
            value = self._module_scope.values[head]
            if isinstance(value, CallResult) and value.callee.root == "name":
                return Callee(chain, "name")
            if not isinstance(value, (Ref, type(None))):
                return Callee(chain, "opaque")
        return Callee(chain, "name")

    def _method_call(self, node: ast.Call, func: ast.Attribute, scope: _Scope) -> Value:
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
                line, col = self._pos(node)
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
                line, col = self._pos(node)
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
        return _NOT_SPECIAL

    def _dict_method(self, record: DictValue, attr: str, node: ast.Call,
                     scope: _Scope) -> Value:
        certain = scope.branch == 0
        if attr == "update":
            self._update(record, [self.ev(a, scope) for a in node.args],
                         [(k, self.ev(k.value, scope)) for k in node.keywords], scope)
            return None
        if attr == "setdefault" and node.args:
            value = self.ev(node.args[1], scope) if len(node.args) > 1 else None
            for key in self._keys_of(node.args[0], scope):
                line, col = self._pos(node.args[0])
                record.add(KeyFact(key, line, col, certain, _type_of(value)))
            return value
        if attr in ("pop", "popitem") and node.args:
            for key in self._keys_of(node.args[0], scope):
                if certain:
                    record.keys.pop(key, None)
            return None
        if attr == "copy":
            copy = record.copy()
            copy.var = None
            return copy
        if attr == "keys":
            return None
        return None

    def _update(self, record: DictValue, args: list[Value],
                keywords: list[tuple[ast.keyword, Value]], scope: _Scope,
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
            line, col = self._pos(kw)
            record.add(KeyFact(kw.arg, line, col, certain, _type_of(value)))

    def _builtin_call(self, node: ast.Call, name: str, scope: _Scope) -> Value:
        if name in self._module_scope.values or name in scope.values or name in self.import_map:
            return _NOT_SPECIAL
        if name == "dict":
            line, col = self._pos(node)
            record = DictValue(self.path, line, col, function=scope.function)
            self._update(record, [self.ev(a, scope) for a in node.args],
                         [(k, self.ev(k.value, scope)) for k in node.keywords], scope)
            record.keys = {k: KeyFact(v.name, v.line, v.col, True, v.value_type)
                           for k, v in record.keys.items()}
            return record
        if name in ("tuple", "list", "sorted") and len(node.args) == 1:
            value = self.ev(node.args[0], scope)
            if isinstance(value, ParamValue):
                return KeysOf(value.name)
            if isinstance(value, (KeysOf, ValuesOf, Seq)):
                return value
            return None
        if name == "len" and len(node.args) == 1:
            self.ev(node.args[0], scope)
            return Const("int")
        if name in ("str", "int", "float", "bool") and len(node.args) <= 1:
            for a in node.args:
                self.ev(a, scope)
            return Const(name)
        return _NOT_SPECIAL

    def _join(self, sep: Text, items: Value, node: ast.Call) -> Value:
        line, col = self._pos(node)
        if isinstance(items, KeysOf):
            return self._hole(items, line, col)
        if isinstance(items, ParamValue):
            return self._hole(KeysOf(items.name), line, col)
        if isinstance(items, PlaceholderRun):
            return self._hole(items, line, col)
        if isinstance(items, _KeysTemplate):
            n = next(self.counter)
            sentinel = f"__dbh{n}__"
            keys = {h.sentinel for h in items.template.holes
                    if h.kind == KEYS and h.param == items.param}
            return hole_text(Hole(sentinel, KEYS, items.param),
                             _render_template(items.template.text, sentinel, keys), line, col)
        if isinstance(items, Seq) and all(isinstance(i, Text) for i in items.items):
            out = Text("", (), (), line, col)
            for i, item in enumerate(items.items):
                if i:
                    out = out + sep
                assert isinstance(item, Text)
                out = out + item
            return out
        return self._hole(None, line, col)

    def _format(self, fmt: Text, node: ast.Call, scope: _Scope) -> Value:
        args = [self.ev(a, scope) for a in node.args]
        kwargs = {k.arg: self.ev(k.value, scope) for k in node.keywords if k.arg}
        if fmt.holes:
            return None
        out = Text("", (), (), fmt.line, fmt.col)
        offset, auto = 0, 0
        try:
            parsed = list(string.Formatter().parse(fmt.text))
        except ValueError:
            return None
        for literal_text, field_name, _spec, _conv in parsed:
            raw = literal_text.replace("{", "{{").replace("}", "}}")
            length = len(raw)
            piece = fmt.slice(offset, offset + length)
            out = out + Text(literal_text, piece.runs, (), piece.line, piece.col)
            offset += length
            if field_name is None:
                continue
            line, col = fmt.locate(offset)
            if field_name == "":
                value = args[auto] if auto < len(args) else None
                auto += 1
            elif field_name.isdigit():
                index = int(field_name)
                value = args[index] if index < len(args) else None
            else:
                value = kwargs.get(field_name)
            out = out + self._hole(value, line, col)
            end = fmt.text.find("}", offset)
            offset = end + 1 if end >= 0 else len(fmt.text)
        return out

    # --- migration guards ------------------------------------------------------------------------
    def _try_guard(self, probes: list[ExecuteFact], actions: list[ExecuteFact],
                   block: tuple[int, int]) -> None:
        probe = next((e.sql.text for e in reversed(probes) if isinstance(e.sql, TextArg)
                      and PROBE_HINT.match(e.sql.text.text)), None)
        if probe is None:
            return
        for action in actions:
            if isinstance(action.sql, TextArg) and ADD_COLUMN_HINT.search(action.sql.text.text):
                self.guards.append(GuardFact("try", probe, None, action.sql.text, action.line,
                                             action.col, block))

    def _membership_guard(self, stmt: ast.If, scope: _Scope,
                          actions: list[ExecuteFact]) -> None:
        test = stmt.test
        if scope.last_pragma is None or not (
            isinstance(test, ast.Compare) and len(test.ops) == 1
            and isinstance(test.ops[0], ast.NotIn) and isinstance(test.left, ast.Constant)
            and isinstance(test.left.value, str)
        ):
            return
        for action in actions:
            if isinstance(action.sql, TextArg) and ADD_COLUMN_HINT.search(action.sql.text.text):
                self.guards.append(GuardFact("membership", scope.last_pragma, test.left.value,
                                             action.sql.text, action.line, action.col,
                                             self._pos(stmt)))

    # --- DDL anywhere ---------------------------------------------------------------------------
    def _maybe_ddl(self, text: Text) -> None:
        if not text.unknown_holes and DDL_HINT.search(text.text):
            self.ddl[(text.line, text.col, text.text)] = text

    def _collect_loose_ddl(self) -> None:
        """String literals anywhere (a tuple of migrations run in a loop, say)."""
        if not self._has_ddl:
            return
        skipped = {id(n) for stmt in self.tree.body
                   if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
                   and self._is_downgrade(stmt, self._module_scope) for n in ast.walk(stmt)}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                    DDL_HINT.search(node.value) and id(node) not in skipped:
                text = literal(node.value, literal_map(node, self.lines))
                if not any(t.text.find(node.value) >= 0 and t.line <= node.lineno
                           for t in self.ddl.values()):
                    self.ddl[(text.line, text.col, text.text)] = text


@dataclass(frozen=True)
class _ItemOf:
    """``item`` in ``for item in d.items()`` over a dict parameter: ``item[0]`` is a key."""

    param: str


def _is_items_call(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
        node.func.attr == "items" and not node.args and not node.keywords


@dataclass(frozen=True)
class _KeysTemplate:
    """``f"{k} = ?" for k in d``: a per-key template over a dict parameter's keys."""

    param: str
    template: Text


class _NotSpecial:
    pass


_NOT_SPECIAL: Value = _NotSpecial()


_DISPATCH: dict[type, Any] = {
    getattr(ast, name[4:]): function
    for name, function in vars(Extractor).items()
    if name.startswith("_ev_") and hasattr(ast, name[4:])
}


def _opens_named_db(node: ast.expr, params: frozenset[str], other_dbs: set[str]) -> bool:
    """``sqlite3.connect(path)`` (``path`` a parameter), or a cursor of such a connection."""
    if not isinstance(node, ast.Call):
        return False
    chain = _chain(node.func)
    if chain[-1:] == ("connect",) and node.args:
        # ``self.db_path`` is the application's own database, not one the caller names
        return any(isinstance(n, ast.Name) and n.id in params and n.id not in ("self", "cls")
                   for n in ast.walk(node.args[0]))
    return len(chain) == 2 and chain[1] == "cursor" and chain[0] in other_dbs


def _texts(value: Value) -> bool:
    """Text, or alternatives that are all text."""
    if isinstance(value, Alt):
        return all(_texts(o) for o in value.options)
    return isinstance(value, Text)


def _lists(value: Value) -> bool:
    """A list, or alternatives that are all lists."""
    if isinstance(value, Alt):
        return all(_lists(o) for o in value.options)
    return isinstance(value, Seq) and value.mutable


_NEGATED: dict[type, type] = {ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.Eq: ast.NotEq,
                               ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In}


def _condition(test: ast.expr) -> tuple[str, bool]:
    """A branch test as a key (its source, the positive way round) and whether ``test`` is
    its negation: ``not x`` and ``x``, ``a is None`` and ``a is not None`` share a key."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        key, flipped = _condition(test.operand)
        return key, not flipped
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and \
            type(test.ops[0]) in (ast.IsNot, ast.NotEq, ast.NotIn):
        positive = ast.Compare(test.left, [_NEGATED[type(test.ops[0])]()], test.comparators)
        return ast.unparse(positive), True
    return ast.unparse(test), False


def _ends(body: list[ast.stmt]) -> bool:
    """Does a branch end by leaving (``return``, ``raise``, ``continue``, ``break``)?"""
    return bool(body) and isinstance(body[-1], (ast.Return, ast.Raise, ast.Continue, ast.Break))


def _items(value: Value) -> tuple[Value, ...]:
    if isinstance(value, Seq):
        return value.items
    return (Spread(value),)


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


def _render_template(template: str, sentinel: str, keys: set[str]) -> str:
    """Render one element of a per-key template with the key replaced by a sentinel: every
    place the key stands (``f"{k} = {k} + ?"`` names it twice), else the first hole."""
    if keys:
        return re.sub(r"__dbh\d+__", lambda m: sentinel if m.group(0) in keys else m.group(0),
                      template)
    return re.sub(r"__dbh\d+__", sentinel, template, count=1)


def _chain(node: ast.expr) -> tuple[str, ...]:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return tuple(reversed(parts))
    return ()


def _type_of(value: Value) -> str | None:
    if isinstance(value, Const):
        return value.type
    if isinstance(value, Text):
        return "str"
    return None


def suppressions(lines: list[str]) -> tuple[tuple[int, frozenset[str]], ...]:
    out = []
    for number, line in enumerate(lines, 1):
        if "dbharness" not in line:
            continue
        m = SUPPRESS.search(line)
        if m:
            slugs = frozenset(s.strip() for s in (m.group(1) or "").split(",") if s.strip())
            out.append((number, slugs))
    return tuple(out)
