"""The schema code of a function as steps a simulation can replay: DDL, user_version reads
and stamps, guards it can evaluate, calls, returns.

Only functions that touch the schema get a program (plus, in the same file, the functions that
call them), so ordinary code costs nothing. Anything the steps cannot express faithfully
(a loop over data not known here, a ``while``) becomes ``opaque``: the simulation then says
nothing about that code rather than guess.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from harness.python.calls import SCHEMA_METHODS
from harness.python.facts import (
    Arg,
    Callee,
    CallFact,
    Cond,
    ExecuteFact,
    ParamArg,
    ProgramFact,
    RefArg,
    Step,
    TextArg,
    UnknownArg,
)
from harness.python.text import PARAM, Text
from harness.sql.probes import master_probe as _master_probe

if TYPE_CHECKING:
    from harness.python.context import Context

USER_VERSION_READ = re.compile(r"\s*pragma\s+(\w+\.)?user_version\s*;?\s*\Z", re.IGNORECASE)
USER_VERSION_SET = re.compile(r"\s*pragma\s+(\w+\.)?user_version\s*=\s*(\d+)\s*;?\s*\Z",
                              re.IGNORECASE)
TABLE_INFO = re.compile(r"\s*pragma\s+(?:\w+\.)?table_x?info\s*\(\s*[\"'`\[]?(\w+)",
                        re.IGNORECASE)
SCHEMA_SQL = re.compile(r"\b(create|alter|drop)\s|\buser_version\b", re.IGNORECASE)
DDL_TEXT = re.compile(r"\b(create\s+(temp\w*\s+)?table|alter\s+table|drop\s+table)\b",
                      re.IGNORECASE)
EXECUTE_METHODS = SCHEMA_METHODS
OPS = {ast.Lt: "<", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!=", ast.Gt: ">", ast.GtE: ">="}
FLIP = {"<": ">", "<=": ">=", "==": "==", "!=": "!=", ">": "<", ">=": "<="}
NEGATED = {"<": ">=", "<=": ">", "==": "!=", "!=": "==", ">": "<=", ">=": "<"}
MAX_UNROLL = 1000  # migration tables of long-lived apps run to hundreds
JUMPS = (ast.Return, ast.Raise, ast.Continue, ast.Break)

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
LoopValue = int | Text


def _sql_of(execute: ExecuteFact) -> str | None:
    return execute.sql.text.text if isinstance(execute.sql, TextArg) else None


def schema_relevant(execute: ExecuteFact) -> bool:
    """Does this execute belong to schema code (DDL, user_version, a table_info probe, or SQL
    handed in by a caller)?"""
    text = _sql_of(execute)
    if text is None:
        return isinstance(execute.sql, (ParamArg, RefArg))
    return bool(SCHEMA_SQL.search(text) or TABLE_INFO.match(text))


class ProgramBuilder:
    """Builds the programs of one file from its AST and the extractor's execute facts."""

    def __init__(self, ex: Context, functions: list[tuple[str, str | None, FunctionNode]]
                 ) -> None:
        self.ex = ex
        self.functions = functions
        self.executes: dict[tuple[int, int], list[ExecuteFact]] = {}
        for e in ex.executes:
            self.executes.setdefault((e.line, e.col), []).append(e)
        self.module_names = {n.name for n in ex.tree.body if isinstance(
            n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))} | set(
            ex.module_scope.values) | set(ex.import_map)
        self.ints: dict[str, int] = {}
        self.literals: dict[str, ast.expr] = {}
        for stmt in ex.tree.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
                    isinstance(stmt.targets[0], ast.Name):
                name = stmt.targets[0].id
                if isinstance(stmt.value, ast.Constant) and type(stmt.value.value) is int:
                    self.ints[name] = stmt.value.value
                elif isinstance(stmt.value, (ast.List, ast.Tuple, ast.Dict)):
                    self.literals[name] = stmt.value

    # --- which functions -------------------------------------------------------------------
    def build(self) -> tuple[ProgramFact, ...]:
        # Evaluating arguments with the extractor must not add facts the walk already made.
        calls, executes = len(self.ex.calls), len(self.ex.executes)
        try:
            return self._build()
        finally:
            del self.ex.calls[calls:]
            del self.ex.executes[executes:]

    def _build(self) -> tuple[ProgramFact, ...]:
        executes = {q: list(self._executes_in(node)) for q, _, node in self.functions}
        schema_fns = {q for q, _, node in self.functions
                      if self._touches_schema(node, executes[q])}
        module_steps = self._module_touches_schema()
        if not schema_fns and not module_steps:
            return ()
        # A function that calls schema code in this file is schema code too (init → migrate).
        names = {q.rsplit(".", 1)[-1] for q in schema_fns}
        called = {q: self._called_names(node) for q, _, node in self.functions}
        changed = True
        while changed:
            changed = False
            for qualname, _, _node in self.functions:
                if qualname not in schema_fns and called[qualname] & names:
                    schema_fns.add(qualname)
                    names.add(qualname.rsplit(".", 1)[-1])
                    changed = True
        # ``def run(self, sql): self.conn.execute(sql)``: followed when schema code calls it.
        wrappers = {q for q, found in executes.items() if any(
            isinstance(e.sql, ParamArg) for e in found)}
        out = []
        for qualname, cls, node in self.functions:
            if qualname in schema_fns or qualname in wrappers:
                out.append(self._program(qualname, cls, node))
        if module_steps:
            walk = _Walk(self, None)
            body = [s for s in self.ex.tree.body if not isinstance(
                s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
            walk.db_paths = set().union(*(_connect_paths(s) for s in body))
            steps = walk.block(body)
            if steps:
                out.append(ProgramFact("<module>", None, (), steps))
        return tuple(out)

    @staticmethod
    def _touches_schema(node: FunctionNode, executes: list[ExecuteFact]) -> bool:
        """Runs schema SQL itself (not merely SQL handed in), or hands DDL text to a helper."""
        if any(schema_relevant(e) and not isinstance(e.sql, ParamArg) for e in executes):
            return True
        return any(isinstance(n, ast.Constant) and isinstance(n.value, str) and
                   DDL_TEXT.search(n.value) for n in ast.walk(node))

    def _module_touches_schema(self) -> bool:
        return any(e.function is None and e.cls is None and schema_relevant(e)
                   for e in self.ex.executes)

    def _executes_in(self, node: FunctionNode) -> Iterator[ExecuteFact]:
        for call in ast.walk(node):
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and \
                    call.func.attr in EXECUTE_METHODS:
                yield from self.executes.get(self.ex.pos(call), [])

    @staticmethod
    def _called_names(node: FunctionNode) -> set[str]:
        out = set()
        for call in ast.walk(node):
            if isinstance(call, ast.Call):
                if isinstance(call.func, ast.Name):
                    out.add(call.func.id)
                elif isinstance(call.func, ast.Attribute) and isinstance(
                        call.func.value, ast.Name) and call.func.value.id in ("self", "cls"):
                    out.add(call.func.attr)
        return out

    def _program(self, qualname: str, cls: str | None, node: FunctionNode) -> ProgramFact:
        args = node.args
        params = tuple(a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs))
        walk = _Walk(self, cls)
        walk.params = frozenset(params)
        walk.db_paths = _connect_paths(node)
        steps = walk.block(node.body)
        line, col = self.ex.pos(node)
        return ProgramFact(qualname, cls, params, steps, walk.returns_version, line, col)


class _Walk:
    """One function body, statement by statement."""

    def __init__(self, builder: ProgramBuilder, cls: str | None) -> None:
        self.b = builder
        self.ex = builder.ex
        self.cls = cls
        self.env: dict[str, LoopValue] = {}
        self.version_vars: set[str] = set()
        self.pending_read = False  # ``cur.execute("PRAGMA user_version")`` then fetchone()
        # ``SELECT name FROM sqlite_master WHERE name = 't'``: which tables a probe asks about
        self.pending_probe: tuple[str, ...] | None = None
        self.probe_vars: dict[str, tuple[str, ...]] = {}
        self.each_vars: set[str] = set()  # loop variables over a list of SQL strings
        # the database file's existence: the paths this code connects to, and the locals that
        # hold ``os.path.exists(path)`` (True: the local is true when the file exists)
        self.db_paths: set[str] = set()
        self.exists_vars: dict[str, bool] = {}
        self.connected = False  # connect() creates the file: later checks always find it
        self.pragma_table: tuple[str, str] | None = None  # (table, or a parameter's name)
        self.params: frozenset[str] = frozenset()
        self.returns_version = False
        # calls in an ``if`` test that read a value the test compares (``if current(c) < 2``)
        self.synthetic: list[tuple[ast.expr, Step]] = []

    def block(self, stmts: list[ast.stmt]) -> tuple[Step, ...]:
        out: list[Step] = []
        for i, stmt in enumerate(stmts):
            if isinstance(stmt, ast.If) and not stmt.orelse and stmt.body and isinstance(
                    stmt.body[-1], JUMPS) and i + 1 < len(stmts):
                # ``if fresh: ...; return`` then the rest: the rest is the else branch.
                whole = ast.copy_location(ast.If(test=stmt.test, body=stmt.body,
                                                 orelse=stmts[i + 1:]), stmt)
                out.extend(self.stmt(whole))
                break
            out.extend(self.stmt(stmt))
            if isinstance(stmt, (ast.Return, ast.Raise, ast.Continue, ast.Break)):
                break  # the rest of the block never runs
        return tuple(out)

    def stmt(self, stmt: ast.stmt) -> list[Step]:
        line, col = self.ex.pos(stmt)
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                             ast.Import, ast.ImportFrom, ast.Pass)):
            return []
        if isinstance(stmt, ast.If):
            self.synthetic = []
            cond = self.cond(stmt.test)
            steps = self.calls(stmt.test, skip={id(node) for node, _ in self.synthetic})
            steps.extend(step for _, step in self.synthetic)
            body, orelse = self.block(stmt.body), self.block(stmt.orelse)
            if body or orelse:
                steps.append(Step("if", line, col, cond=cond, body=body, orelse=orelse))
            return steps
        if isinstance(stmt, (ast.For, ast.AsyncFor)):
            return self.loop(stmt)
        if isinstance(stmt, ast.While):
            inner = self.block(stmt.body) + self.block(stmt.orelse)
            return [Step("opaque", line, col)] if inner else []
        if isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            body = self.block(stmt.body)  # type: ignore[attr-defined]
            handlers: tuple[Step, ...] = ()
            for handler in stmt.handlers:  # type: ignore[attr-defined]
                handlers += self.block(handler.body)
            orelse = self.block(stmt.orelse)  # type: ignore[attr-defined]
            steps = [Step("try", line, col, body=body, handlers=handlers, orelse=orelse)] \
                if body or handlers or orelse else []
            return steps + list(self.block(stmt.finalbody))  # type: ignore[attr-defined]
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            steps = []
            for item in stmt.items:
                steps.extend(self.calls(item.context_expr))
            return steps + list(self.block(stmt.body))
        if isinstance(stmt, ast.Return):
            steps = self.calls(stmt.value) if stmt.value is not None else []
            if stmt.value is not None and (self._reads_version(stmt.value) or (
                    isinstance(stmt.value, ast.Name) and stmt.value.id in self.version_vars)):
                self.returns_version = True
            return [*steps, Step("return", line, col)]
        if isinstance(stmt, ast.Raise):
            return [Step("raise", line, col)]
        if isinstance(stmt, ast.Continue):
            return [Step("continue", line, col)]
        if isinstance(stmt, ast.Break):
            return [Step("break", line, col)]
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name) and \
                stmt.target.id in self.version_vars and isinstance(stmt.op, (ast.Add, ast.Sub)):
            delta = self.int_of(stmt.value)
            if delta is not None:  # ``version += 1`` between migration steps
                sign = 1 if isinstance(stmt.op, ast.Add) else -1
                return [Step("bump", line, col, var=stmt.target.id, version=sign * delta)]
            self.version_vars.discard(stmt.target.id)
            return []
        if isinstance(stmt, ast.Match):
            inner = sum((self.block(c.body) for c in stmt.cases), ())
            return [Step("opaque", line, col)] if inner else []
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets: list[ast.expr] = list(stmt.targets) if isinstance(stmt, ast.Assign) \
                else [stmt.target]
            return self.assign(targets, stmt.value, line, col)
        found: list[Step] = []
        for child in ast.iter_child_nodes(stmt):
            if isinstance(child, ast.expr):
                found.extend(self.calls(child))
        return found

    # --- assignments: version reads ------------------------------------------------------------
    def assign(self, targets: list[ast.expr], value: ast.expr, line: int, col: int) -> list[Step]:
        name = _single_name(targets)
        if name in self.version_vars and self.int_of(value) is not None:
            # ``version = 2`` after creating the current schema: the local moves on
            return [Step("set", line, col, var=name, version=self.int_of(value))]
        reads = self._reads_version(value) or (
            self.pending_read and _fetches(value))
        steps = self.calls(value, skip_top=name is not None and not reads)
        for target in targets:
            for node in ast.walk(target):
                if isinstance(node, ast.Name):
                    self.version_vars.discard(node.id)
                    self.env.pop(node.id, None)
        probed = self.probed_tables(value)
        if name is not None:
            self.probe_vars.pop(name, None)
            self.exists_vars.pop(name, None)
        if name is None:
            return steps
        exists = self.file_test(value)
        if exists is not None:
            self.exists_vars[name] = exists
            return steps
        if probed is not None:
            self.probe_vars[name] = probed
            return steps
        if reads:
            self.pending_read = False
            self.version_vars.add(name)
            return [*steps, Step("read", line, col, var=name)]
        if isinstance(value, ast.Call):
            call = self.call_fact(value)
            if call is not None:
                self.version_vars.add(name)  # a helper that may return the user_version
                return [*steps, Step("read_call", line, col, var=name, call=call,
                                     args=self.call_args(value))]
        return steps

    def _reads_version(self, node: ast.expr) -> bool:
        for call in ast.walk(node):
            if isinstance(call, ast.Call) and any(
                    USER_VERSION_READ.match(_sql_of(e) or "") for e in self.executes_at(call)):
                return True
        return False

    # --- calls -------------------------------------------------------------------------------
    def calls(self, node: ast.expr | None, skip_top: bool = False,
              skip: set[int] | None = None) -> list[Step]:
        """Steps for the calls in an expression, innermost first (the order they run)."""
        if node is None:
            return []
        steps: list[Step] = []
        for call in _calls_in_order(node):
            if isinstance(call.func, ast.Attribute) and call.func.attr == "connect":
                self.connected = True
            if (skip_top and call is node) or (skip and id(call) in skip):
                continue
            steps.extend(self.call(call))
        return steps

    def executes_at(self, call: ast.Call) -> list[ExecuteFact]:
        if not (isinstance(call.func, ast.Attribute) and call.func.attr in EXECUTE_METHODS):
            return []
        return self.b.executes.get(self.ex.pos(call), [])

    def call(self, node: ast.Call) -> list[Step]:
        line, col = self.ex.pos(node)
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in EXECUTE_METHODS and node.args:
            return self.execute(node, line, col)
        if isinstance(func, ast.Attribute) and func.attr in ("fetchone", "fetchall"):
            return []
        call = self.call_fact(node)
        if call is None:
            return []
        return [Step("call", line, col, call=call, args=self.call_args(node))]

    def execute(self, node: ast.Call, line: int, col: int) -> list[Step]:
        first = node.args[0]
        text: Text | None = None
        stamped = self.const_str(first)
        if stamped is not None:
            found = USER_VERSION_SET.match(stamped)
            if found:
                return [Step("stamp", line, col, version=int(found.group(2)))]
        stamped_var = self.stamped_var(first)
        if stamped_var:  # f"PRAGMA user_version = {version}": whatever the local holds
            return [Step("stamp", line, col, var=stamped_var)]
        if isinstance(first, ast.Name) and first.id in self.each_vars:
            return [Step("sql", line, col, sql=ParamArg(first.id))]
        if isinstance(first, ast.Name) and isinstance(self.env.get(first.id), Text):
            value = self.env[first.id]
            assert isinstance(value, Text)
            text = value
        facts = self.executes_at(node)
        if text is None:
            if not facts:
                return []
            texts = {_sql_of(e) for e in facts}
            sql = facts[0].sql
            if len(texts) != 1 or not isinstance(sql, (TextArg, ParamArg, RefArg)):
                # SQL computed here (or a loop the extractor unrolled): it could be DDL
                return [Step("opaque", line, col)]
            if not isinstance(sql, TextArg):
                return [Step("sql", line, col, sql=sql)]
            text = sql.text
        if USER_VERSION_READ.match(text.text):
            self.pending_read = True
            return []
        probe = _master_probe(text.text)
        self.pending_probe = probe  # a later fetchone() reads this statement's rows
        if probe is not None:
            return []
        if USER_VERSION_SET.match(text.text) is None and "user_version" in text.text.lower() \
                and text.holes:
            return [Step("stamp", line, col, version=None)]
        info = TABLE_INFO.match(text.text)
        if info:
            hole = text.hole(info.group(1))
            if hole is None:
                self.pragma_table = (info.group(1), "")
            elif hole.kind == PARAM and hole.param:
                self.pragma_table = ("", hole.param)
            return []
        return [Step("sql", line, col, sql=TextArg(text))]

    def stamped_var(self, node: ast.expr) -> str:
        """The version local a ``PRAGMA user_version = {v}`` (f-string or ``%``) writes."""
        head: str | None = None
        var: ast.expr | None = None
        if isinstance(node, ast.JoinedStr) and len(node.values) == 2 and isinstance(
                node.values[0], ast.Constant) and isinstance(node.values[1], ast.FormattedValue):
            head, var = str(node.values[0].value), node.values[1].value
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(
                node.left, ast.Constant) and isinstance(node.left.value, str):
            head, var = node.left.value.replace("%d", "").replace("%s", "").replace(
                "%i", ""), node.right
        if head is None or not isinstance(var, ast.Name) or var.id not in self.version_vars:
            return ""
        return var.id if USER_VERSION_SET.match(head + "0") else ""

    def call_fact(self, node: ast.Call) -> CallFact | None:
        func = node.func
        chain: tuple[str, ...] = ()
        target: ast.expr = func
        while isinstance(target, ast.Attribute):
            chain = (target.attr, *chain)
            target = target.value
        if not isinstance(target, ast.Name):
            return None
        chain = (target.id, *chain)
        if chain[0] == "self" and self.cls:
            callee = Callee(chain, "self")
        elif chain[0] in self.b.module_names and not self.ex.foreign(Callee(chain, "name")):
            callee = Callee(chain, "name")
        else:
            return None  # a local or a parameter: its type is not known here
        line, col = self.ex.pos(node)
        return CallFact(callee, (), (), (), None, self.cls, line, col)

    def call_args(self, node: ast.Call) -> tuple[Arg, ...]:
        out: list[Arg] = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                break
            value = self.env.get(arg.id) if isinstance(arg, ast.Name) else None
            if isinstance(value, Text):
                out.append(TextArg(value))
                continue
            evaluated = self.ex.ev(arg, self.ex.module_scope) if isinstance(
                arg, (ast.Constant, ast.JoinedStr, ast.BinOp)) or (
                isinstance(arg, ast.Name) and arg.id in self.ex.module_scope.values) else None
            out.append(TextArg(evaluated) if isinstance(evaluated, Text) and
                       not evaluated.holes else UnknownArg())
        return tuple(out)

    # --- conditions --------------------------------------------------------------------------
    def cond(self, test: ast.expr) -> Cond:
        line, col = self.ex.pos(test)
        source = (ast.get_source_segment(self.ex.source, test) or "").strip()
        if len(source) > 60:
            source = source[:57] + "..."

        def unknown() -> Cond:
            return Cond("unknown", source, line, col)

        exists = self.file_test(test)
        if exists is not None:  # ``if not os.path.exists(DB_PATH):`` a fresh install
            return Cond("dbfile", source, line, col, negated=not exists)
        probe = self.table_test(test)
        if probe is not None:
            tables, exists = probe
            return Cond("table", source, line, col, table=",".join(tables), negated=not exists)
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            if isinstance(test.operand, ast.Compare):  # ``not (version < 2)``
                inner = self.cond(test.operand)
                if inner.kind == "version":
                    return replace(inner, source=source, line=line, col=col,
                                   op=NEGATED[inner.op])
                if inner.kind == "column":
                    return replace(inner, source=source, line=line, col=col,
                                   negated=not inner.negated)
                return unknown()
            if isinstance(test.operand, (ast.BoolOp, ast.UnaryOp)):
                return unknown()
            var = self.version_ref(test.operand)
            return Cond("version", source, line, col, var, "==", 0) if var else unknown()
        if isinstance(test, ast.BoolOp):  # ``version < 3 and "rating" not in cols``
            parts = tuple(self.cond(v) for v in test.values)
            if any(p.kind == "unknown" for p in parts):
                return unknown()
            kind = "all" if isinstance(test.op, ast.And) else "any"
            return Cond(kind, source, line, col, parts=parts)
        if not isinstance(test, (ast.Compare, ast.BoolOp, ast.UnaryOp)):
            var = self.version_ref(test)  # ``if version:`` — the read itself, not a test of it
            if var:
                return Cond("version", source, line, col, var, "!=", 0)
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
            return unknown()
        left, op, right = test.left, test.ops[0], test.comparators[0]
        if isinstance(op, (ast.In, ast.NotIn)):
            column = left.value if isinstance(left, ast.Constant) and isinstance(
                left.value, str) else ""
            column_param = left.id if isinstance(left, ast.Name) and left.id in self.params \
                else ""
            if (column or column_param) and self.pragma_table and _names_only(right):
                table, table_param = self.pragma_table
                return Cond("column", source, line, col, table=table, column=column,
                            negated=isinstance(op, ast.NotIn), table_param=table_param,
                            column_param=column_param)
            return unknown()
        symbol = OPS.get(type(op))
        if symbol is None:
            return unknown()
        var, number = self.version_ref(left), self.int_of(right)
        if not var:
            var, number, symbol = self.version_ref(right), self.int_of(left), FLIP[symbol]
        if var and number is not None:
            return Cond("version", source, line, col, var, symbol, number)
        return unknown()

    def probed_tables(self, node: ast.expr) -> tuple[str, ...] | None:
        """The tables a ``sqlite_master`` probe asks about, when ``node`` fetches its rows."""
        if not _fetches(node):
            return None
        for call in ast.walk(node):
            if isinstance(call, ast.Call):
                for e in self.executes_at(call):
                    found = _master_probe(_sql_of(e) or "")
                    if found is not None:
                        return found
        return self.pending_probe

    def file_test(self, test: ast.expr) -> bool | None:
        """``os.path.exists(p)`` / ``p.is_file()`` / a local holding it, ``p`` a path this
        code connects to: True when the test holds if the database file exists."""
        holds = True
        while isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            test, holds = test.operand, not holds
        if isinstance(test, ast.Name) and test.id in self.exists_vars:
            return self.exists_vars[test.id] == holds
        key = _exists_path(test)
        if key is None or key not in self.db_paths or self.connected:
            return None
        return holds

    def table_test(self, test: ast.expr) -> tuple[tuple[str, ...], bool] | None:
        """``if row is None`` / ``if not rows`` / ``if row:`` on a sqlite_master probe:
        (the tables, whether the branch runs when one of them exists)."""
        exists = True
        while isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            test, exists = test.operand, not exists
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(
                test.comparators[0], ast.Constant) and test.comparators[0].value is None \
                and isinstance(test.ops[0], (ast.Is, ast.IsNot)):
            exists = exists == isinstance(test.ops[0], ast.IsNot)
            test = test.left
        if isinstance(test, ast.Name) and test.id in self.probe_vars:
            return self.probe_vars[test.id], exists
        tables = self.probed_tables(test) if isinstance(test, ast.Call) else None
        return (tables, exists) if tables is not None else None

    def version_ref(self, node: ast.expr) -> str:
        if isinstance(node, ast.Name) and node.id in self.version_vars:
            return node.id
        if self._reads_version(node):
            return "$db"
        line, col = self.ex.pos(node)
        call: CallFact | None = None
        args: tuple[Arg, ...] = ()
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                node.value.id == "self" and self.cls:
            # ``if self.version < 2`` with ``version`` a property
            call = CallFact(Callee(("self", node.attr), "self"), (), (), (), None, self.cls,
                            line, col)
        elif isinstance(node, ast.Call):  # ``if current(conn) < 2``
            call, args = self.call_fact(node), self.call_args(node)
        if call is None:
            return ""
        var = f"$read{line}:{col}"  # whatever the helper or property returns
        self.synthetic.append((node, Step("read_call", line, col, var=var, call=call,
                                          args=args)))
        return var

    def int_of(self, node: ast.expr) -> int | None:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.Name):
            value = self.env.get(node.id)
            if isinstance(value, int):
                return value
            if node.id not in self.env:
                return self.b.ints.get(node.id)
        return None

    def const_str(self, node: ast.expr) -> str | None:
        """A string whose value is known here (literal, f-string of known ints, ``%``)."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                if isinstance(value, ast.Constant):
                    parts.append(str(value.value))
                elif isinstance(value, ast.FormattedValue):
                    number = self.int_of(value.value)
                    if number is None:
                        return None
                    parts.append(str(number))
            return "".join(parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            fmt, number = self.const_str(node.left), self.int_of(node.right)
            if fmt is not None and number is not None:
                try:
                    return fmt % number
                except (TypeError, ValueError):
                    return None
        if isinstance(node, ast.Name):
            bound = self.env.get(node.id)
            return bound.text if isinstance(bound, Text) else None
        return None

    # --- loops ---------------------------------------------------------------------------------
    def loop(self, stmt: ast.For | ast.AsyncFor) -> list[Step]:
        line, col = self.ex.pos(stmt)
        items = self.literal_items(stmt.iter)
        names = _target_names(stmt.target)
        if items is not None and names is not None and all(len(i) == len(names) for i in items):
            iterations = []
            for item in items:
                saved = dict(self.env)
                self.env.update(zip(names, item))
                iterations.append(Step("iter", line, col, body=self.block(stmt.body)))
                self.env = saved
            if any(i.body for i in iterations):
                return [Step("loop", line, col, body=tuple(iterations))]
            return []
        ref = self._sequence_ref(stmt.iter)
        if ref is not None and isinstance(stmt.target, ast.Name):
            # ``for statement in SCHEMA: conn.execute(statement)``, SCHEMA a list of DDL
            # strings, perhaps imported: resolved when the project is linked
            self.each_vars.add(stmt.target.id)
            body = self.block(stmt.body)
            self.each_vars.discard(stmt.target.id)
            return [Step("each", line, col, sql=ref, var=stmt.target.id, body=body)] \
                if body else []
        inner = self.block(stmt.body) + self.block(stmt.orelse)
        return [Step("opaque", line, col)] if inner else []

    def _sequence_ref(self, node: ast.expr) -> RefArg | None:
        if not isinstance(node, ast.Name) or node.id in self.env:
            return None
        imported = self.ex.import_map.get(node.id)
        if imported is not None and imported.name is not None:
            return RefArg(imported.module, imported.name)
        if any(name == node.id for name, _ in self.ex.sequences):
            return RefArg(self.ex.module, node.id)
        return None

    def literal_items(self, node: ast.expr) -> list[tuple[LoopValue, ...]] | None:
        """The items of a loop over module-level literal data, each as a tuple of values."""
        start = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in ("sorted", "enumerate", "list", "tuple") and node.args:
            if node.func.id == "enumerate":
                start = 0
                given = node.args[1] if len(node.args) > 1 else next(
                    (k.value for k in node.keywords if k.arg == "start"), None)
                if given is not None:
                    start = self.int_of(given)
                    if start is None:
                        return None
            inner = self.literal_items(node.args[0])
            if inner is None:
                return None
            if node.func.id == "sorted":
                try:
                    inner = sorted(inner, key=lambda t: tuple(
                        v if isinstance(v, int) else v.text for v in t))
                except TypeError:
                    return None
            if start is not None:
                if any(len(item) != 1 for item in inner):
                    return None  # ``for i, (a, b) in enumerate(...)``: not followed
                return [(start + i, item[0]) for i, item in enumerate(inner)]
            return inner
        items_call = False
        base = node
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr == "items" and not node.args:
            items_call, base = True, node.func.value
        if not isinstance(base, ast.Name) or base.id not in self.b.literals:
            return None
        data = self.b.literals[base.id]
        out: list[tuple[LoopValue, ...]] = []
        if isinstance(data, ast.Dict):
            if not items_call:
                return None
            for key_node, value_node in zip(data.keys, data.values):
                k, v = self.literal(key_node), self.literal(value_node)
                if k is None or v is None:
                    return None
                out.append((k, v))
        else:
            if items_call:
                return None
            for element in data.elts:  # type: ignore[attr-defined]
                parts = element.elts if isinstance(element, ast.Tuple) else [element]
                values = [self.literal(p) for p in parts]
                if any(v is None for v in values):
                    return None
                out.append(tuple(v for v in values if v is not None))
        return out if len(out) <= MAX_UNROLL else None

    def literal(self, node: ast.expr | None) -> LoopValue | None:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if node is None:
            return None
        value = self.ex.ev(node, self.ex.module_scope)
        return value if isinstance(value, Text) and not value.holes else None


PATH_WRAPPERS = frozenset({"str", "Path", "fspath", "abspath", "expanduser"})


def _path_key(node: ast.expr) -> str:
    """The same path however it is wrapped: ``str(p)``, ``Path(p)``, ``os.fspath(p)``."""
    while isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords and (
            (isinstance(node.func, ast.Name) and node.func.id in PATH_WRAPPERS) or
            (isinstance(node.func, ast.Attribute) and node.func.attr in PATH_WRAPPERS)):
        node = node.args[0]
    return ast.dump(node)


def _connect_paths(node: ast.AST) -> set[str]:
    """The paths ``sqlite3.connect(...)`` opens anywhere in this code."""
    out = set()
    for call in ast.walk(node):
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and \
                call.func.attr == "connect" and call.args:
            out.add(_path_key(call.args[0]))
    return out


def _exists_path(node: ast.expr) -> str | None:
    """``os.path.exists(p)``, ``os.path.isfile(p)``, ``p.exists()``, ``p.is_file()``."""
    if not isinstance(node, ast.Call) or node.keywords:
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else (
        func.id if isinstance(func, ast.Name) else "")
    if name in ("exists", "isfile") and len(node.args) == 1:
        return _path_key(node.args[0])
    if name in ("exists", "is_file") and not node.args and isinstance(func, ast.Attribute):
        return _path_key(func.value)
    return None


def _single_name(targets: list[ast.expr]) -> str | None:
    if len(targets) != 1:
        return None
    target = targets[0]
    if isinstance(target, (ast.Tuple, ast.List)) and len(target.elts) == 1:
        target = target.elts[0]
    return target.id if isinstance(target, ast.Name) else None


def _fetches(node: ast.expr) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and
               n.func.attr in ("fetchone", "fetchall") for n in ast.walk(node))


def _names_only(node: ast.expr) -> bool:
    """``cols`` or ``[r[1] for r in rows]``: a collection, not a function call's verdict."""
    return isinstance(node, (ast.Name, ast.ListComp, ast.SetComp, ast.Set, ast.List,
                             ast.Attribute, ast.Call))


def _target_names(target: ast.expr) -> list[str] | None:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple) and all(isinstance(e, ast.Name) for e in target.elts):
        return [e.id for e in target.elts]  # type: ignore[attr-defined]
    return None


def _calls_in_order(node: ast.expr) -> list[ast.Call]:
    """Calls in evaluation order: arguments and receivers before the call itself."""
    out: list[ast.Call] = []

    def visit(n: ast.AST) -> None:
        if isinstance(n, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
                          ast.GeneratorExp)) and n is not node:
            if not isinstance(n, ast.Lambda):
                for child in ast.iter_child_nodes(n):
                    visit(child)
            return
        for child in ast.iter_child_nodes(n):
            visit(child)
        if isinstance(n, ast.Call):
            out.append(n)

    visit(node)
    return out
