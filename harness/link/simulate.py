"""Replay a project's schema code statically from two starting points, the way SQLite would
run it: an empty database (a fresh install), and the oldest database the code still upgrades
(its CREATE TABLEs without the columns its migrations add, at the user_version those
migrations start from).

Guards are evaluated, not guessed: ``PRAGMA user_version`` comparisons, ``PRAGMA table_info``
membership tests, a SELECT in a ``try`` that fails on an old schema, ``IF NOT EXISTS``. Code
the simulation cannot follow (an unknown condition, a loop over data it cannot see, SQL with
computed parts) stops that replay: it then reports nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlglot import exp

from harness.diagnostics import Location
from harness.link.index import ProjectIndex
from harness.link.model import Model
from harness.python.facts import (
    Arg,
    Cond,
    FileFacts,
    ParamArg,
    ProgramFact,
    RefArg,
    Step,
    TextArg,
    render_params,
)
from harness.python.programs import USER_VERSION_SET
from harness.python.text import Text
from harness.sql.ddl import DdlConflict, SchemaBuilder, table_from_create, table_name
from harness.sql.hints import DDL_HINT
from harness.sql.parse import Statement, parse_sql
from harness.sql.resolve import offset_of, table_refs, unknown_columns
from harness.sql.schema import Schema, Table, fold

MAX_DEPTH = 8
NEGATED = {"<": ">=", "<=": ">", "==": "!=", "!=": "==", ">": "<=", ">=": "<"}
MAX_STEPS = 20_000


class Unknown(Exception):
    """The replay reached code it cannot follow faithfully."""


@dataclass(frozen=True)
class Failure:
    """A statement SQLite would reject on this path."""

    message: str
    where: Location
    table: str
    column: str | None
    guards: tuple[tuple[Cond, bool], ...]  # the conditions (and outcomes) that led here


class Failed(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


@dataclass(frozen=True)
class Op:
    """A CREATE TABLE or ADD COLUMN somewhere in the code, and the guards around it."""

    kind: str  # create, add
    table: str
    column: str
    where: Location
    guards: tuple[tuple[Cond, bool], ...]
    created: Table | None = None  # create: the table as this CREATE declares it


@dataclass(frozen=True)
class Skip:
    """Why an ADD COLUMN did not run on a path: a guard's outcome, or a return before it."""

    where: Location  # the guard, or the return
    cond: Cond | None  # None: a return
    outcome: bool
    version: int  # the version the guard compared (a local's value, or user_version)


@dataclass
class Path:
    """One replay: the schema as it evolves, and why things did or did not run."""

    name: str
    builder: SchemaBuilder
    version: int
    stamped_at: Location | None = None
    created: dict[str, Location] = field(default_factory=dict)
    added: dict[tuple[str, str], Location] = field(default_factory=dict)
    skipped: dict[tuple[str, str], Skip] = field(default_factory=dict)
    failure: Failure | None = None
    steps: int = 0
    at: Location | None = None  # the step running now


@dataclass
class _Frame:
    module: str
    path: str
    params: dict[str, Arg]
    env: dict[str, int | None] = field(default_factory=dict)
    returned: Location | None = None
    loop_control: str | None = None
    guards: tuple[tuple[Cond, bool], ...] = ()
    in_try: int = 0


@dataclass(frozen=True)
class Replay:
    """A root's schema code replayed from both starting points."""

    module: str
    path: str
    program: ProgramFact
    fresh: Path
    upgraded: Path
    start_version: int
    ops: tuple[Op, ...]

    @property
    def upgraded_from(self) -> str:
        """How to name the upgraded starting point in a message."""
        if any(c.kind == "version" for op in self.ops for c, _ in op.guards):
            return f"databases upgraded from user_version {self.start_version}"
        return "existing databases (created by older code)"


Program = tuple[FileFacts, ProgramFact]


class Simulator:
    def __init__(self, files: tuple[FileFacts, ...], index: ProjectIndex, dialect: str) -> None:
        self.index = index
        self.dialect = dialect
        self.programs: dict[tuple[str, str], Program] = {}
        for facts in files:
            for program in facts.programs:
                self.programs[(facts.module, program.function)] = (facts, program)

    # --- roots ------------------------------------------------------------------------------
    def roots(self) -> list[Program]:
        """Programs no other program calls: where schema code starts."""
        called: set[tuple[str, str]] = set()
        for (module, _), (_, program) in self.programs.items():
            for step in _walk_steps(program.steps):
                if step.call is not None:
                    target = self._resolve(module, step)
                    if target is not None:
                        called.add(target)
        return [p for key, p in self.programs.items() if key not in called]

    def _resolve(self, module: str, step: Step) -> tuple[str, str] | None:
        found = self._target(module, step)
        return (found[1][0].module, found[1][1].function) if found else None

    def _target(self, module: str, step: Step) -> tuple[bool, Program] | None:
        """The program a call step runs, and whether ``self`` is bound to its first
        parameter."""
        assert step.call is not None
        target = self.index.resolve_call(module, step.call)
        if target is None:
            return self._constructor(module, step)
        found = self.programs.get((target.module, target.function.qualname))
        return (target.bound, found) if found is not None else None

    def _constructor(self, module: str, step: Step) -> tuple[bool, Program] | None:
        """``Migrator(conn)``: creating an instance runs its class's ``__init__``."""
        assert step.call is not None
        if step.call.callee.root != "name":
            return None
        symbol = self.index.resolve_chain(module, step.call.callee.chain)
        if symbol is None or symbol.kind != "class":
            return None
        for owner, cls in self.index.mro(symbol.module, symbol.name):
            found = self.programs.get((owner, f"{cls.name}.__init__"))
            if found is not None:
                return True, found
            if (owner, f"{cls.name}.__init__") in self.index.functions:
                return None  # an __init__ that runs no schema code
        return None

    def _bind(self, module: str, step: Step, caller: _Frame) -> tuple[Program, _Frame] | None:
        found = self._target(module, step)
        if found is None:
            return None
        bound_self, (facts, program) = found
        params = list(program.params[1:] if bound_self and program.params else program.params)
        bound: dict[str, Arg] = {}
        for name, arg in zip(params, step.args):
            if isinstance(arg, ParamArg):
                passed = caller.params.get(arg.name)
                if passed is not None:
                    bound[name] = passed
            else:
                bound[name] = arg
        frame = _Frame(facts.module, facts.path, bound, guards=caller.guards,
                       in_try=caller.in_try)
        return (facts, program), frame

    # --- one root, both paths ------------------------------------------------------------------
    def replay(self, root: Program) -> Replay | str:
        """Both paths replayed, or why not (for ``dbharness contracts``)."""
        facts, program = root
        try:
            ops = list(self._ops_steps(program.steps, _Frame(facts.module, facts.path, {}), 0,
                                       {(facts.module, program.function)}, ()))
        except Unknown as unknown:
            return f"not replayed: {unknown}"
        if not any(o.kind == "create" for o in ops) or not any(o.kind == "add" for o in ops):
            return "no CREATE TABLE and ADD COLUMN to compare"
        start = _start_version(ops)
        fresh = Path("fresh", SchemaBuilder(self.dialect, strict=True), 0)
        upgraded = Path("upgraded", SchemaBuilder(self.dialect, strict=True,
                                                  schema=_oldest_schema(ops, start)), start)
        for path in (fresh, upgraded):
            frame = _Frame(facts.module, facts.path, {})
            try:
                self._run(program.steps, frame, path, 0, (facts.module, program.function))
            except Failed as failed:
                path.failure = failed.failure
            except Unknown as unknown:
                at = f" at {path.at.path}:{path.at.line}" if path.at is not None else ""
                return f"not replayed: {unknown}{at}"
            except RecursionError:
                return "not replayed: nested too deep"
        return Replay(facts.module, facts.path, program, fresh, upgraded, start, tuple(ops))

    def _run(self, steps: tuple[Step, ...], frame: _Frame, path: Path, depth: int,
             key: tuple[str, str]) -> None:
        for i, step in enumerate(steps):
            if frame.returned is not None:
                self._note_skipped(steps[i:], frame, Skip(frame.returned, None, True,
                                                          path.version), path)
                return
            if frame.loop_control:
                return
            path.steps += 1
            if path.steps > MAX_STEPS:
                raise Unknown(f"more than {MAX_STEPS} steps")
            where = path.at = Location(frame.path, step.line, step.col)
            kind = step.kind
            if kind == "sql":
                self._sql(step, frame, path, where)
            elif kind == "stamp":
                value = frame.env.get(step.var) if step.var else step.version
                if value is None:
                    raise Unknown("a user_version stamp that is not known")
                path.version, path.stamped_at = value, where
            elif kind == "set":
                frame.env[step.var] = step.version
            elif kind == "bump":
                current = frame.env.get(step.var)
                frame.env[step.var] = None if current is None else current + (step.version or 0)
            elif kind == "read":
                frame.env[step.var] = path.version
            elif kind in ("call", "read_call"):
                self._call(step, frame, path, depth, key)
            elif kind == "if":
                assert step.cond is not None
                outcome = self._eval(step.cond, frame, path)
                taken, other = (step.body, step.orelse) if outcome else (step.orelse, step.body)
                compared = path.version
                if step.cond.kind == "version" and step.cond.var != "$db":
                    compared = frame.env.get(step.cond.var) or 0
                self._note_skipped(other, frame, Skip(Location(frame.path, step.cond.line,
                                                               step.cond.col),
                                                      step.cond, outcome, compared), path)
                saved = frame.guards
                frame.guards = (*saved, (step.cond, outcome))
                try:
                    self._run(taken, frame, path, depth, key)
                finally:  # a failure caught by an enclosing try must not keep this guard
                    frame.guards = saved
            elif kind == "try":
                self._try(step, frame, path, depth, key)
            elif kind == "each":
                for item in self._sequence(step):
                    frame.params[step.var] = TextArg(item)
                    self._run(step.body, frame, path, depth, key)
                    if _take_control(frame) == "break" or frame.returned is not None:
                        break
                frame.params.pop(step.var, None)
            elif kind == "loop":
                for iteration in step.body:
                    self._run(iteration.body, frame, path, depth, key)
                    if _take_control(frame) == "break" or frame.returned is not None:
                        break
            elif kind in ("continue", "break"):
                frame.loop_control = kind
            elif kind == "return":
                frame.returned = where
            else:  # raise, opaque
                raise Unknown("a raise" if kind == "raise" else
                              "a loop over data it cannot see, or a while/match")

    def _call(self, step: Step, frame: _Frame, path: Path, depth: int,
              key: tuple[str, str]) -> None:
        bound = self._bind(frame.module, step, frame)
        if bound is None:
            if step.kind == "read_call":
                frame.env[step.var] = None
            return
        (facts, program), inner = bound
        if depth >= MAX_DEPTH or (facts.module, program.function) == key:
            raise Unknown("recursion")
        self._run(program.steps, inner, path, depth + 1, (facts.module, program.function))
        if step.kind == "read_call":
            frame.env[step.var] = path.version if program.returns_version else None

    def _sequence(self, step: Step) -> tuple[Text, ...]:
        ref = step.sql
        items = self.index.sequence(ref.module, ref.name) if isinstance(ref, RefArg) else None
        if items is None:
            raise Unknown("a loop over a list it cannot see")
        return items

    def _try(self, step: Step, frame: _Frame, path: Path, depth: int,
             key: tuple[str, str]) -> None:
        frame.in_try += 1
        try:
            self._run(step.body, frame, path, depth, key)
        except Failed:
            frame.in_try -= 1
            self._run(step.handlers, frame, path, depth, key)
            return
        frame.in_try -= 1
        self._run(step.orelse, frame, path, depth, key)

    def _eval(self, cond: Cond, frame: _Frame, path: Path) -> bool:
        if cond.kind == "all":  # Python's ``and``/``or`` stop early; so does this
            return all(self._eval(part, frame, path) for part in cond.parts)
        if cond.kind == "any":
            return any(self._eval(part, frame, path) for part in cond.parts)
        if cond.kind == "version":
            value = path.version if cond.var == "$db" else frame.env.get(cond.var)
            if value is None:
                raise Unknown(f"`{cond.source}` compares a value it cannot know")
            return _compare(value, cond.op, cond.value)
        if cond.kind == "dbfile":  # the database file exists unless this is a fresh install
            return path.name == "fresh" if cond.negated else path.name != "fresh"
        if cond.kind == "table":
            schema = path.builder.schema
            names = cond.table.split(",")
            exists = len(schema) > 0 if names == ["*"] else any(n in schema for n in names)
            return not exists if cond.negated else exists
        if cond.kind == "column":
            name = cond.table or self._param_text(cond.table_param, frame)
            column = cond.column or self._param_text(cond.column_param, frame)
            table = path.builder.schema.table(name)
            present = table is not None and table.column(column) is not None
            return not present if cond.negated else present
        raise Unknown(f"a condition it cannot evaluate: `{cond.source}`")

    # --- SQL ----------------------------------------------------------------------------------
    @staticmethod
    def _param_text(name: str, frame: _Frame) -> str:
        arg = frame.params.get(name)
        if not isinstance(arg, TextArg) or arg.text.holes:
            raise Unknown(f"parameter {name} is not a known constant")
        return arg.text.text

    def _text(self, arg: Arg | None, frame: _Frame) -> Text | None:
        if isinstance(arg, ParamArg):
            arg = frame.params.get(arg.name)
        text = self.index.constant(arg.module, arg.name) if isinstance(arg, RefArg) else (
            arg.text if isinstance(arg, TextArg) else None)
        if text is None or not text.holes:
            return text
        return render_params(text, frame.params) or text

    def _sql(self, step: Step, frame: _Frame, path: Path, where: Location) -> None:
        text = self._text(step.sql, frame)
        if text is None or text.holes:
            if text is None or DDL_HINT.search(text.text) or frame.in_try:
                raise Unknown("SQL it cannot see (computed, or handed in)")
            return
        parsed = parse_sql(text.text, self.dialect)
        if parsed.errors or parsed.skipped:
            raise Unknown("SQL that does not parse")
        for statement in parsed.statements:
            line, col = text.locate(statement.start)
            self._statement(statement, frame, path, Location(where.path, line, col), text)

    def _statement(self, st: Statement, frame: _Frame, path: Path, where: Location,
                   text: Text) -> None:
        node = st.expression
        stamp = USER_VERSION_SET.match(st.text)
        if stamp:
            path.version, path.stamped_at = int(stamp.group(2)), where
            return
        if isinstance(node, (exp.Create, exp.Alter, exp.Drop)):
            self._ddl(st, frame, path, where, text)
        elif frame.in_try and isinstance(node, (exp.Query, exp.Insert, exp.Update, exp.Delete)):
            schema = path.builder.schema
            missing = [r.name for r in table_refs(node) if r.name not in schema]
            if missing:
                raise Failed(Failure(f"no such table: {missing[0]}", where, missing[0], None,
                                     frame.guards))
            unknown = [r for r in unknown_columns(node, schema, self.dialect) if not r.qualifier]
            if unknown:
                ref = unknown[0]
                raise Failed(Failure(f"no such column: {ref.name}", where, ref.table or "",
                                     ref.name, frame.guards))

    def _ddl(self, st: Statement, frame: _Frame, path: Path, where: Location,
             text: Text) -> None:
        node = st.expression
        name = table_name(node.this) if isinstance(node, (exp.Create, exp.Alter)) else None
        added: list[tuple[str, Location]] = []
        if isinstance(node, exp.Alter) and name:
            for action in node.args.get("actions") or []:
                if isinstance(action, exp.ColumnDef):
                    line, col = text.locate(st.start + (offset_of(action) or 0))
                    added.append((action.name, Location(where.path, line, col)))
        existed = name is not None and name in path.builder.schema
        try:
            path.builder.apply(st)
        except DdlConflict as conflict:
            column = added[0][0] if added else None
            at = added[0][1] if added else where
            raise Failed(Failure(str(conflict), at, name or "", column, frame.guards)) from None
        if isinstance(node, exp.Create) and name and not existed and \
                name in path.builder.schema:
            path.created.setdefault(fold(name), where)
        for column, at in added:
            path.added.setdefault((fold(name or ""), fold(column)), at)

    def _note_skipped(self, steps: tuple[Step, ...], frame: _Frame, why: Skip,
                      path: Path) -> None:
        """The ADD COLUMNs in code not run, and why they were not."""
        for op in self._ops_in(steps, frame):
            if op.kind == "add":
                path.skipped.setdefault((fold(op.table), fold(op.column)), why)

    # --- every CREATE / ADD COLUMN, whatever the branch ------------------------------------
    def _ops_in(self, steps: tuple[Step, ...], frame: _Frame) -> Iterator[Op]:
        try:
            yield from self._ops_steps(steps, frame, 0, set(), ())
        except (Unknown, RecursionError):
            return

    def _ops_steps(self, steps: tuple[Step, ...], frame: _Frame, depth: int,
                   seen: set[tuple[str, str]], guards: tuple[tuple[Cond, bool], ...]
                   ) -> Iterator[Op]:
        for step in steps:
            if step.kind == "sql":
                text = self._text(step.sql, frame)
                if text is not None and not text.holes:
                    yield from _text_ops(text, self.dialect, frame.path, guards)
            elif step.kind in ("call", "read_call") and depth < MAX_DEPTH:
                bound = self._bind(frame.module, step, frame)
                if bound is not None:
                    (facts, program), inner = bound
                    if (facts.module, program.function) not in seen:
                        yield from self._ops_steps(
                            program.steps, inner, depth + 1,
                            seen | {(facts.module, program.function)}, guards)
            elif step.kind == "each":
                for item in self._sequence(step):
                    inner = _Frame(frame.module, frame.path,
                                   {**frame.params, step.var: TextArg(item)})
                    yield from self._ops_steps(step.body, inner, depth, seen, guards)
            elif step.kind == "if" and step.cond is not None:
                yield from self._ops_steps(step.body, frame, depth, seen,
                                           (*guards, (step.cond, True)))
                yield from self._ops_steps(step.orelse, frame, depth, seen,
                                           (*guards, (step.cond, False)))
            else:
                for inner_steps in (step.body, step.handlers, step.orelse):
                    yield from self._ops_steps(inner_steps, frame, depth, seen, guards)


def _take_control(frame: _Frame) -> str | None:
    """The ``break``/``continue`` that ended a loop iteration, cleared."""
    control, frame.loop_control = frame.loop_control, None
    return control


def _walk_steps(steps: tuple[Step, ...]) -> Iterator[Step]:
    for step in steps:
        yield step
        for inner in (step.body, step.orelse, step.handlers):
            yield from _walk_steps(inner)


def _text_ops(text: Text, dialect: str, path: str,
              guards: tuple[tuple[Cond, bool], ...]) -> Iterator[Op]:
    parsed = parse_sql(text.text, dialect)
    for st in parsed.statements:
        node = st.expression
        line, col = text.locate(st.start)
        where = Location(path, line, col)
        if isinstance(node, exp.Create) and str(node.args.get("kind") or "").upper() == "TABLE":
            name = table_name(node.this)
            table = table_from_create(node, dialect, st.without_rowid, st.text, st)
            if name and table.columns_known:
                yield Op("create", name, "", where, guards, table)
        elif isinstance(node, exp.Alter):
            name = table_name(node.this)
            for action in node.args.get("actions") or []:
                if isinstance(action, exp.ColumnDef) and name:
                    line, col = text.locate(st.start + (offset_of(action) or 0))
                    yield Op("add", name, action.name, Location(path, line, col), guards)


def _compare(value: int, op: str, other: int) -> bool:
    return {"<": value < other, "<=": value <= other, "==": value == other,
            "!=": value != other, ">": value > other, ">=": value >= other}[op]


def _holds(guards: tuple[tuple[Cond, bool], ...], version: int) -> bool | None:
    """Do the version guards around an op all hold at ``version``? None: no version guard."""
    outcomes = [_compare(version, c.op, c.value) == want for c, want in guards
                if c.kind == "version"]
    outcomes += [_compare(version, p.op, p.value) for c, want in guards
                 if c.kind == "all" and want for p in c.parts if p.kind == "version"]
    return all(outcomes) if outcomes else None


def _start_version(ops: list[Op]) -> int:
    """The user_version of the oldest database the migrations upgrade: each version-guarded
    ADD COLUMN still runs at ``< 3``: 2, ``== 2``: 2, ``!= 0`` / ``if version:``: 1 (a
    database just before it ran); the smallest of those is before all of them."""
    candidates = []
    for op in ops:
        if op.kind != "add":
            continue
        for outer, want in op.guards:
            # the version parts of ``version < 3 and ...`` bound the version as much
            parts = outer.parts if outer.kind == "all" and want else (outer,)
            for cond in parts:
                if cond.kind != "version":
                    continue
                op_ = cond.op if want else NEGATED[cond.op]
                if op_ == "<":
                    candidates.append(cond.value - 1)
                elif op_ in ("<=", "==", ">="):
                    candidates.append(cond.value)
                elif op_ == ">" or (op_ == "!=" and cond.value == 0):
                    candidates.append(cond.value + 1)
    return max(0, min(candidates)) if candidates else 0


def _oldest_schema(ops: list[Op], version: int) -> Schema:
    """The CREATE TABLEs such a database already ran, without the columns later migrations
    (or probe-guarded ones) add."""
    schema = Schema()
    for op in ops:
        if op.kind == "create" and op.created is not None and not _holds(op.guards, version) \
                and op.created.name not in schema:
            schema = schema.put(op.created)
    for op in ops:
        if op.kind != "add" or _holds(op.guards, version) is False:
            continue  # an ADD COLUMN this version already ran
        table = schema.table(op.table)
        if table is not None and table.column(op.column) is not None:
            schema = schema.put(table.with_columns(tuple(
                c for c in table.columns if c.key != fold(op.column))))
    return schema


def replay_all(model: Model) -> list[tuple[Program, Replay | str]]:
    """Every starting point of the project's schema code, replayed (or why it was not)."""
    if model.index is None or not any(f.programs for f in model.files):
        return []
    simulator = Simulator(model.files, model.index, model.dialect)
    return [(root, simulator.replay(root)) for root in simulator.roots()]
