"""Walk one Python file's AST once and produce its FileFacts.

Function bodies are read in order, the way the code runs: a dict's keys are the ones it has
where it is handed on, the last assignment to a name is the one a call sees, and anything
that cannot be known (a parameter of unknown type, ``**unknown``) is recorded as unknown,
never guessed.
"""

from __future__ import annotations

import ast
import re

from harness.python import orm
from harness.python.context import Scope, attribute_chain, obvious_type
from harness.python.facts import (
    ClassFact,
    FileFacts,
    FunctionFact,
    KeyFact,
)
from harness.python.guards import Guards
from harness.python.programs import ProgramBuilder
from harness.python.records import Records
from harness.python.sites import Calls
from harness.python.strings import (
    Strings,
    _condition,
    _lists,
    _texts,
)
from harness.python.text import Text
from harness.python.values import (
    Alt,
    CallResult,
    DictValue,
    ItemOf,
    LoopKeys,
    ParamValue,
    Seq,
    Spread,
    Value,
    alternative,
    to_arg,
)
from harness.sql.hints import DDL_HINT

SUPPRESS = re.compile(r"#\s*dbharness:\s*ignore(?:\[([A-Za-z0-9_,\- ]+)\])?")


BUILTIN_TYPES = frozenset({
    "dict", "Dict", "list", "List", "str", "int", "float", "bool", "bytes", "Any", "Mapping",
    "MutableMapping", "Sequence", "Iterable", "Optional", "Union", "object", "tuple", "Tuple",
    "set", "Set", "TypedDict", "Connection", "Cursor",
})


MAX_UNROLL = 50  # literal items a loop is walked once each for


def _opens_named_db(node: ast.expr, params: frozenset[str], other_dbs: set[str]) -> bool:
    """``sqlite3.connect(path)`` (``path`` a parameter), or a cursor of such a connection."""
    if not isinstance(node, ast.Call):
        return False
    chain = attribute_chain(node.func)
    if chain[-1:] == ("connect",) and node.args:
        # ``self.db_path`` is the application's own database, not one the caller names
        return any(isinstance(n, ast.Name) and n.id in params and n.id not in ("self", "cls")
                   for n in ast.walk(node.args[0]))
    return len(chain) == 2 and chain[1] == "cursor" and chain[0] in other_dbs


def _ends(body: list[ast.stmt]) -> bool:
    """Does a branch end by leaving (``return``, ``raise``, ``continue``, ``break``)?"""
    return bool(body) and isinstance(body[-1], (ast.Return, ast.Raise, ast.Continue, ast.Break))


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


class Extractor(Guards):
    # --- entry ------------------------------------------------------------------------------
    def run(self) -> FileFacts:
        self._collect_imports(self.tree)
        self._body(self.tree.body, self.module_scope)
        for name, value in self.module_scope.values.items():
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

    # --- statements ---------------------------------------------------------------------------
    def _body(self, body: list[ast.stmt], scope: Scope) -> None:
        for stmt in body:
            self._stmt(stmt, scope)

    def _branch(self, body: list[ast.stmt], scope: Scope) -> None:
        scope.branch += 1
        self._body(body, scope)
        scope.branch -= 1

    def _stmt(self, stmt: ast.stmt, scope: Scope) -> None:
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
                            self.pos(stmt))
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

    def _if(self, stmt: ast.If, scope: Scope) -> None:
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

    def _for(self, stmt: ast.For | ast.AsyncFor, scope: Scope) -> None:
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

    def _loop_body(self, body: list[ast.stmt], scope: Scope) -> None:
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

    def _assign(self, target: ast.expr, value: Value, node: ast.expr, scope: Scope) -> None:
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
                    line, col = self.pos(target.slice)
                    container.add(KeyFact(key, line, col, scope.branch == 0, obvious_type(value)))
                if not self._keys_of(target.slice, scope):
                    container.closed = False
        elif isinstance(target, ast.Attribute):
            chain = attribute_chain(target)
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

    def _augassign(self, stmt: ast.AugAssign, scope: Scope) -> None:
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

    def _delete_key(self, target: ast.expr, scope: Scope) -> None:
        if isinstance(target, ast.Subscript):
            container = self.ev(target.value, scope)
            if isinstance(container, DictValue):
                for key in self._keys_of(target.slice, scope):
                    if scope.branch == 0:
                        container.keys.pop(key, None)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, outer: Scope) -> None:
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
        scope = Scope(qualname, outer.cls if outer.function is None else None, frozenset(names))
        for name in names:
            scope.values[name] = ParamValue(name)
        for a in (*args.posonlyargs, *args.args, *args.kwonlyargs):
            annotation = attribute_chain(a.annotation) if a.annotation is not None else ()
            if annotation and annotation[-1] not in BUILTIN_TYPES:
                scope.param_types[a.arg] = annotation
        for default in (*args.defaults, *[d for d in args.kw_defaults if d is not None]):
            self.ev(default, outer)
        for deco in node.decorator_list:
            self.ev(deco, outer)
        self._body(node.body, scope)
        if "<locals>" not in qualname:
            self._function_nodes.append((qualname, scope.cls, node))
        line, col = self.pos(node)
        self.functions.append(FunctionFact(
            qualname, node.name, scope.cls, tuple(params), kwarg, line, col, tuple(scope.returns),
        ))

    def _class(self, node: ast.ClassDef, outer: Scope) -> None:
        if outer.function is not None or outer.cls is not None:
            return  # nested classes: not modelled
        if self._uses("sqlalchemy", "sqlmodel"):
            ddl = orm.model_ddl(node)
            if ddl:
                line, col = self.pos(node)
                self.ddl[(line, col, ddl)] = Text(ddl, (), (), line, col)
        scope = Scope(None, node.name, frozenset())
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
        line, col = self.pos(node)
        bases = tuple(c for c in (attribute_chain(b) for b in node.bases) if c)
        self.classes.append(ClassFact(node.name, bases, (), line, col))
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._function(stmt, scope)


# The one handler table: every expression node type the walk evaluates, and the layer (module)
# that handles it. A node type not listed is walked for the calls inside it and has no value.
Extractor.HANDLERS = {
    ast.Constant: Strings._ev_Constant,            # strings.py
    ast.JoinedStr: Strings._ev_JoinedStr,          # strings.py: f-strings
    ast.BinOp: Strings._ev_BinOp,                  # strings.py: +, %, and | on records
    ast.IfExp: Strings._ev_IfExp,                  # strings.py
    ast.Name: Records._ev_Name,                    # records.py
    ast.Attribute: Records._ev_Attribute,          # records.py
    ast.Dict: Records._ev_Dict,                    # records.py
    ast.List: Records._ev_List,                    # records.py
    ast.Tuple: Records._ev_Tuple,                  # records.py
    ast.ListComp: Records._ev_ListComp,            # records.py
    ast.GeneratorExp: Records._ev_GeneratorExp,    # records.py
    ast.Subscript: Records._ev_Subscript,          # records.py
    ast.Call: Calls._ev_Call,                      # sites.py: calls and SQL sites
}
