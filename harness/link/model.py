"""Link per-file facts into one project model: schema, SQL sites, writers, bindings."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from sqlglot import exp

from harness.diagnostics import Location
from harness.link import wrappers
from harness.link.contracts import ContractSpec
from harness.link.index import ProjectIndex, Target
from harness.link.writers import KEYED, NAMED, Read, Writer, sql_text, writers_of_execute
from harness.python.calls import drivers_imported
from harness.python.facts import (
    Arg,
    CallArg,
    CallFact,
    ExecuteFact,
    FileFacts,
    ItemArg,
    ParamArg,
    RecordArg,
    RecordFact,
    RecordsArg,
    RefArg,
    SeqArg,
    SpreadArg,
    TextArg,
    render_params,
)
from harness.python.text import PARAM, Text
from harness.sql.ddl import SchemaBuilder, holes_in_values_only, table_name
from harness.sql.hints import DDL_HINT
from harness.sql.history import NUMBERED, natural_key
from harness.sql.memo import written
from harness.sql.parse import DDL, parse_sql
from harness.sql.resolve import offset_of
from harness.sql.schema import Schema, fold

MAX_ROUNDS = 12
ON_COMMIT = re.compile(r"\s+ON\s+COMMIT\s+(DROP|DELETE\s+ROWS|PRESERVE\s+ROWS)(?=\s*;?\s*\Z)",
                       re.IGNORECASE)
"""PostgreSQL's ``CREATE TEMP TABLE ... ON COMMIT DROP`` (CREATE TABLE, "ON COMMIT"): when
the table goes away, not what it holds; sqlglot does not model it, so it is set aside."""


@dataclass(frozen=True)
class SqlSite:
    """SQL the project runs or declares, with where it is."""

    module: str
    path: str
    text: Text
    execute: ExecuteFact | None  # None for DDL constants and .sql files


@dataclass(frozen=True)
class Binding:
    """A record reaches ``writer``, which writes it to ``table``."""

    record: RecordFact
    writer: Writer
    table: str
    call: Location
    how: str


@dataclass(frozen=True)
class Unbound:
    location: Location
    what: str
    reason: str


class NotAnalysed(enum.Enum):
    """Why a SQL site was seen but its SQL not checked (``dbharness contracts`` coverage)."""

    COMPUTED_SQL = "computed SQL"  # the SQL is built at run time from parts not known here
    NO_CALLER = "SQL from a parameter no call supplies"  # a query wrapper nobody calls
    UNKNOWN_DRIVER = "unknown driver"  # a driver's method name, but that driver is not used
    TOO_LARGE = "too large"  # over the parser's size limit (input-skipped)
    NOT_PARSED = "not parsed"  # sqlglot cannot model it (another server's syntax, a hole)


@dataclass(frozen=True)
class Unanalysed:
    """A place that runs SQL whose text could not be checked."""

    location: Location
    reason: NotAnalysed


@dataclass(frozen=True)
class Model:
    files: tuple[FileFacts, ...]
    schema: Schema
    table_locations: dict[str, Location]
    sites: tuple[SqlSite, ...]
    writers: tuple[Writer, ...]
    bindings: tuple[Binding, ...]
    unbound: tuple[Unbound, ...]
    dialect: str
    historical: dict[str, frozenset[str]]  # every column a table ever had, in DDL order
    schema_complete: bool  # no DDL with a computed table or column name
    legacy: tuple[tuple[str, Schema], ...] = ()  # schemas of legacy snapshots, by name
    index: ProjectIndex | None = None  # how calls resolve (the schema-code simulation)
    # SQL sites the linker could not turn into SQL text, with why (coverage.py)
    unanalysed: tuple[Unanalysed, ...] = ()
    # DDL each function runs itself, in order: (path, function) -> ((line, col, SQL), ...)
    local_ddl: Mapping[tuple[str, str], tuple[tuple[int, int, str], ...]] = field(
        default_factory=dict)
    _at: dict[tuple[str, str, int, int, str, int], Schema] = field(
        default_factory=dict, compare=False, repr=False)

    def schema_at(self, site: SqlSite, before: int = 0) -> Schema:
        """The schema a statement sees where it runs: the project's schema, plus the tables
        its own function made earlier and later drops or renames away (``CREATE TEMP TABLE``,
        ``ALTER TABLE t RENAME TO t_old`` in a rebuild), and the tables the same script made
        in its statements before offset ``before`` of ``site.text`` (an ``executescript`` that
        creates ``t_new``, fills it, drops ``t`` and renames ``t_new`` to ``t``). Tables are
        only added, never removed or changed: a DROP on one branch must not hide the table
        from another.

        SQLite: a TEMP table lives until DROP or the connection closes
        (https://sqlite.org/lang_createtable.html); PostgreSQL: until the end of the session
        or, with ``ON COMMIT DROP``, the transaction (CREATE TABLE, "TEMPORARY"). A script's
        statements run one after another (sqlite3 ``executescript``)."""
        execute = site.execute
        if execute is None:
            return self.schema
        steps = self.local_ddl.get((site.path, execute.function)) \
            if execute.function is not None else None
        own = before > 0 and not site.text.unknown_holes and DDL_HINT.search(site.text.text)
        if not steps and not own:
            return self.schema
        key = (site.path, execute.function or "", execute.line, execute.col,
               site.text.text if own else "", before if own else 0)
        found = self._at.get(key)
        if found is not None:
            return found
        builder = SchemaBuilder(self.dialect, strict=False, schema=self.schema)
        for line, col, text in steps or ():
            if (line, col) >= (execute.line, execute.col):
                break
            self._apply_ddl(builder, text)
        if own:
            self._apply_ddl(builder, site.text.text, before)
        out = self.schema
        for table in builder.schema:
            if table.key not in out.tables:
                out = out.put(table)
        self._at[key] = out
        return out

    def _apply_ddl(self, builder: SchemaBuilder, text: str, before: int | None = None) -> None:
        """Apply the DDL statements of ``text`` (those starting before offset ``before``)."""
        for statement in parse_sql(ON_COMMIT.sub("", text), self.dialect).statements:
            if before is not None and statement.start >= before:
                break
            if statement.category in DDL:
                builder.apply(statement)

    def ddl_sites(self) -> list[SqlSite]:
        """Each distinct DDL-bearing SQL string once, in the order the schema is built."""
        return [s for s in in_schema_order(self.sites, revision_order(self.files))
                if not s.text.unknown_holes]


def revision_order(files: Sequence[FileFacts]) -> dict[str, str]:
    """Alembic revision files, keyed to sort in the order their ``down_revision`` chain
    applies them (file names need not sort that way). Only a single linear chain is ordered;
    branches and merges keep file order."""
    revisions: dict[str, str] = {}
    parent: dict[str, str | None] = {}
    for facts in files:
        constants = dict(facts.constants)
        if "revision" in constants:
            rev = constants["revision"].text
            revisions[rev] = facts.path
            down_text = constants.get("down_revision")
            parent[rev] = down_text.text if down_text is not None else None
    roots = [r for r, down in parent.items() if down is None or down not in revisions]
    children: dict[str, list[str]] = {}
    for child, down in parent.items():
        if down is not None:
            children.setdefault(down, []).append(child)
    if len(roots) != 1 or any(len(c) > 1 for c in children.values()):
        return {}
    out: dict[str, str] = {}
    current: str | None = roots[0]
    while current is not None and revisions[current] not in out:
        path = revisions[current]
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        out[path] = f"{folder}/\x00{len(out):06d}"
        current = next(iter(children.get(current, [])), None)
    return out if len(out) == len(revisions) else {}


def project_drivers(files: Sequence[FileFacts]) -> frozenset[str]:
    """The drivers (``calls.Driver`` values) any module of the project imports."""
    tops = frozenset(i.module.split(".")[0] for f in files for i in f.imports)
    return frozenset(d.value for d in drivers_imported(tops))


def _file_order(path: str) -> tuple[object, ...]:
    """Sort key of a file: a numbered step (``3_to_4.sql``, ``0010_x.py``: a name starting with
    a sequence number) sorts by its numbers; any other file by its path."""
    folder, _, name = path.rpartition("/")
    if NUMBERED.search(name):
        return natural_key(path)
    return (folder, (name,))


def in_schema_order(sites: Sequence[SqlSite], order: dict[str, str] | None = None
                    ) -> list[SqlSite]:
    """Each distinct SQL string once (by place and text), in file and line order (Alembic
    revisions in chain order): the order DDL is applied to build the schema. Numbered files
    sort in natural order of their names (``3_to_4.sql`` before ``10_to_11.sql``), as
    numbered upgrade scripts are run."""
    seen: set[tuple[str, int, int, str]] = set()
    out = []
    rank = order or {}
    for site in sorted(sites, key=lambda s: (_file_order(rank.get(s.path, s.path)), s.text.line,
                                             s.text.col)):
        key = (site.path, site.text.line, site.text.col, site.text.text)
        if key not in seen:
            seen.add(key)
            out.append(site)
    return out


def _map_args(target: Target, call: CallFact) -> dict[str, Arg]:
    """Which argument each parameter of the callee receives at this call."""
    fn = target.function
    params = list(fn.params[1:] if target.bound and fn.params else fn.params)
    out: dict[str, Arg] = {}
    for i, (name, arg) in enumerate(zip(params, call.args)):
        if name.startswith("*"):
            # ``def fetch(self, query, *args)``: args is the tuple of the rest
            out[name[1:]] = SeqArg(tuple(call.args[i:]))
            break
        if isinstance(arg, SpreadArg):
            break  # ``f(*rest)``: which parameter gets what is known only at run time
        out[name] = arg
    else:
        star = next((p for p in params[len(call.args):] if p.startswith("*")), None)
        if star is not None and not any(isinstance(a, SpreadArg) for a in call.args):
            out[star[1:]] = SeqArg(())  # nothing left for ``*args``: an empty tuple
    plain = {p.lstrip("*") for p in params}
    for name, arg in call.kwargs:
        if name in plain:
            out[name] = arg
    if fn.kwarg:
        for arg in call.star_kwargs:
            if isinstance(arg, RecordArg) and arg.record.var == "**kwargs":
                keys = tuple(k for k in arg.record.keys if k.name not in plain)
                if keys:
                    out[fn.kwarg] = RecordArg(replace(arg.record, keys=keys))
    return out


class _Linker:
    def __init__(self, files: list[FileFacts], sql_files: list[tuple[str, Text]],
                 dialect: str, contracts: Sequence[ContractSpec] = ()) -> None:
        self.contracts = contracts
        self.files = files
        self.sql_files = sql_files
        self.dialect = dialect
        self.index = ProjectIndex(files)
        self.resolved: list[tuple[str, CallFact, Target, dict[str, Arg]]] = []
        self.unbound: list[Unbound] = []
        self.unanalysed: list[Unanalysed] = []

    def build(self) -> Model:
        for facts in self.index.files.values():
            for call in facts.calls:
                target = self.index.resolve_call(facts.module, call)
                if target is not None:
                    self.resolved.append((facts.module, call, target, _map_args(target, call)))
                # A dict handed to a call that resolves to nothing is not known to reach SQL:
                # it is not an unbound record (``contracts`` lists only dicts that reach SQL).
        sites = self._sites()
        schema, locations, historical, complete = self._schema(sites)
        writers = self._writers(sites)
        bindings = self._bindings(writers, sites)
        bindings.extend(self._explicit(writers))
        all_writers = tuple(w for ws in writers.values() for w in ws)
        for w in all_writers:
            if w.table is None and not any(b.writer == w for b in bindings) and not w.via:
                self.unbound.append(Unbound(
                    Location(w.path, w.line, w.col), f"writer {w.qualname}({w.param})",
                    f"its table comes from parameter '{w.table_param}' and no call passes "
                    "a known table name"))
        return Model(tuple(self.files), schema, locations, tuple(sites), all_writers,
                     tuple(bindings), tuple(self.unbound), self.dialect, historical, complete,
                     index=self.index, local_ddl=_local_ddl(sites),
                     unanalysed=tuple(self.unanalysed))

    # --- SQL sites ---------------------------------------------------------------------------
    def _sites(self) -> list[SqlSite]:
        sites: list[SqlSite] = []
        executors: dict[tuple[str, str], list[ExecuteFact]] = {}
        imported = project_drivers(self.files)
        # a call that resolves to the project's own query wrapper (a function that runs SQL it
        # is handed) is that wrapper's, judged through it, not the driver's method of the same
        # name; a call resolving to a stub (a Protocol's ``...``) stays the driver's
        wrapper_keys = {(f.module, e.function) for f in self.index.files.values()
                        for e in f.executes if isinstance(e.sql, ParamArg) and e.function}
        to_project = {(m, call.line, call.col) for m, call, t, _ in self.resolved
                      if (t.module, t.function.qualname) in wrapper_keys}
        for facts in self.index.files.values():
            for execute in facts.executes:
                if (facts.module, execute.line, execute.col) in to_project:
                    continue
                where = Location(facts.path, execute.line, execute.col)
                if execute.project_wide and execute.driver not in imported:
                    # a distinctive name, but the project never imports its driver
                    self.unanalysed.append(Unanalysed(where, NotAnalysed.UNKNOWN_DRIVER))
                    continue
                path = facts.path
                if isinstance(execute.sql, RefArg):
                    text = self.index.constant(execute.sql.module, execute.sql.name)
                    if text is not None:
                        # the text's positions are in the file that holds the constant
                        home = self.index.find_module(execute.sql.module)
                        path = self.index.files[home].path if home else path
                        execute = replace(execute, sql=TextArg(text))
                if isinstance(execute.sql, TextArg):
                    sites.append(SqlSite(facts.module, path, execute.sql.text, execute))
                elif isinstance(execute.sql, ParamArg) and execute.function:
                    executors.setdefault((facts.module, execute.function), []).append(execute)
                else:
                    self.unanalysed.append(Unanalysed(where, NotAnalysed.COMPUTED_SQL))
            for text in facts.ddl:
                sites.append(SqlSite(facts.module, facts.path, text, None))
        sites.extend(self._executor_calls(executors))
        sites.extend(self._ddl_templates(sites))
        for path, text in self.sql_files:
            sites.append(SqlSite("", path, text, None))
        return sites

    def _ddl_templates(self, sites: list[SqlSite]) -> list[SqlSite]:
        """``def add_column(t, c, ty): execute(f"ALTER TABLE {t} ADD COLUMN {c} {ty}")``:
        each call with constant arguments contributes its DDL to the schema."""
        templates: dict[tuple[str, str], list[Text]] = {}
        for site in sites:
            execute = site.execute
            text = site.text
            if execute is None or execute.function is None or not text.holes or \
                    any(h.kind != PARAM for h in text.holes) or not DDL_HINT.search(text.text):
                continue
            templates.setdefault((site.module, execute.function), []).append(text)
        out: list[SqlSite] = []
        if not templates:
            return out
        for module, call, target, args in self.resolved:
            for text in templates.get((target.module, target.function.qualname), []):
                rendered = render_params(text, args)
                if rendered is not None:
                    facts = self.index.files[module]
                    out.append(SqlSite(module, facts.path,
                                       Text(rendered.text, (), (), call.line, call.col), None))
        return out

    def _constant_at_home(self, module: str, name: str) -> tuple[Text, str] | None:
        """An imported SQL constant and the module whose file holds its text."""
        text = self.index.constant(module, name)
        if text is None:
            return None
        home = self.index.find_module(module)
        return text, home if home is not None and home in self.index.files else ""

    def _executor_calls(self, executors: dict[tuple[str, str], list[ExecuteFact]]
                        ) -> list[SqlSite]:
        """``def run(self, sql, params): self.conn.execute(sql, params)``, called with SQL
        (wrappers.py); calls that hand a wrapper computed SQL are kept for coverage."""
        resolved = [(m, call, (t.module, t.function.qualname), args)
                    for m, call, t, args in self.resolved]
        lifted, dead = wrappers.lift(executors, resolved, self._constant_at_home)
        for module, _home, execute in dead:
            self.unanalysed.append(Unanalysed(
                Location(self.index.files[module].path, execute.line, execute.col),
                NotAnalysed.COMPUTED_SQL))
        called = {t for _, _, t, _ in resolved}
        for (module, _function), executes in executors.items():
            if (module, _function) not in called:
                path = self.index.files[module].path
                for execute in wrappers.one_path_each(executes):
                    self.unanalysed.append(Unanalysed(Location(path, execute.line, execute.col),
                                                      NotAnalysed.NO_CALLER))
        out = []
        for module, home, execute in lifted:
            assert isinstance(execute.sql, TextArg)
            # the text's positions are in the file that holds it (an imported constant's)
            out.append(SqlSite(module, self.index.files[home].path, execute.sql.text, execute))
        return out

    # --- schema ---------------------------------------------------------------------------------
    def _schema(self, sites: list[SqlSite]
                ) -> tuple[Schema, dict[str, Location], dict[str, frozenset[str]], bool]:
        builder = SchemaBuilder(self.dialect, strict=False)
        locations: dict[str, Location] = {}
        historical: dict[str, frozenset[str]] = {}
        complete = True
        for site in in_schema_order(sites, revision_order(self.files)):
            text = site.text
            # Sentinels the rendered text holds (a "?" run leaves none: its place is unknown).
            sentinels = tuple(h.sentinel for h in text.holes if h.sentinel in text.text)
            located = len(sentinels) == len(text.holes)
            statements = [st for st in parse_sql(text.text, self.dialect).statements
                          if st.category in DDL]
            literal_names = {id(st) for st in statements if located and not any(
                s in st.text for s in sentinels)} | {
                id(st) for st in statements if located and holes_in_values_only(
                    st.expression, tuple(s for s in sentinels if s in st.text))}
            if text.holes and DDL_HINT.search(text.text) and not (
                    located and all(any(s in st.text for st in statements
                                        if id(st) in literal_names) for s in sentinels)):
                complete = False  # a computed name may create or alter any table
            for statement in statements:
                if text.unknown_holes and id(statement) not in literal_names:
                    continue
                builder.apply(statement)
                name = table_name(getattr(statement.expression, "this", None))
                table = builder.schema.table(name) if name else None
                if table is not None and text.holes and id(statement) not in literal_names \
                        and not text.touches_hole(name or ""):
                    # a computed column name or definition: the table may have any column
                    table = replace(table, columns_known=False)
                    builder.schema = builder.schema.put(table)
                if table is not None:
                    historical[table.key] = historical.get(table.key, frozenset()) | {
                        c.key for c in table.columns}
                if name and type(statement.expression).__name__ == "Create":
                    ident = statement.expression.this
                    offset = _ident_offset(ident)
                    line, col = site.text.locate(statement.start + (offset or 0))
                    locations.setdefault(fold(name), Location(site.path, line, col))
        return builder.schema, locations, historical, complete

    # --- writers ---------------------------------------------------------------------------------
    def _writers(self, sites: list[SqlSite]) -> dict[tuple[str, str, str], list[Writer]]:
        writers: dict[tuple[str, str, str], list[Writer]] = {}
        for site in sites:
            if site.execute is None:
                continue
            for w in writers_of_execute(site.module, site.path, site.execute, site.text,
                                        self.dialect):
                writers.setdefault((w.module, w.qualname, w.param), []).append(w)
        for _ in range(MAX_ROUNDS):
            if not self._propagate(writers):
                break
        return writers

    def _propagate(self, writers: dict[tuple[str, str, str], list[Writer]]) -> bool:
        changed = False
        for module, call, target, args in self.resolved:
            if call.function is None:
                continue
            for param, arg in args.items():
                if not isinstance(arg, (ParamArg, ItemArg)):
                    continue
                name = arg.name if isinstance(arg, ParamArg) else arg.param
                each = isinstance(arg, ItemArg)
                for w in writers.get((target.module, target.function.qualname, param), []):
                    if each and w.each:
                        continue  # a list of lists: not followed
                    lifted = self._lift(w, module, call, name, args)
                    if lifted is None:
                        continue
                    if each:
                        lifted = replace(lifted, each=True)
                    key = (module, call.function, name)
                    if lifted not in writers.get(key, []) and len(lifted.via) < 10:
                        writers.setdefault(key, []).append(lifted)
                        changed = True
        return changed

    def _lift(self, w: Writer, module: str, call: CallFact, param: str,
              args: dict[str, Arg]) -> Writer | None:
        table, table_param = w.table, w.table_param
        if table is None and table_param is not None:
            passed = args.get(table_param)
            if isinstance(passed, TextArg) and not passed.text.holes:
                table, table_param = passed.text.text, None
            elif isinstance(passed, ParamArg):
                table_param = passed.name
            else:
                return None
        assert call.function is not None
        # path, line and col stay where the SQL runs (the innermost writer's file), so a note
        # that points at the write points at the statement, whichever module lifted it
        return replace(w, module=module, qualname=call.function, param=param,
                       table=table, table_param=table_param, via=(w.qualname, *w.via))

    # --- bindings --------------------------------------------------------------------------------
    def _bindings(self, writers: dict[tuple[str, str, str], list[Writer]],
                  sites: list[SqlSite]) -> list[Binding]:
        out: list[Binding] = []
        for module, call, target, args in self.resolved:
            path = self.index.files[module].path
            here = Location(path, call.line, call.col)
            for param, arg in args.items():
                ws = writers.get((target.module, target.function.qualname, param), [])
                if not ws:
                    continue
                records = self._records(module, call, arg)
                items = self._items(arg)
                for w in ws:
                    table = w.table
                    if table is None and w.table_param is not None:
                        passed = args.get(w.table_param)
                        if isinstance(passed, TextArg) and not passed.text.holes:
                            table = passed.text.text
                    if table is None:
                        for r in (items if w.each else records):
                            self.unbound.append(Unbound(
                                Location(r.path, r.line, r.col), f"record {r.label}",
                                f"reaches {w.label}, but its table (parameter "
                                f"'{w.table_param}') is not a known name at {path}:{call.line}"))
                        continue
                    for r in (items if w.each else records):
                        out.append(Binding(r, w, table, here, target.how))
        out.extend(self._direct(sites))
        return out

    # --- explicit contracts ------------------------------------------------------------------
    def _explicit(self, writers: dict[tuple[str, str, str], list[Writer]]) -> list[Binding]:
        out: list[Binding] = []
        for spec in self.contracts:
            writer = self._contract_writer(spec, writers)
            records = self._contract_records(spec)
            if not records:
                self.unbound.append(Unbound(
                    Location(spec.source, 1, 1), f"contract for {spec.path}",
                    "no record matches it (is the variable assigned a dict and handed on?)"))
            for r in records:
                out.append(Binding(r, writer, spec.table, Location(r.path, r.line, r.col),
                                   "contract"))
        return out

    def _contract_writer(self, spec: ContractSpec,
                         writers: dict[tuple[str, str, str], list[Writer]]) -> Writer:
        if spec.writer:
            module, _, qualname = spec.writer.partition(":")
            found = self.index.find_module(module) or module
            for (mod, qual, _param), ws in writers.items():
                if mod == found and qual == qualname and ws:
                    return replace(ws[0], table=spec.table, table_param=None)
        return Writer("", spec.source, spec.writer or f"contract in {spec.source}", "<contract>",
                      spec.table, None, KEYED, (), 1, 1, "insert")

    def _contract_records(self, spec: ContractSpec) -> list[RecordFact]:
        facts = next((f for f in self.index.files.values() if f.path == spec.path), None)
        if facts is None:
            return []
        seen: dict[tuple[int, int, tuple[str, ...]], RecordFact] = {}

        def keep(r: RecordFact) -> None:
            seen.setdefault((r.line, r.col, tuple(k.name for k in r.keys)), r)

        if spec.variable is not None:
            args: list[Arg] = []
            for call in facts.calls:
                args.extend(call.args)
                args.extend(a for _, a in call.kwargs)
            args.extend(e.params for e in facts.executes if e.params is not None)
            args.extend(a for fn in facts.functions for a in fn.returns)
            for arg in args:
                if isinstance(arg, RecordArg) and arg.record.var == spec.variable:
                    keep(arg.record)
        else:
            for module, call, target, mapped in self.resolved:
                if target.module == facts.module and target.function.qualname == spec.function \
                        and spec.param in mapped:
                    for r in self._records(module, call, mapped[spec.param]):
                        keep(r)
        return list(seen.values())

    def _records(self, module: str, call: CallFact, arg: Arg) -> list[RecordFact]:
        if isinstance(arg, RecordArg):
            return [arg.record]
        if isinstance(arg, RecordsArg):
            return list(arg.records)
        if isinstance(arg, CallArg):
            fake = CallFact(arg.callee, (), (), (), call.function, call.cls, arg.line, arg.col)
            target = self.index.resolve_call(module, fake)
            if target is not None:
                return [r.record for r in target.function.returns if isinstance(r, RecordArg)]
        return []

    @staticmethod
    def _items(arg: Arg) -> list[RecordFact]:
        """The records in a list handed to a parameter whose items are written one by one."""
        if isinstance(arg, RecordsArg):
            return list(arg.records)
        if isinstance(arg, SeqArg):
            return [a.record for a in arg.items if isinstance(a, RecordArg)]
        return []

    def _direct(self, sites: list[SqlSite]) -> list[Binding]:
        """``cur.execute("... VALUES (:a)", {"a": 1})``: the record meets the SQL itself."""
        out: list[Binding] = []
        for site in sites:
            execute = site.execute
            if execute is None or not isinstance(execute.params, (RecordArg, RecordsArg)):
                continue
            records = ([execute.params.record] if isinstance(execute.params, RecordArg)
                       else list(execute.params.records))
            text = sql_text(execute) or site.text
            for statement in parse_sql(text.text, self.dialect).statements:
                if not statement.placeholders.named:
                    continue
                info = written(statement, self.dialect)
                if info.kind not in ("insert", "update"):
                    continue
                if info.table is None or text.hole(info.table) is not None:
                    for r in records:
                        self.unbound.append(Unbound(
                            Location(r.path, r.line, r.col), f"record {r.label}",
                            f"its keys feed the {info.kind.upper()} at {site.path}:"
                            f"{execute.line}, whose table is computed"))
                    continue
                reads = tuple(Read(f.name, f.column, True) for f in info.feeds if f.name)
                extra = statement.placeholders.names - {r.key for r in reads}
                reads += tuple(Read(n, "", True) for n in sorted(extra))
                w = Writer(site.module, site.path, execute.function or "<module>", "<inline>",
                           info.table, None, NAMED, reads, execute.line, execute.col, info.kind)
                if any(h.kind != PARAM for h in text.holes):
                    # The keys name placeholders, and a computed part may hold more of them
                    # (``{db.ts('now')}`` gives ``:now``): only the keys a visible placeholder
                    # reads are judged.
                    seen = {fold(n) for n in statement.placeholders.names}
                    records = [replace(r, keys=tuple(k for k in r.keys if fold(k.name) in seen))
                               for r in records]
                for r in records:
                    out.append(Binding(r, w, info.table,
                                       Location(site.path, execute.line, execute.col), "inline"))
        return out


def _local_ddl(sites: Sequence[SqlSite]
               ) -> dict[tuple[str, str], tuple[tuple[int, int, str], ...]]:
    """The literal DDL each function executes, in source order, for ``Model.schema_at``."""
    out: dict[tuple[str, str], list[tuple[int, int, str]]] = {}
    for site in sites:
        execute = site.execute
        if execute is None or execute.function is None or site.text.unknown_holes or \
                not DDL_HINT.search(site.text.text):
            continue
        out.setdefault((site.path, execute.function), []).append(
            (execute.line, execute.col, site.text.text))
    return {k: tuple(sorted(set(v))) for k, v in out.items()}


def _ident_offset(node: object) -> int | None:
    if isinstance(node, exp.Schema):
        node = node.this
    return offset_of(node) if isinstance(node, exp.Expr) else None


def link(files: list[FileFacts], sql_files: list[tuple[str, Text]], dialect: str,
         contracts: Sequence[ContractSpec] = ()) -> Model:
    return _Linker(files, sql_files, dialect, contracts).build()

