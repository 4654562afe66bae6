"""Every dict/record shape: literals, names, attributes, subscripts, comprehensions, dict
methods and the builtins that build or change a record (``dict(...)``, ``**kwargs``)."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from harness.python.context import Scope, attribute_chain, obvious_type
from harness.python.facts import (
    KeyFact,
)
from harness.python.strings import (
    Strings,
    _KeysTemplate,
)
from harness.python.text import Text
from harness.python.values import (
    Const,
    DictValue,
    KeyRead,
    KeysOf,
    ParamValue,
    PlaceholderRun,
    Ref,
    Seq,
    Spread,
    Value,
    ValuesOf,
)


@dataclass(frozen=True)
class _ItemOf:
    """``item`` in ``for item in d.items()`` over a dict parameter: ``item[0]`` is a key."""

    param: str


def _is_items_call(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
        node.func.attr == "items" and not node.args and not node.keywords


class _NotSpecial:
    pass


NOT_SPECIAL: Value = _NotSpecial()


class Records(Strings):
    def _ev_Name(self, node: ast.Name, scope: Scope) -> Value:
        if node.id in scope.values:
            return scope.values[node.id]
        if node.id in self.module_scope.values:
            value = self.module_scope.values[node.id]
            return value if not isinstance(value, DictValue) else value.copy()
        if scope.cls and node.id in self.class_constants.get(scope.cls, {}):
            return self.class_constants[scope.cls][node.id]
        imported = self.import_map.get(node.id)
        if imported is not None and imported.name is not None:
            return Ref(imported.module, imported.name)
        return None

    def _ev_Attribute(self, node: ast.Attribute, scope: Scope) -> Value:
        chain = attribute_chain(node)
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

    def _ev_Dict(self, node: ast.Dict, scope: Scope) -> Value:
        line, col = self.pos(node)
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
                kline, kcol = self.pos(key)
                record.add(KeyFact(k.text, kline, kcol, True, obvious_type(evaluated)))
                record.values[k.text] = evaluated
            else:
                record.closed = False
        return record

    def _ev_List(self, node: ast.List | ast.Tuple, scope: Scope) -> Value:
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

    def _ev_ListComp(self, node: ast.ListComp | ast.GeneratorExp, scope: Scope) -> Value:
        iterable = self.ev(node.generators[0].iter, scope) if node.generators else None
        if isinstance(iterable, ParamValue):
            iterable = KeysOf(iterable.name)  # iterating a dict yields its keys
        target = node.generators[0].target if node.generators else None
        unrolled = self._unroll(node, iterable, target, scope)
        if unrolled is not None:
            return unrolled
        inner = Scope(scope.function, scope.cls, scope.params, dict(scope.values),
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
                target: ast.expr | None, scope: Scope) -> Value:
        """``", ".join(f"{c} {t}" for c, t in COLUMNS.items())`` over a literal sequence:
        evaluate the element once per item, so the text it builds is known."""
        if not isinstance(iterable, Seq) or not iterable.items or len(iterable.items) > 200 \
                or target is None or len(node.generators) != 1 or node.generators[0].ifs:
            return None
        results: list[Value] = []
        for item in iterable.items:
            inner = Scope(scope.function, scope.cls, scope.params, dict(scope.values),
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

    def _ev_Subscript(self, node: ast.Subscript, scope: Scope) -> Value:
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

    def _kwargs_record(self, node: ast.Call, kwargs: list[tuple[str | None, Value]],
                       scope: Scope) -> DictValue | None:
        """``insert(table, a=1, b=2)``: the keywords may become a ``**fields`` record."""
        named = [k for k in node.keywords if k.arg is not None]
        if not named:
            return None
        line, col = self.pos(node)
        record = DictValue(self.path, line, col, var="**kwargs", function=scope.function)
        # The keywords of a call are all there at the call, whatever branch it sits in.
        self._update(record, [], [(kw, v) for kw, (_, v) in zip(node.keywords, kwargs)], scope,
                     certain=True)
        return record

    def _dict_method(self, record: DictValue, attr: str, node: ast.Call,
                     scope: Scope) -> Value:
        certain = scope.branch == 0
        if attr == "update":
            self._update(record, [self.ev(a, scope) for a in node.args],
                         [(k, self.ev(k.value, scope)) for k in node.keywords], scope)
            return None
        if attr == "setdefault" and node.args:
            value = self.ev(node.args[1], scope) if len(node.args) > 1 else None
            for key in self._keys_of(node.args[0], scope):
                line, col = self.pos(node.args[0])
                record.add(KeyFact(key, line, col, certain, obvious_type(value)))
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

    def _builtin_call(self, node: ast.Call, name: str, scope: Scope) -> Value:
        if name in self.module_scope.values or name in scope.values or name in self.import_map:
            return NOT_SPECIAL
        if name == "dict":
            line, col = self.pos(node)
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
        return NOT_SPECIAL
