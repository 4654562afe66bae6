"""One frozen Config, from ``[tool.dbharness]`` in pyproject.toml, then the command line."""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path, PurePosixPath
from typing import Any

from harness.dialects import DIALECTS
from harness.errors import ConfigError
from harness.paths import inside_root

# Test files build a schema per test, often the same table names with other columns: mixed
# into one project-wide schema they would only produce noise. ``tests = true`` checks them.
TEST_EXCLUDES = ("tests", "test", "testing", "test_*.py", "*_test.py", "conftest.py")
DEFAULT_EXCLUDES = (
    ".git", ".hg", ".venv", "venv", ".tox", ".nox", "node_modules", "__pycache__", "build",
    "dist", ".dbharness_cache", ".mypy_cache", ".ruff_cache", ".pytest_cache", "site-packages",
)


@dataclass(frozen=True)
class Config:
    root: Path = field(default_factory=Path.cwd)
    paths: tuple[str, ...] = (".",)
    exclude: tuple[str, ...] = ()
    dialect: str = "sqlite"
    snapshots: str = "contracts/snapshots/*"
    entry: str | None = None
    timeout: float = 60.0
    contracts: str = "contracts"
    disable: tuple[str, ...] = ()
    external_tables: tuple[str, ...] = ()
    revisions: tuple[str, ...] = ()  # git revisions whose schema old databases may still have
    tests: bool = False  # also check test files (each test builds its own schema)
    binding: tuple[Any, ...] = ()  # explicit contracts, as [[tool.dbharness.binding]]
    cache: bool = True
    cache_dir: str | None = None  # --cache-dir only: a project cannot name it (harness/store.py)
    jobs: int = 0
    found_config: bool = False
    dialect_given: bool = False  # set in the config file or on the command line

    @classmethod
    def from_sources(cls, root: Path | None = None, config_file: Path | None = None,
                     **overrides: Any) -> Config:
        """Defaults, then the config file, then non-None overrides (lists extend).

        Raises ConfigError (one line, naming the key and the expected type) for any value
        that is malformed or out of range, wherever it came from."""
        root = (root or Path.cwd()).resolve()
        path = config_file or root / "pyproject.toml"
        raw: dict[str, Any] = {}
        found = False
        if config_file is not None and not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        if path.is_file():
            raw, found = _section(path)
        config = cls(root=root, found_config=found)
        known = {f.name for f in fields(cls)} - {"root", "found_config", "cache_dir",
                                                 "dialect_given"}
        values: dict[str, Any] = {}
        for key, value in raw.items():
            name = key.replace("-", "_")
            if name == "cache_dir":
                raise ConfigError(
                    f"'{key}' in [tool.dbharness] of {path} is no longer a setting: caches live "
                    "in the per-user cache directory, outside the project; to move them set "
                    "DBHARNESS_CACHE_DIR or pass --cache-dir")
            if name not in known:
                raise ConfigError(f"unknown setting '{key}' in [tool.dbharness] of {path}")
            values[name] = _coerce(name, value, path, root)
        config = replace(config, **values)
        for key, value in overrides.items():
            if value is None:
                continue
            if key in ("exclude", "disable", "external_tables", "revisions"):
                value = tuple(getattr(config, key)) + tuple(value)
            elif key == "paths":
                value = tuple(value)
            config = replace(config, **{key: value})
        if "dialect" in values or overrides.get("dialect") is not None:
            config = replace(config, dialect_given=True)
        _check_ranges(config)
        return config

    def show(self) -> str:
        """The settings as a ``[tool.dbharness]`` table to paste into pyproject.toml (the root,
        whether a config file was found, and a dialect left to inference are comments)."""
        from harness.toml_emit import emit_table

        settings = {f.name: getattr(self, f.name) for f in fields(self)
                    if f.name not in ("root", "found_config", "dialect_given")
                    and getattr(self, f.name) is not None
                    and (f.name != "dialect" or self.dialect_given)}
        header = (f"# project root: {_printable(str(self.root))}\n"
                  f"# config file: {'found' if self.found_config else 'none (defaults)'}\n")
        if not self.dialect_given:
            header += (f"# dialect: not set, so the one the project's drivers speak "
                       f"(else {self.dialect})\n")
        return header + emit_table(("tool", "dbharness"), settings)


def project_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` whose pyproject.toml has
    ``[tool.dbharness]`` (so a check run from a subdirectory sees the whole project and
    reports the same paths); ``start`` itself when there is none. The search stops at the
    repository root (the first directory holding ``.git`` or ``.hg``): a pyproject.toml
    planted in a directory above a checkout is never used for it."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                text = candidate.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                text = ""
            if "[tool.dbharness" in text:
                return folder
        if any(os.path.lexists(folder / marker) for marker in (".git", ".hg")):
            break
    return start


def _section(path: Path) -> tuple[dict[str, Any], bool]:
    """The ``[tool.dbharness]`` table of ``path`` (or the top level of a dbharness.toml)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as err:
        raise ConfigError(f"cannot read {path}: {err}") from err
    tool = data.get("tool")
    if tool is not None and not isinstance(tool, dict):
        if path.name == "pyproject.toml":
            return {}, False  # another tool's business; no [tool.dbharness] here
        tool = None
    section = tool.get("dbharness") if tool is not None else None
    if section is None and path.name != "pyproject.toml":
        section = data.get("dbharness", data)
    if section is None:
        return {}, False
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [tool.dbharness]: expected a table, got {_describe(section)}")
    return dict(section), True


_LISTS = ("paths", "exclude", "disable", "external_tables", "revisions")
_STRINGS = ("dialect", "snapshots", "entry", "contracts", "cache_dir")


def _coerce(name: str, value: Any, path: Path, root: Path) -> Any:
    """One config-file value checked against its key's type, or ConfigError naming both."""
    def bad(expected: str) -> ConfigError:
        return ConfigError(f"{path}: [tool.dbharness] {name}: expected {expected}, "
                           f"got {_describe(value)}")

    if name == "binding":
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise bad("an array of tables ([[tool.dbharness.binding]])")
        from harness.link.contracts import parse_binding

        for entry in value:
            parse_binding(entry, f"{path}: [tool.dbharness] binding")
        return tuple(value)
    if name in _LISTS:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad("a list of strings")
        for item in value:
            _check_item(name, item, path, root)
        return tuple(value)
    if name == "timeout":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a number of seconds")
        return float(value)
    if name in ("cache", "tests"):
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if name == "jobs":
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("a non-negative integer")
        return value
    if not isinstance(value, str):
        raise bad("a string")
    if name == "contracts":
        _check_inside(name, value, path, root)
    return value


def _check_item(name: str, item: str, path: Path, root: Path) -> None:
    """Per-entry rules: config ``paths`` stay inside the root, ``exclude`` globs are relative,
    ``revisions`` cannot be read as git options."""
    if name == "paths":
        _check_inside(name, item, path, root)
    elif name == "exclude" and (item.startswith(("/", "\\")) or ".." in PurePosixPath(
            item.replace("\\", "/")).parts):
        raise ConfigError(f"{path}: [tool.dbharness] exclude: {_printable(item)!r} points "
                          "outside the project root (globs are relative to it)")
    elif name == "revisions" and (not item or item.startswith("-") or any(
            c.isspace() or ord(c) < 32 for c in item)):
        raise ConfigError(f"{path}: [tool.dbharness] revisions: {_printable(item)!r} is not "
                          "a git revision")


def _check_inside(name: str, item: str, path: Path, root: Path) -> None:
    """Config file paths may not leave the root (absolute, ``..``, a symlink out of it);
    paths given on the command line may."""
    pure = Path(item)
    outside = pure.is_absolute() or item.startswith("~") or not inside_root(root / pure, root)
    if not outside:
        normal = os.path.normpath(item)
        outside = normal == ".." or normal.startswith(".." + os.sep)
    if outside:
        raise ConfigError(f"{path}: [tool.dbharness] {name}: {_printable(item)!r} is outside "
                          "the project root (pass such a path on the command line instead)")


def max_jobs() -> int:
    """The largest ``jobs`` accepted: four per core."""
    return (os.cpu_count() or 1) * 4


def _check_ranges(config: Config) -> None:
    """Ranges of the merged values (config file and command line alike)."""
    if config.dialect not in DIALECTS:
        raise ConfigError(f"unknown dialect '{_printable(config.dialect)}' (choose from "
                          f"{', '.join(DIALECTS)})")
    if isinstance(config.jobs, bool) or not isinstance(config.jobs, int) \
            or not 0 <= config.jobs <= max_jobs():
        raise ConfigError(f"jobs: expected an integer from 0 (all cores) to {max_jobs()}, "
                          f"got {_describe(config.jobs)}")
    timeout = config.timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
            or not math.isfinite(timeout) or timeout <= 0:
        raise ConfigError(f"timeout: expected a finite number of seconds above 0, "
                          f"got {_describe(timeout)}")
    if config.disable:
        from harness.rules import find_rule

        unknown = [name for name in config.disable if find_rule(name) is None]
        if unknown:
            raise ConfigError(f"disable: unknown rule {_printable(unknown[0])!r} (a slug or code "
                              "from `dbharness rule`)")


def _describe(value: Any) -> str:
    """A short, printable account of a TOML value for an error message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        text = _printable(value)
        return f"the string {text[:60]!r}" + ("..." if len(text) > 60 else "")
    if isinstance(value, (int, float)):
        return repr(value)[:40]
    return f"a {type(value).__name__}"


def _printable(text: str) -> str:
    """Control characters and unpaired surrogates as backslash escapes (one safe line)."""
    from harness.escape import printable

    return printable(text)
