"""One frozen Config, from ``[tool.dbharness]`` in pyproject.toml, then the command line."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from harness.errors import ConfigError

DIALECTS = ("sqlite", "postgres", "mysql")

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

    @classmethod
    def from_sources(cls, root: Path | None = None, config_file: Path | None = None,
                     **overrides: Any) -> Config:
        """Defaults, then the config file, then non-None overrides (lists extend)."""
        root = (root or Path.cwd()).resolve()
        path = config_file or root / "pyproject.toml"
        raw: dict[str, Any] = {}
        found = False
        if config_file is not None and not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        if path.is_file():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as err:
                raise ConfigError(f"cannot read {path}: {err}") from err
            section = data.get("tool", {}).get("dbharness")
            if section is None and path.name != "pyproject.toml":
                section = data.get("dbharness", data)
            if section is not None:
                raw, found = dict(section), True
        config = cls(root=root, found_config=found)
        known = {f.name for f in fields(cls)} - {"root", "found_config", "cache_dir"}
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
            values[name] = _coerce(name, value, path)
        config = replace(config, **values)
        for key, value in overrides.items():
            if value is None:
                continue
            if key in ("exclude", "disable", "external_tables", "revisions"):
                value = tuple(getattr(config, key)) + tuple(value)
            elif key == "paths":
                value = tuple(value)
            config = replace(config, **{key: value})
        if config.dialect not in DIALECTS:
            raise ConfigError(f"unknown dialect '{config.dialect}' (choose from "
                              f"{', '.join(DIALECTS)})")
        return config

    def show(self) -> str:
        lines = []
        for f in fields(self):
            lines.append(f"{f.name} = {getattr(self, f.name)!r}")
        return "\n".join(lines)


def project_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` whose pyproject.toml has
    ``[tool.dbharness]`` (so a check run from a subdirectory sees the whole project and
    reports the same paths); ``start`` itself when there is none."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                text = candidate.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if "[tool.dbharness" in text:
                return folder
    return start


def _coerce(name: str, value: Any, path: Path) -> Any:
    if name == "binding":
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ConfigError(f"[tool.dbharness] binding in {path} must be an array of tables "
                              "([[tool.dbharness.binding]])")
        return tuple(value)
    tuples = ("paths", "exclude", "disable", "external_tables", "revisions")
    if name in tuples:
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"[tool.dbharness] {name} in {path} must be a list of strings")
        return tuple(value)
    if name in ("timeout",):
        if not isinstance(value, (int, float)):
            raise ConfigError(f"[tool.dbharness] {name} in {path} must be a number")
        return float(value)
    if name in ("cache", "tests"):
        if not isinstance(value, bool):
            raise ConfigError(f"[tool.dbharness] {name} in {path} must be true or false")
        return value
    if name == "jobs":
        if not isinstance(value, int):
            raise ConfigError(f"[tool.dbharness] jobs in {path} must be an integer")
        return value
    if not isinstance(value, str):
        raise ConfigError(f"[tool.dbharness] {name} in {path} must be a string")
    return value
