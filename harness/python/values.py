"""Abstract values the extractor tracks while it walks a function body, in order."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.python.facts import (
    Arg,
    CallArg,
    Callee,
    ConstArg,
    ItemArg,
    KeyArg,
    KeyFact,
    ParamArg,
    RecordArg,
    RecordFact,
    RecordsArg,
    RefArg,
    SeqArg,
    SpreadArg,
    TextArg,
    UnknownArg,
    ValuesArg,
)
from harness.python.text import Text


@dataclass
class DictValue:
    """A dict under construction; mutated by ``d[k] = v``, ``update``, ``pop``..."""

    path: str
    line: int
    col: int
    keys: dict[str, KeyFact] = field(default_factory=dict)
    closed: bool = True
    var: str | None = None
    function: str | None = None
    values: dict[str, object] = field(default_factory=dict)  # literal values, by key

    def add(self, key: KeyFact) -> None:
        old = self.keys.get(key.name)
        if old is None or (key.certain and not old.certain):
            self.keys[key.name] = key

    def merge(self, other: DictValue, certain: bool) -> None:
        for k in other.keys.values():
            self.add(k if certain else KeyFact(k.name, k.line, k.col, False, k.value_type))
        self.closed = self.closed and other.closed

    def snapshot(self) -> RecordFact:
        return RecordFact(self.path, self.line, self.col, self.var, tuple(self.keys.values()),
                          self.closed, self.function)

    def copy(self) -> DictValue:
        return DictValue(self.path, self.line, self.col, dict(self.keys), self.closed, self.var,
                         self.function, dict(self.values))


@dataclass(frozen=True)
class ParamValue:
    name: str


@dataclass(frozen=True)
class ItemOf:
    """The loop variable of ``for row in rows`` over a parameter."""

    param: str


@dataclass(frozen=True)
class KeyRead:
    param: str
    key: str
    required: bool


@dataclass(frozen=True)
class KeysOf:
    """The keys of a dict parameter (``p.keys()``, ``list(p)``, ``for k in p``)."""

    param: str


@dataclass(frozen=True)
class ValuesOf:
    param: str


@dataclass(frozen=True)
class CallResult:
    callee: Callee
    line: int
    col: int


@dataclass(frozen=True)
class Const:
    type: str


@dataclass(frozen=True)
class Seq:
    items: tuple[object, ...]
    mutable: bool = False  # a list (``.append`` grows it; a callee may change it)


@dataclass(frozen=True)
class LoopKeys:
    """A loop variable over a constant tuple of strings."""

    keys: tuple[str, ...]


@dataclass(frozen=True)
class Ref:
    module: str
    name: str


@dataclass(frozen=True)
class Spread:
    """A starred element: ``[*d.values(), key]``."""

    inner: object


@dataclass(frozen=True)
class PlaceholderRun:
    """``"?" * len(d)`` or ``["?"] * n``: as many placeholders as something has items."""

    mark: str


Value = object


def to_arg(value: Value) -> Arg:
    """Freeze a tracked value into a fact, as it stands at this point of the code."""
    if isinstance(value, DictValue):
        return RecordArg(value.snapshot())
    if isinstance(value, ParamValue):
        return ParamArg(value.name)
    if isinstance(value, ItemOf):
        return ItemArg(value.param)
    if isinstance(value, Text):
        return TextArg(value)
    if isinstance(value, KeyRead):
        return KeyArg(value.param, value.key, value.required)
    if isinstance(value, ValuesOf):
        return ValuesArg(value.param)
    if isinstance(value, CallResult):
        return CallArg(value.callee, value.line, value.col)
    if isinstance(value, Const):
        return ConstArg(value.type)
    if isinstance(value, Ref):
        return RefArg(value.module, value.name)
    if isinstance(value, Spread):
        return SpreadArg(to_arg(value.inner))
    if isinstance(value, Alt):
        # The same argument on every path, or one that is not known here.
        args = {to_arg(o) for o in value.options}
        return args.pop() if len(args) == 1 else UnknownArg()
    if isinstance(value, Seq):
        if value.items and all(isinstance(i, DictValue) for i in value.items):
            return RecordsArg(tuple(i.snapshot() for i in value.items if isinstance(i, DictValue)))
        return SeqArg(tuple(to_arg(i) for i in value.items))
    return UnknownArg()


@dataclass(frozen=True)
class Alt:
    """What a name holds after ``if``/``else`` (or ``a if c else b``): one option per path.

    ``choice`` names the branch point, so values built along the same paths stay paired:
    ``sql += " AND room = ?"`` and ``args.append(room)`` in one ``if`` are both option 0 of
    the same choice, and a path takes option k of a choice everywhere at once."""

    choice: int
    options: tuple[Value, ...]


MAX_PATHS = 64  # paths judged one by one at an execute; beyond, the SQL is not judged


def choices(value: Value, found: dict[int, int] | None = None) -> dict[int, int]:
    """Every branch point inside ``value``: choice -> its number of options."""
    out = {} if found is None else found
    if isinstance(value, Alt):
        out[value.choice] = len(value.options)
        for option in value.options:
            choices(option, out)
    elif isinstance(value, Seq):
        for item in value.items:
            choices(item, out)
    elif isinstance(value, Spread):
        choices(value.inner, out)
    return out


def leaves(value: Value) -> int:
    """How many concrete values an Alt tree spells out (its size)."""
    if isinstance(value, Alt):
        return sum(leaves(o) for o in value.options)
    if isinstance(value, Seq):
        n = 1
        for item in value.items:
            n *= leaves(item)
        return n
    return 1


def resolve(value: Value, path: dict[int, int]) -> Value:
    """The value on one path (``path``: choice -> option taken)."""
    if isinstance(value, Alt):
        return resolve(value.options[path.get(value.choice, 0)], path)
    if isinstance(value, Seq) and any(isinstance(i, (Alt, Seq, Spread)) for i in value.items):
        return Seq(tuple(resolve(i, path) for i in value.items), value.mutable)
    if isinstance(value, Spread) and isinstance(value.inner, (Alt, Seq)):
        return Spread(resolve(value.inner, path))
    return value


def alternative(choice: int, options: tuple[Value, ...]) -> Value:
    """An Alt, or the one value when every option is the same."""
    first = options[0]
    if all(o == first for o in options[1:]):
        return first
    return Alt(choice, options)
