"""Facts extracted from one Python file: pure data, no AST, cacheable (picklable)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.python.calls import Convention
from harness.python.text import PARAM, Text


@dataclass(frozen=True)
class KeyFact:
    name: str
    line: int
    col: int
    certain: bool = True  # False: added in a branch or loop, so only maybe present
    value_type: str | None = None  # "int", "str", "bool", "float", "bytes", "none" when obvious


@dataclass(frozen=True)
class RecordFact:
    """A dict the code builds, as it stands where it is handed on."""

    path: str
    line: int
    col: int
    var: str | None
    keys: tuple[KeyFact, ...]
    closed: bool  # every key is known (no unknown ``**merge`` / ``update(x)``)
    function: str | None = None

    def key(self, name: str) -> KeyFact | None:
        low = name.lower()
        for k in self.keys:
            if k.name.lower() == low:
                return k
        return None

    @property
    def label(self) -> str:
        return self.var or "dict"


@dataclass(frozen=True)
class Callee:
    """What a call names. ``root`` says how its first name resolves: ``name`` (module scope),
    ``self`` (the enclosing class), ``instance`` (a local bound to ``root_class(...)``),
    ``opaque`` (a parameter or expression whose type is unknown)."""

    chain: tuple[str, ...]
    root: str = "name"
    root_class: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.chain[-1]

    def dotted(self) -> str:
        return ".".join(self.chain)


@dataclass(frozen=True)
class RecordArg:
    record: RecordFact


@dataclass(frozen=True)
class ParamArg:
    name: str


@dataclass(frozen=True)
class TextArg:
    text: Text


@dataclass(frozen=True)
class KeyArg:
    param: str
    key: str
    required: bool


@dataclass(frozen=True)
class ItemArg:
    """One item of a list parameter: ``for row in rows: insert(row)``."""

    param: str


@dataclass(frozen=True)
class ValuesArg:
    param: str


@dataclass(frozen=True)
class CallArg:
    callee: Callee
    line: int
    col: int


@dataclass(frozen=True)
class ConstArg:
    type: str


@dataclass(frozen=True)
class SeqArg:
    items: tuple[Arg, ...]


@dataclass(frozen=True)
class RecordsArg:
    """A list of dicts (``executemany``)."""

    records: tuple[RecordFact, ...]


@dataclass(frozen=True)
class RefArg:
    """A name imported from another module (a SQL constant, usually)."""

    module: str
    name: str


@dataclass(frozen=True)
class UnknownArg:
    pass


@dataclass(frozen=True)
class SpreadArg:
    """``*x`` inside a tuple or list: any number of items."""

    inner: Arg


Arg = (RecordArg | ParamArg | TextArg | KeyArg | ValuesArg | CallArg | ConstArg | SeqArg
       | RecordsArg | RefArg | UnknownArg | SpreadArg | ItemArg)


def render_params(text: Text, args: Mapping[str, Arg]) -> Text | None:
    """``f"ALTER TABLE {table} ADD COLUMN {column} {kind}"`` with the constants a caller passes
    for those parameters; None when a hole is anything but such a constant."""
    rendered = text.text
    for hole in text.holes:
        given = args.get(hole.param or "") if hole.kind == PARAM else None
        if not isinstance(given, TextArg) or given.text.holes:
            return None
        rendered = rendered.replace(hole.sentinel, given.text.text)
    return Text(rendered, (), (), text.line, text.col)


@dataclass(frozen=True)
class CallFact:
    callee: Callee
    args: tuple[Arg, ...]
    kwargs: tuple[tuple[str, Arg], ...]
    star_kwargs: tuple[Arg, ...]
    function: str | None
    cls: str | None
    line: int
    col: int


@dataclass(frozen=True)
class ExecuteFact:
    method: str  # the method called: execute, executemany, fetchrow, run, ...
    sql: Arg  # TextArg when known, ParamArg when handed in, RefArg when imported
    params: Arg | None
    function: str | None
    cls: str | None
    line: int
    col: int
    guarded: bool = False  # inside try/if: may be a probe for an old schema
    other_db: bool = False  # on a connection to a database the caller names, opened here
    convention: Convention = Convention.ONE  # how ``params`` reaches the SQL (calls.py)
    driver: str = "dbapi"  # the library whose method this is (calls.Driver values)
    project_wide: bool = False  # a site only if the project imports ``driver`` somewhere
    path: int = 0  # SQL built along branches: which path (1, 2, ...) this execute is; 0: the one


@dataclass(frozen=True)
class GuardFact:
    """A migration guard: a probe of the schema, and the DDL it lets run.

    ``kind`` is ``try`` (a SELECT that fails on old databases; the DDL runs in the handler)
    or ``membership`` (``if "col" not in <PRAGMA table_info(t) result>:`` around the DDL)."""

    kind: str
    probe: Text  # the SELECT, or the PRAGMA table_info text
    probed_column: str | None  # membership guards: the string tested
    action: Text  # the DDL the guard runs
    line: int
    col: int
    block: tuple[int, int] = (0, 0)  # the ``if`` / ``try`` statement: one guard, many actions


@dataclass(frozen=True)
class Cond:
    """A branch test the schema simulation can evaluate.

    ``version``: ``var op value`` where ``var`` holds the ``PRAGMA user_version`` read (``$db``
    reads it in place); ``column``: ``column`` is (``negated``: is not) among ``table``'s
    columns, from a ``PRAGMA table_info`` result; ``table``: one of ``table`` (comma
    separated; ``*``: any) exists (``negated``: none does), from a ``sqlite_master`` probe;
    ``dbfile``: the database file exists (``negated``: does not), from ``os.path.exists`` of
    the path the code connects to; ``all`` / ``any``: ``parts`` joined by ``and`` / ``or``;
    ``unknown``: anything else."""

    kind: str
    source: str  # the test as written, for messages
    line: int
    col: int
    var: str = ""
    op: str = ""
    value: int = 0
    table: str = ""
    column: str = ""
    negated: bool = False
    table_param: str = ""  # ``PRAGMA table_info({table})`` in a helper: a parameter's value
    column_param: str = ""  # ``if column not in cols``: a parameter's value
    parts: tuple[Cond, ...] = ()  # ``all`` / ``any``: the operands of ``and`` / ``or``


@dataclass(frozen=True)
class Step:
    """One step of a function's schema code, in the order it runs.

    ``sql`` runs ``sql`` (text, a parameter, or an imported constant); ``stamp`` sets
    ``PRAGMA user_version`` to ``version`` (or to the local ``var``; neither: not known);
    ``bump`` adds ``version`` to the local ``var`` (``v += 1``), ``set`` stores it there
    (``v = 2``); ``read`` stores the current
    user_version in ``var``; ``read_call`` stores what ``call`` returns in ``var``; ``call``
    runs another function (``args``: what it is given); ``if`` runs ``body`` or ``orelse``;
    ``try`` runs ``body`` and, when a statement in it fails, ``handlers``, else ``orelse``;
    ``return`` ends the function; ``each`` runs ``body`` once per string of the module-level
    list ``sql`` (a ``RefArg``) with ``var`` bound to it; ``opaque`` is schema code that cannot
    be followed."""

    kind: str
    line: int
    col: int
    sql: Arg | None = None
    version: int | None = None
    var: str = ""
    call: CallFact | None = None
    args: tuple[Arg, ...] = ()
    cond: Cond | None = None
    body: tuple[Step, ...] = ()
    orelse: tuple[Step, ...] = ()
    handlers: tuple[Step, ...] = ()


@dataclass(frozen=True)
class ProgramFact:
    """The schema code of one function (or of the module body, ``<module>``)."""

    function: str
    cls: str | None
    params: tuple[str, ...]
    steps: tuple[Step, ...]
    returns_version: bool = False  # ``return conn.execute("PRAGMA user_version")...``
    line: int = 1
    col: int = 1


@dataclass(frozen=True)
class FunctionFact:
    qualname: str
    name: str
    cls: str | None
    params: tuple[str, ...]
    kwarg: str | None
    line: int
    col: int
    returns: tuple[Arg, ...] = ()

    def param_index(self, name: str) -> int | None:
        return self.params.index(name) if name in self.params else None


@dataclass(frozen=True)
class ClassFact:
    name: str
    bases: tuple[tuple[str, ...], ...]
    attributes: tuple[tuple[str, tuple[str, ...]], ...]  # self.attr = Chain(...)
    line: int
    col: int


@dataclass(frozen=True)
class ImportFact:
    local: str
    module: str
    name: str | None  # None: ``import module`` (local names the module)


@dataclass(frozen=True)
class FileFacts:
    path: str
    module: str
    imports: tuple[ImportFact, ...] = ()
    functions: tuple[FunctionFact, ...] = ()
    classes: tuple[ClassFact, ...] = ()
    calls: tuple[CallFact, ...] = ()
    executes: tuple[ExecuteFact, ...] = ()
    instances: tuple[tuple[str, tuple[str, ...]], ...] = ()
    constants: tuple[tuple[str, Text], ...] = ()
    ddl: tuple[Text, ...] = ()
    guards: tuple[GuardFact, ...] = ()
    programs: tuple[ProgramFact, ...] = ()
    sequences: tuple[tuple[str, tuple[Text, ...]], ...] = ()  # module-level lists of DDL
    parsed: tuple[tuple[str, Any], ...] = ()  # (SQL text, ParsedSql) parsed at extraction
    dialect: str = "sqlite"
    suppressions: tuple[tuple[int, frozenset[str]], ...] = ()
    error: str | None = None
    error_line: int = 1
    error_col: int = 1
    # ``error`` is a Python SyntaxError: not Python 3 that this interpreter parses (Python 2
    # code, a template), so nothing in it was analysed (a note, not a failure)
    syntax_error: bool = False
