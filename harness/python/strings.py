"""SQL text built in Python: f-strings, ``+``, ``%``, ``str.format``, ``str.join`` and holes.

Each handler turns an expression into a :class:`~harness.python.text.Text` (literal runs plus
holes for what is not known), keeping every character's position in the file.
"""

from __future__ import annotations

import ast
import re
import string
from dataclasses import dataclass

from harness.python.context import Context, Scope
from harness.python.positions import Run, compress, literal_map, string_pieces
from harness.python.text import KEYS, Hole, Text, hole_text, literal
from harness.python.values import (
    Alt,
    Const,
    DictValue,
    KeyRead,
    KeysOf,
    ParamValue,
    PlaceholderRun,
    Seq,
    Spread,
    Value,
    ValuesOf,
    alternative,
)
from harness.sql.hints import SQL_HINT

PERCENT_SPEC = re.compile(
    r"%(\([^)]*\))?[#0\- +]*(\*|\d+)?(\.(\*|\d+))?[hlL]?([diouxXeEfFgGcrsa%])")


CONST_TYPES = {bool: "bool", int: "int", float: "float", str: "str", bytes: "bytes",
               type(None): "none"}


@dataclass(frozen=True)
class _KeysTemplate:
    """``f"{k} = ?" for k in d``: a per-key template over a dict parameter's keys."""

    param: str
    template: Text


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


def _items(value: Value) -> tuple[Value, ...]:
    if isinstance(value, Seq):
        return value.items
    return (Spread(value),)


def _render_template(template: str, sentinel: str, keys: set[str]) -> str:
    """Render one element of a per-key template with the key replaced by a sentinel: every
    place the key stands (``f"{k} = {k} + ?"`` names it twice), else the first hole."""
    if keys:
        return re.sub(r"__dbh\d+__", lambda m: sentinel if m.group(0) in keys else m.group(0),
                      template)
    return re.sub(r"__dbh\d+__", sentinel, template, count=1)


class Strings(Context):
    def _ev_Constant(self, node: ast.Constant, scope: Scope) -> Value:
        if isinstance(node.value, str):
            if " " in node.value and SQL_HINT.search(node.value):
                return literal(node.value, literal_map(node, self.lines))
            # Not SQL on its own: exact positions are not worth tokenizing the source for.
            line, col = self.pos(node)
            return Text(node.value, (), (), line, col)
        return Const(CONST_TYPES.get(type(node.value), "other"))

    def _ev_JoinedStr(self, node: ast.JoinedStr, scope: Scope) -> Value:
        pieces = string_pieces(node, self.lines)
        line, col = self.pos(node)
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
        line, col = self.pos(node)
        return self._hole(value, line, col)

    def _ev_BinOp(self, node: ast.BinOp, scope: Scope) -> Value:
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

    def _ev_IfExp(self, node: ast.IfExp, scope: Scope) -> Value:
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

    def _join(self, sep: Text, items: Value, node: ast.Call) -> Value:
        line, col = self.pos(node)
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

    def _format(self, fmt: Text, node: ast.Call, scope: Scope) -> Value:
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
