"""Find the files to check: Python and SQL under the configured paths, minus excludes."""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from harness.config import DEFAULT_EXCLUDES, TEST_EXCLUDES, Config

SUFFIXES = (".py", ".sql")


@lru_cache(maxsize=64)
def _matchers(patterns: tuple[str, ...]
              ) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """One regex for whole-path globs (``dir/*.py``, or a directory and all below it) and one
    for bare names matched against any path component (``.venv``, ``*_pb2.py``)."""
    whole, names = [], []
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        whole.append(fnmatch.translate(pattern))
        whole.append(fnmatch.translate(pattern + "/*"))
        if "/" not in pattern:
            names.append(fnmatch.translate(pattern))
    return (re.compile("|".join(whole)) if whole else None,
            re.compile("|".join(names)) if names else None)


def _excluded(rel: str, patterns: tuple[str, ...]) -> bool:
    whole, names = _matchers(patterns)
    if whole is not None and whole.match(rel):
        return True
    return names is not None and any(names.match(part) for part in rel.split("/"))


def relative(path: Path, root: Path) -> str:
    """``path`` relative to the (resolved) root, posix style; no syscall when it is inside."""
    text, base = str(path), str(root)
    if text.startswith(base + os.sep):
        return text[len(base) + 1:].replace(os.sep, "/")
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def discover(config: Config, paths: tuple[str, ...] | None = None) -> Iterator[Path]:
    """Each file once, in a stable order; symlinked directories are not followed."""
    seen: set[str] = set()
    # Legacy snapshots are old databases, not the project's SQL: never checked as code.
    patterns = DEFAULT_EXCLUDES + config.exclude + (config.snapshots,)
    if not config.tests:
        patterns += TEST_EXCLUDES
    for given in paths or config.paths:
        start = (config.root / given) if not Path(given).is_absolute() else Path(given)
        if start.is_file() or (start.is_symlink() and not start.is_dir()):
            key = str(start.resolve()) if start.exists() else str(start)
            if key not in seen:
                seen.add(key)
                yield start
            continue
        if not start.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(start, followlinks=False):
            base = Path(dirpath)
            real_base = os.path.realpath(dirpath)
            dirnames[:] = sorted(
                d for d in dirnames
                if not _excluded(relative(base / d, config.root), patterns)
                and not (base / d).is_symlink()
            )
            for name in sorted(filenames):
                if not name.endswith(SUFFIXES):
                    continue
                path = base / name
                rel = relative(path, config.root)
                if _excluded(rel, patterns):
                    continue
                # One realpath per directory; a symlinked file is resolved itself.
                key = (os.path.realpath(path) if os.path.islink(path)
                       else os.path.join(real_base, name))
                if key not in seen:
                    seen.add(key)
                    yield path
