"""Where caches live and how they are written and read: data only, versioned, self-healing.

Location. Caches live outside the project, in the per-user cache directory
(``platformdirs.user_cache_dir("dbharness")``, e.g. ``~/.cache/dbharness`` on Linux), in one
folder per project named by a hash of the resolved project root. The user, never the project,
may move them: ``DBHARNESS_CACHE_DIR`` or ``--cache-dir`` (the command line wins). Folders are
created ``0o700``; a folder that is a symlink, is owned by another user or is writable by group
or others is refused, and the run goes on uncached (:func:`project_dir` says why). So a cache
committed to a repository is never read: nothing inside the project is ever a cache.

Format. Every cache file is one JSON document ``{"format": FORMAT, "kind": ..., ...}``
(:func:`read_document` / :func:`write_document`). JSON, not a SQLite file: each cache is read
whole and replaced whole by one process, which a temporary file renamed into place does
atomically without a database engine, its locks or its ``-journal``/``-wal`` sidecars; the
stdlib parser is in C and can only ever produce dicts, lists, strings, numbers, booleans and
None. Objects are rebuilt from that by :func:`loads`, which constructs only the classes of an
explicit allow-list (:data:`CLASSES`), checks every field name, and turns anything else into
:class:`BadEntry`. Callers drop a bad entry (or a bad file) and compute it again: a cache can
make a run slower, never wrong and never fail. No pickle is used for anything stored.

Encoding (:func:`encode`): ``None``/bool/int/float/str as themselves; a tuple as a JSON array;
a frozenset as ``{"@s": [...]}``; a member of an allowed enum as ``{"@e": class, "v": value}``;
an allowed frozen dataclass as ``{"@": class, field: value, ...}`` with fields equal to their
default left out; a :class:`~harness.sql.parse.Statement`'s tree as sqlglot's serialised form
(``exp.Expr.dump``) in a JSON string, whose node classes are checked against sqlglot's own
expression classes before it is loaded (sqlglot's loader imports any module a payload names).
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import json
import os
import re
import stat
import tempfile
import types
import typing
from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any

from harness.diagnostics import Diagnostic, Location, Related, Severity
from harness.errors import BadEntry as BadEntry  # re-exported: callers catch store.BadEntry
from harness.python import facts as _facts
from harness.python.positions import Run
from harness.python.text import Hole, Text
from harness.regular import read_regular
from harness.sql.trees import dump_tree, is_tree
from harness.sql.trees import tree_digest as _tree_digest  # noqa: F401 - tests build trees

FORMAT = 1  # bump when the encoding changes: files of another format are ignored
ENV = "DBHARNESS_CACHE_DIR"
MAX_DOCUMENT_BYTES = 1 << 30  # a cache file larger than this is not ours: ignored


# --- the codec ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Spec:
    cls: type
    names: frozenset[str]
    defaults: tuple[tuple[str, Any], ...]  # (field, default or MISSING), in field order
    given: dict[str, Any]  # the fields that have a default, with it
    checks: dict[str, Callable[[Any], bool]]  # a type test per field, filled on first use


_FACT_CLASSES: tuple[type, ...] = (
    _facts.KeyFact, _facts.RecordFact, _facts.Callee, _facts.RecordArg, _facts.ParamArg,
    _facts.TextArg, _facts.KeyArg, _facts.ItemArg, _facts.ValuesArg, _facts.CallArg,
    _facts.ConstArg, _facts.SeqArg, _facts.RecordsArg, _facts.RefArg, _facts.UnknownArg,
    _facts.SpreadArg, _facts.CallFact, _facts.ExecuteFact, _facts.GuardFact, _facts.Cond,
    _facts.Step, _facts.ProgramFact, _facts.FunctionFact, _facts.ClassFact, _facts.ImportFact,
    _facts.FileFacts, Text, Hole, Run, Diagnostic, Location, Related,
)
ENUMS: dict[str, type[enum.Enum]] = {"Severity": Severity}
CLASSES: dict[str, type] = {}  # the allow-list: every class decode may construct, by name
_SPECS: dict[type, tuple[str, _Spec]] = {}
_BY_NAME: dict[str, _Spec] = {}
_ENUM_NAMES = {cls: name for name, cls in ENUMS.items()}
_SQL_NAMES = frozenset({"ParsedSql", "Statement", "SqlError", "Placeholders", "Placeholder",
                        "NameRef", "DmlInfo", "ColumnFeed"})


def _allow(*classes: type) -> None:
    for cls in classes:
        name = cls.__name__
        if CLASSES.setdefault(name, cls) is not cls:
            raise RuntimeError(f"two stored classes named {name}")
        fs = fields(cls)
        spec = _Spec(cls, frozenset(f.name for f in fs), tuple((f.name, f.default) for f in fs),
                     {f.name: f.default for f in fs if f.default is not MISSING}, {})
        _SPECS[cls] = (name, spec)
        _BY_NAME[name] = spec


_allow(*_FACT_CLASSES)


@cache
def _allow_sql() -> None:
    """The SQL classes join the allow-list on first need: importing them imports sqlglot,
    which the whole-run result cache (diagnostics only) never needs."""
    from harness.sql.dml import ColumnFeed, DmlInfo
    from harness.sql.parse import ParsedSql, SqlError, Statement
    from harness.sql.placeholders import Placeholder, Placeholders
    from harness.sql.resolve import NameRef

    _allow(ParsedSql, Statement, SqlError, Placeholders, Placeholder, NameRef, DmlInfo,
           ColumnFeed)
    if not CLASSES.keys() >= _SQL_NAMES:
        raise RuntimeError("the SQL class names and the SQL classes differ")


def allowed() -> dict[str, type]:
    """Every class :func:`loads` may construct, by name (the complete allow-list)."""
    _allow_sql()
    return dict(CLASSES)


def encode(value: Any) -> Any:
    """``value`` as plain JSON data; TypeError for anything outside the allow-list."""
    kind = type(value)
    if value is None or kind in (str, int, bool, float):
        return value
    if kind is tuple:
        return [encode(v) for v in value]
    found = _SPECS.get(kind)
    if found is None and kind.__module__.startswith("harness.sql."):
        _allow_sql()
        found = _SPECS.get(kind)
    if found is not None:
        name, spec = found
        out: dict[str, Any] = {"@": name}
        for field_name, default in spec.defaults:
            item = getattr(value, field_name)
            if default is not MISSING and type(item) is type(default) and item == default:
                continue
            if name == "Statement" and field_name == "node":
                out["node"] = dump_tree(item)
            else:
                out[field_name] = encode(item)
        return out
    if kind is frozenset:
        return {"@s": [encode(v) for v in value]}
    if kind in _ENUM_NAMES:
        return {"@e": _ENUM_NAMES[kind], "v": value.value}
    raise TypeError(f"cannot store a {kind.__name__}")


def dumps(value: Any) -> str:
    """:func:`encode` as compact JSON text."""
    return json.dumps(encode(value), separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    """The value :func:`dumps` wrote; :class:`BadEntry` for anything else."""
    if not isinstance(text, (str, bytes)):
        raise BadEntry("not JSON text")
    try:
        value = json.loads(text, object_hook=_object)
    except BadEntry:
        raise
    except (ValueError, TypeError, KeyError, RecursionError) as err:
        raise BadEntry(f"{type(err).__name__}: {err}") from None
    return _tuple(value) if type(value) is list else value


def _tuple(items: list[Any]) -> tuple[Any, ...]:
    if list in set(map(type, items)):  # (map and set run in C: most lists hold no list)
        for i, item in enumerate(items):
            if type(item) is list:
                items[i] = _tuple(item)
    return tuple(items)


def _classes(hint: Any) -> frozenset[type] | None:
    """The classes ``hint`` admits when it is a class or a union of classes (else None)."""
    members = typing.get_args(hint) if typing.get_origin(hint) in (
        typing.Union, types.UnionType) else (hint,)
    if all(typing.get_origin(m) is None and isinstance(m, type) for m in members) \
            and hint is not Any and float not in members:
        return frozenset(members)
    return None


def _object(obj: dict[str, Any]) -> Any:
    name = obj.pop("@", None)
    if name is not None:
        try:
            spec = _BY_NAME[name]
        except (KeyError, TypeError):
            spec = _late_spec(name)
        checks = spec.checks or _checks(spec)
        try:
            for key, item in obj.items():
                if type(item) is list:
                    item = obj[key] = _tuple(item)
                if not checks[key](item):
                    raise BadEntry(f"{name}.{key} has the wrong type")
        except KeyError:
            raise BadEntry(f"{name} has a field it does not have: {sorted(obj)}") from None
        # As pickle does: the checked fields set directly (a frozen dataclass's __init__ sets
        # each through object.__setattr__, several times slower; ours have no __post_init__).
        made: Any = object.__new__(spec.cls)
        state = made.__dict__
        state.update(spec.given)
        state.update(obj)
        if len(state) != len(spec.defaults):
            raise BadEntry(f"{name} lacks {sorted(spec.names - obj.keys() - spec.given.keys())}")
        return made
    if len(obj) == 1 and "@s" in obj and type(obj["@s"]) is list:
        try:
            return frozenset(_tuple(obj["@s"]))
        except TypeError as err:
            raise BadEntry(f"set: {err}") from None
    if obj.keys() == {"@e", "v"} and obj["@e"] in ENUMS:
        try:
            return ENUMS[obj["@e"]](obj["v"])
        except ValueError as err:
            raise BadEntry(str(err)) from None
    raise BadEntry(f"not a stored object: {sorted(obj)[:4]}")


_Check = Callable[[Any], bool]


def _checks(spec: _Spec) -> dict[str, _Check]:
    """A type test per field of ``spec``'s class, from its annotations (built on first use;
    a class without fields has nothing to test)."""
    cls = spec.cls
    hints = typing.get_type_hints(cls)
    if cls.__name__ == "FileFacts":
        _allow_sql()
        from harness.sql.parse import ParsedSql

        hints["parsed"] = tuple[tuple[str, ParsedSql], ...]  # annotated Any: sql imports late
    found = {f.name: _check_of(hints[f.name]) for f in fields(cls)}
    if cls.__name__ == "Statement":
        found["node"] = is_tree
    spec.checks.update(found)
    return found


def _is_any(value: Any) -> bool:
    return True


def _check_of(hint: Any) -> _Check:
    """The test that a decoded value has type ``hint`` (the types our dataclasses use:
    scalars, None, unions, tuples, frozensets, allowed classes and enums)."""
    if hint is Any or hint is object:
        return _is_any
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    simple = _classes(hint)
    if simple is not None:
        return lambda v: type(v) in simple
    if origin in (typing.Union, types.UnionType):
        parts = [_check_of(a) for a in args]
        return lambda v: any(p(v) for p in parts)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            kinds = _classes(args[0])
            if kinds is not None:  # the element types, collected in C
                return lambda v: type(v) is tuple and set(map(type, v)) <= kinds
            each = _check_of(args[0])
            return lambda v: type(v) is tuple and all(map(each, v))
        items = [_check_of(a) for a in args]
        return lambda v: (type(v) is tuple and len(v) == len(items)
                          and all(c(x) for c, x in zip(items, v, strict=True)))
    if origin is frozenset:
        each = _check_of(args[0])
        return lambda v: type(v) is frozenset and all(map(each, v))
    if hint is float:
        return lambda v: type(v) in (float, int)
    raise TypeError(f"no stored-type test for {hint!r}")


def _late_spec(name: Any) -> _Spec:
    if type(name) is str and name in _SQL_NAMES:
        _allow_sql()
        spec = _BY_NAME.get(name)
        if spec is not None:
            return spec
    raise BadEntry(f"not a stored class: {name!r}")


# --- files ----------------------------------------------------------------------------------

def write_bytes(path: Path, data: bytes) -> bool:
    """Replace ``path`` by ``data`` atomically: a temporary file in the same folder renamed
    over it (``os.replace`` replaces a symlink itself, never its target). False when it could
    not be written (full disk, file size limit, read-only folder); the temporary file is
    always removed then."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(err, OSError):
            return False
        raise
    return True


def write_document(path: Path, kind: str, body: dict[str, Any]) -> bool:
    """Write ``{"format": FORMAT, "kind": kind, **body}`` (plain JSON data) to ``path``."""
    document = {"format": FORMAT, "kind": kind, **body}
    try:
        data = json.dumps(document, separators=(",", ":")).encode()
    except (TypeError, ValueError):
        return False
    return write_bytes(path, data)


def read_document(path: Path, kind: str) -> dict[str, Any] | None:
    """The document at ``path`` when it is a regular file holding this format's ``kind``;
    None otherwise (missing, a symlink, unreadable, not JSON, another format or kind)."""
    try:
        data = read_regular(path, MAX_DOCUMENT_BYTES, follow_symlinks=False)[1]
        document = json.loads(data)
    except (OSError, ValueError, RecursionError):
        return None
    if (type(document) is not dict or document.get("format") != FORMAT
            or document.get("kind") != kind):
        return None
    return document


# --- where ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Refused:
    """The cache folder cannot be used safely; the run goes on uncached."""

    reason: str


def base_dir(override: str | None = None) -> Path:
    """The folder holding every project's cache: ``override`` (``--cache-dir``), else
    ``$DBHARNESS_CACHE_DIR``, else the per-user cache directory."""
    chosen = override or os.environ.get(ENV)
    if chosen:
        return Path(chosen).expanduser().resolve()
    import platformdirs

    return Path(platformdirs.user_cache_dir("dbharness", appauthor=False)).resolve()


def project_key(root: Path) -> str:
    """The folder name for one project: its name (for people) and a hash of its resolved
    path (for uniqueness)."""
    resolved = str(root.resolve())
    name = re.sub(r"[^A-Za-z0-9._-]", "_", root.resolve().name)[:40] or "root"
    return f"{name}-{hashlib.sha256(resolved.encode('utf-8', 'surrogateescape')).hexdigest()[:16]}"


def project_dir(root: Path, override: str | None = None) -> Path | Refused:
    """This project's cache folder, created ``0o700`` if missing; :class:`Refused` when it
    (or the base folder) is not a real directory owned by this user and closed to others."""
    base = base_dir(override)
    target = base / project_key(root)
    try:
        base.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        return Refused(f"cannot create {base.parent}: {err.strerror or err}")
    for folder in (base, target):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass
        except OSError as err:
            return Refused(f"cannot create {folder}: {err.strerror or err}")
        problem = unsafe(folder)
        if problem:
            return Refused(problem)
    return target


def unsafe(folder: Path) -> str | None:
    """Why ``folder`` must not hold a cache (None: it may): not a directory (a symlink is
    not followed), owned by another user, or writable by group or others."""
    try:
        st = os.lstat(folder)
    except OSError as err:
        return f"cannot use {folder}: {err.strerror or err}"
    if not stat.S_ISDIR(st.st_mode):
        return f"{folder} is not a directory"
    getuid = getattr(os, "getuid", None)
    if getuid is not None and st.st_uid != getuid():
        return f"{folder} is owned by another user"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"{folder} is writable by other users"
    return None


def note(refused: Refused) -> str:
    """The one line ``--stats`` prints when the cache is not used."""
    return f"dbharness: cache not used: {refused.reason}"


def for_config(root: Path, enabled: bool, override: str | None) -> Path | None:
    """The cache folder a run uses (None: caching off or refused)."""
    if not enabled:
        return None
    found = project_dir(root, override)
    return found if isinstance(found, Path) else None
