"""Explicit contracts: bindings the user states where inference cannot reach.

In ``contracts/*.toml`` or ``[[tool.dbharness.binding]]``::

    [[binding]]
    record = "app/routes.py:payload"          # a file and the variable holding the dict
    # record = "app/routes.py:create(data)"   # or: every dict passed to a function parameter
    table = "users"
    writer = "app.db:UserStore.insert"        # optional: then the writer's own SQL decides
                                              # which keys it writes; without it, every key
                                              # must be a column of the table
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.paths import inside_root
from harness.regular import read_regular

_PARAM = re.compile(r"^(?P<func>[A-Za-z_][\w.]*)\((?P<param>[A-Za-z_]\w*)\)$")


@dataclass(frozen=True)
class ContractSpec:
    source: str  # where the contract is written, for messages
    path: str  # the record's file, relative to the root
    variable: str | None
    function: str | None
    param: str | None
    table: str
    writer: str | None  # module:qualname


def _parse(entry: Any, source: str) -> ContractSpec:
    if not isinstance(entry, dict):
        raise ConfigError(f"{source}: each [[binding]] must be a table")
    record, table = entry.get("record"), entry.get("table")
    if not isinstance(record, str) or ":" not in record:
        raise ConfigError(f"{source}: binding.record must look like 'path.py:variable' or "
                          "'path.py:function(param)'")
    if not isinstance(table, str) or not table:
        raise ConfigError(f"{source}: binding.table must name a table")
    writer = entry.get("writer")
    if writer is not None and (not isinstance(writer, str) or ":" not in writer):
        raise ConfigError(f"{source}: binding.writer must look like 'module:Class.method'")
    unknown = set(entry) - {"record", "table", "writer"}
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) in [[binding]]: {', '.join(sorted(unknown))}")
    path, _, target = record.rpartition(":")
    m = _PARAM.match(target)
    if m:
        return ContractSpec(source, path, None, m.group("func"), m.group("param"), table, writer)
    if not target.isidentifier():
        raise ConfigError(f"{source}: {target!r} is not a variable name")
    return ContractSpec(source, path, target, None, None, table, writer)


CONTRACT_LIMIT = 1024 * 1024  # bytes of one contracts/*.toml


def parse_binding(entry: Any, source: str) -> ContractSpec:
    """One ``[[binding]]`` table as a ContractSpec; ConfigError (naming ``source``) when it is
    malformed."""
    return _parse(entry, source)


def load_contracts(root: Path, directory: str, inline: tuple[Any, ...]) -> list[ContractSpec]:
    specs = [_parse(entry, "[tool.dbharness] binding") for entry in inline]
    folder = root / directory
    if folder.is_dir() and inside_root(folder, root):
        for path in sorted(folder.glob("*.toml")):
            if not inside_root(path, root):
                continue  # a symlink out of the project is never read
            try:
                data = tomllib.loads(read_regular(path, CONTRACT_LIMIT)[1].decode("utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as err:
                raise ConfigError(f"cannot read contract file {path}: {err}") from err
            entries = data.get("binding", [])
            if not isinstance(entries, list):
                raise ConfigError(f"{path}: 'binding' must be an array of tables ([[binding]])")
            rel = path.relative_to(root).as_posix()
            specs.extend(_parse(entry, rel) for entry in entries)
    return specs
