"""A parsed statement's sqlglot tree as stored in a cache, and its checked way back.

Stored form: ``<digest>:<JSON of sqlglot's exp.Expr.dump>``, the digest (blake2b, 8 bytes, hex)
over the JSON so a read tells a damaged tree without parsing it. :func:`load_tree` checks the
digest, the shape and every class name against sqlglot's own expression classes before
``exp.Expr.load`` may see it (sqlglot's loader imports any module a payload names); any failure
is :class:`~harness.errors.BadEntry`. sqlglot is imported only when a tree is used.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any

from harness.errors import BadEntry


def dump_tree(node: Any) -> str:
    """A statement's tree as ``<digest>:<JSON of sqlglot's dump>``; the digest lets a read
    tell a damaged tree without parsing it (the tree itself is parsed only when used)."""
    from sqlglot import exp

    if isinstance(node, str):
        return node  # read from the cache (checked) and never used: stored as it was
    payload = node.dump() if isinstance(node, exp.Expr) else node
    text = json.dumps(payload, separators=(",", ":"))
    return f"{tree_digest(text)}:{text}"


def tree_digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def is_tree(stored: Any) -> bool:
    """A stored tree whose digest matches its JSON (checked on read; parsed only when used)."""
    return (type(stored) is str and stored[16:17] == ":"
            and tree_digest(stored[17:]) == stored[:16])


def load_tree(stored: str) -> list[Any]:
    """sqlglot's serialised tree (for ``exp.Expr.load``) from what a cached
    :class:`~harness.sql.parse.Statement` holds (``<digest>:<JSON>``), once its digest, its
    shape and every class name are checked: sqlglot's loader imports whatever module a
    payload names. BadEntry when any check fails."""
    if not is_tree(stored):
        raise BadEntry("a statement's tree is damaged")
    try:
        payload = json.loads(stored[17:])
    except (ValueError, RecursionError) as err:
        raise BadEntry(f"statement tree: {err}") from None
    _check_tree(payload)
    return payload  # type: ignore[no-any-return]


_TREE_KEYS = frozenset({"i", "k", "a", "c", "t", "o", "m", "v"})


@cache
def _tree_classes() -> frozenset[str]:
    """The class names sqlglot's ``dump`` writes for its own expression classes (the only
    names its ``load`` may import)."""
    from sqlglot import exp

    names = {"DataType.Type"}
    todo: list[type] = [exp.Expr]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__ == "sqlglot.expressions" or cls.__module__.startswith("sqlglot."):
            qual = cls.__qualname__
            names.add(qual if cls.__module__ == exp.__name__ else f"{cls.__module__}.{qual}")
    return frozenset(names)


def _check_tree(payload: Any) -> None:
    if type(payload) is not list:
        raise BadEntry("statement tree is not a list")
    allowed = _tree_classes()
    for n, node in enumerate(payload):
        if type(node) is not dict or not node.keys() <= _TREE_KEYS:
            raise BadEntry("statement tree node is not a node")
        if n and not (type(node.get("i")) is int and 0 <= node["i"] < n
                      and type(node.get("k")) is str):
            raise BadEntry("statement tree node has no parent")
        if "c" in node:
            if node["c"] not in allowed:
                raise BadEntry(f"not a sqlglot expression class: {node['c']!r}")
        elif "v" not in node:
            raise BadEntry("statement tree leaf has no value")
        if "t" in node and node["t"] is not None:
            _check_tree(node["t"])
