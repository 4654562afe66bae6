"""Resolve names across the project: imports, classes, instances, methods.

Resolution is exact or nothing: a call is bound to a function only through imports,
``self``, attributes assigned ``self.attr = Class(...)``, module-level instances, annotated
parameters, or, last, a method name defined exactly once in the project that no builtin
type also has. Anything else stays unresolved and is never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.python.facts import CallFact, ClassFact, FileFacts, FunctionFact
from harness.python.text import Text

# Method names that builtin containers, loggers and HTTP clients have: a call like
# ``cache.insert(d)`` or ``requests.post(url, json=d)`` must never bind by name alone.
COMMON_METHODS = frozenset({
    "append", "extend", "insert", "remove", "pop", "clear", "index", "count", "sort", "reverse",
    "copy", "get", "keys", "values", "items", "update", "setdefault", "popitem", "fromkeys", "add",
    "discard", "union", "join", "format", "split", "strip", "replace", "encode", "decode",
    "debug", "info", "warning", "warn", "error", "exception", "critical", "log", "post", "put",
    "patch", "delete", "request", "send", "json", "write", "read", "dump", "dumps", "load",
    "loads", "emit", "set", "put_nowait", "submit", "run", "execute", "executemany",
    "executescript", "commit", "close", "save", "create", "__init__", "render", "validate",
})


@dataclass(frozen=True)
class Symbol:
    kind: str  # function, class, instance, module
    module: str
    name: str  # qualname for functions, class name for class/instance, module for module


@dataclass(frozen=True)
class Target:
    """A resolved call: the function, whether ``self`` is bound, and how it was found."""

    module: str
    function: FunctionFact
    bound: bool
    how: str


class ProjectIndex:
    def __init__(self, files: list[FileFacts]) -> None:
        self.files = {f.module: f for f in files if f.error is None}
        self.functions: dict[tuple[str, str], FunctionFact] = {}
        self.classes: dict[tuple[str, str], ClassFact] = {}
        self.by_name: dict[str, list[tuple[str, FunctionFact]]] = {}
        self._suffix: dict[str, list[str]] = {}
        for module, facts in self.files.items():
            for fn in facts.functions:
                self.functions[(module, fn.qualname)] = fn
                if "<locals>" not in fn.qualname:
                    self.by_name.setdefault(fn.name, []).append((module, fn))
            for cls in facts.classes:
                self.classes[(module, cls.name)] = cls
            parts = module.split(".")
            for i in range(len(parts)):
                self._suffix.setdefault(".".join(parts[i:]), []).append(module)

    # --- modules and symbols --------------------------------------------------------------
    def find_module(self, name: str) -> str | None:
        if name in self.files:
            return name
        found = self._suffix.get(name, [])
        return found[0] if len(found) == 1 else None

    def constant(self, module: str, name: str) -> Text | None:
        """A module-level string constant (SQL, usually) by module and name."""
        facts = self.files.get(self.find_module(module) or "")
        return dict(facts.constants).get(name) if facts is not None else None

    def sequence(self, module: str, name: str) -> tuple[Text, ...] | None:
        """A module-level list of SQL strings (``SCHEMA = ["CREATE ...", ...]``)."""
        facts = self.files.get(self.find_module(module) or "")
        return dict(facts.sequences).get(name) if facts is not None else None

    def is_external(self, module: str, name: str) -> bool:
        """Does ``name`` in ``module`` come from an import outside the project?"""
        facts = self.files.get(module)
        if facts is None:
            return False
        for imp in facts.imports:
            full = f"{imp.module}.{imp.name}" if imp.name else imp.module
            if imp.local == name and self.find_module(imp.module) is None and \
                    self.find_module(full) is None:
                return True
        return False

    def lookup(self, module: str, name: str, depth: int = 0) -> Symbol | None:
        facts = self.files.get(module)
        if facts is None or depth > 8:
            return None
        if (module, name) in self.functions:
            return Symbol("function", module, name)
        if (module, name) in self.classes:
            return Symbol("class", module, name)
        for inst, chain in facts.instances:
            if inst == name:
                cls = self.resolve_chain(module, chain, depth + 1)
                if cls is not None and cls.kind == "class":
                    return Symbol("instance", cls.module, cls.name)
                return None
        for imp in facts.imports:
            if imp.local != name:
                continue
            if imp.name is None:
                target = self.find_module(imp.module)
                return Symbol("module", target, target) if target else None
            sub = self.find_module(f"{imp.module}.{imp.name}")
            if sub is not None:
                return Symbol("module", sub, sub)
            source = self.find_module(imp.module)
            return self.lookup(source, imp.name, depth + 1) if source else None
        return None

    def member(self, symbol: Symbol, attr: str, depth: int = 0) -> Symbol | None:
        if symbol.kind == "module":
            return self.lookup(symbol.module, attr, depth + 1)
        if symbol.kind in ("class", "instance"):
            for module, cls in self.mro(symbol.module, symbol.name):
                if (module, f"{cls.name}.{attr}") in self.functions:
                    return Symbol("function", module, f"{cls.name}.{attr}")
                if symbol.kind == "instance":
                    for name, chain in cls.attributes:
                        if name == attr:
                            target = self.resolve_chain(module, chain, depth + 1)
                            if target is not None and target.kind == "class":
                                return Symbol("instance", target.module, target.name)
                            return None
        return None

    def resolve_chain(self, module: str, chain: tuple[str, ...], depth: int = 0) -> Symbol | None:
        if not chain or depth > 8:
            return None
        symbol = self.lookup(module, chain[0], depth)
        for attr in chain[1:]:
            if symbol is None:
                return None
            symbol = self.member(symbol, attr, depth)
        return symbol

    def mro(self, module: str, name: str) -> list[tuple[str, ClassFact]]:
        """The class and its project-defined bases, depth first."""
        out: list[tuple[str, ClassFact]] = []
        todo = [(module, name)]
        while todo and len(out) < 16:
            mod, cls_name = todo.pop(0)
            cls = self.classes.get((mod, cls_name))
            if cls is None or (mod, cls) in out:
                continue
            out.append((mod, cls))
            for base in cls.bases:
                found = self.resolve_chain(mod, base)
                if found is not None and found.kind == "class":
                    todo.append((found.module, found.name))
        return out

    # --- calls ------------------------------------------------------------------------------
    def resolve_call(self, module: str, call: CallFact) -> Target | None:
        callee = call.callee
        symbol: Symbol | None = None
        how = "import"
        if callee.root == "self" and call.cls:
            symbol = Symbol("instance", module, call.cls)
            for attr in callee.chain[1:]:
                symbol = self.member(symbol, attr) if symbol else None
            how = "self"
        elif callee.root == "instance":
            cls = self.resolve_chain(module, callee.root_class)
            if cls is not None and cls.kind == "class":
                symbol = Symbol("instance", cls.module, cls.name)
                for attr in callee.chain:
                    symbol = self.member(symbol, attr) if symbol else None
            how = "instance"
        elif callee.root == "name":
            symbol = self.resolve_chain(module, callee.chain)
        if symbol is not None and symbol.kind == "function":
            fn = self.functions[(symbol.module, symbol.name)]
            bound = (fn.cls is not None and callee.root in ("self", "instance")) or (
                fn.cls is not None and len(callee.chain) > 1 and self._via_instance(module, call)
            )
            return Target(symbol.module, fn, bound, how)
        if symbol is not None:
            return None
        return self._by_unique_name(module, call)

    def _via_instance(self, module: str, call: CallFact) -> bool:
        receiver = self.resolve_chain(module, call.callee.chain[:-1])
        return receiver is not None and receiver.kind == "instance"

    def _by_unique_name(self, module: str, call: CallFact) -> Target | None:
        callee = call.callee
        if len(callee.chain) < 2 and callee.root != "instance":
            return None
        name = callee.name
        if name in COMMON_METHODS or name.startswith("_"):
            return None
        if callee.root == "name" and self.is_external(module, callee.chain[0]):
            return None
        defs = self.by_name.get(name, [])
        if len(defs) != 1 or defs[0][1].cls is None:
            return None
        mod, fn = defs[0]
        return Target(mod, fn, True, "unique method name")
