"""Find the files to check: Python and SQL under the configured paths, minus excludes."""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from harness.config import DEFAULT_EXCLUDES, TEST_EXCLUDES, Config
from harness.paths import inside_root
from harness.regular import kind_of

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


@dataclass(frozen=True)
class Skipped:
    """A file discovery will not let anything read, and the one-line reason."""

    path: Path
    reason: str


def _refusal(path: Path, base: Path | None) -> str | None:
    """Why ``path`` must not be read, or None. ``base`` is the tree a symlinked file must
    stay in (None: the user named this file on the command line)."""
    if base is not None and os.path.islink(path) and not inside_root(path, base):
        return "skipped: a symlink to a file outside the project; not read"
    try:
        mode = os.stat(path).st_mode
    except OSError as err:
        return f"skipped: cannot read file: {err.strerror or err}"
    if not stat.S_ISREG(mode):
        return f"skipped: not a regular file ({kind_of(mode)}); not read"
    return None


def discover(config: Config, paths: tuple[str, ...] | None = None,
             skipped: list[Skipped] | None = None) -> Iterator[Path]:
    """Each regular file once, in a stable order. Symlinked directories are not followed; a
    symlinked file is read only when it resolves inside the project root (or inside the
    directory given on the command line, when that is outside the root); FIFOs, devices
    and broken links are never opened. What is refused is appended to ``skipped``."""
    seen: set[str] = set()
    # Legacy snapshots are old databases, not the project's SQL: never checked as code.
    patterns = DEFAULT_EXCLUDES + config.exclude + (config.snapshots,)
    if not config.tests:
        patterns += TEST_EXCLUDES

    def refused(path: Path, base: Path | None) -> bool:
        reason = _refusal(path, base)
        if reason is not None and skipped is not None:
            skipped.append(Skipped(path, reason))
        return reason is not None

    for given in paths or config.paths:
        start = (config.root / given) if not Path(given).is_absolute() else Path(given)
        if start.is_file() or (start.is_symlink() and not start.is_dir()):
            key = str(start.resolve()) if start.exists() else str(start)
            if key not in seen:
                seen.add(key)
                if not refused(start, None):
                    yield start
            continue
        if not start.is_dir():
            if os.path.lexists(start):  # a FIFO or device named on the command line
                refused(start, None)
            continue
        base = config.root if inside_root(start, config.root) else Path(os.path.realpath(start))
        for dirpath, dirnames, filenames in os.walk(start, followlinks=False):
            dirbase = Path(dirpath)
            real_base = os.path.realpath(dirpath)
            dirnames[:] = sorted(
                d for d in dirnames
                if not _excluded(relative(dirbase / d, config.root), patterns)
                and not (dirbase / d).is_symlink()
            )
            for name in sorted(filenames):
                if not name.endswith(SUFFIXES):
                    continue
                path = dirbase / name
                rel = relative(path, config.root)
                if _excluded(rel, patterns):
                    continue
                # One realpath per directory; a symlinked file is resolved itself.
                key = (os.path.realpath(path) if os.path.islink(path)
                       else os.path.join(real_base, name))
                if key not in seen:
                    seen.add(key)
                    if not refused(path, base):
                        yield path
