"""Whole-run cache: when no input changed since the last run, its findings are the answer.

The key covers everything a result depends on: the tool's own source, the resolved
configuration, and the path, size and mtime of every file the check reads (Python and SQL
files, snapshots, contract files, pyproject.toml). Checking it costs a directory walk and a
stat per file; nothing is parsed and sqlglot is not even imported.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

from harness.cache import source_digest
from harness.config import Config
from harness.diagnostics import Diagnostic
from harness.discovery import discover, relative

_ENTRIES = 8  # results kept (different paths or configs of one project)


def inputs_key(config: Config, paths: tuple[str, ...] | None) -> str:
    digest = hashlib.sha256(source_digest().encode())
    digest.update(config.show().encode())
    digest.update(repr(paths).encode())
    extra = [config.root / "pyproject.toml"]
    contracts = config.root / config.contracts
    if contracts.is_dir():
        extra.extend(sorted(contracts.rglob("*")))
    for path in [*discover(config, paths), *extra]:
        try:
            st = os.stat(path)
        except OSError:
            continue
        digest.update(f"{relative(path, config.root)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _file(config: Config, key: str) -> Path:
    return config.root / config.cache_dir / f"result-{key[:32]}.pickle"


def load(config: Config, key: str) -> tuple[tuple[Diagnostic, ...], int, str] | None:
    """(findings, files checked, the coverage line) of the run with this key, if kept."""
    try:
        with _file(config, key).open("rb") as fh:
            data = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError,
            TypeError):
        return None
    if not (isinstance(data, tuple) and len(data) == 4 and data[0] == key):
        return None
    return data[1], data[2], data[3]


def store(config: Config, key: str, diagnostics: tuple[Diagnostic, ...], files: int,
          covered: str = "") -> None:
    target = _file(config, key)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".result-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump((key, diagnostics, files, covered), fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, target)
        old = sorted(target.parent.glob("result-*.pickle"), key=lambda p: p.stat().st_mtime)
        for stale in old[:-_ENTRIES]:
            stale.unlink(missing_ok=True)
    except OSError:
        pass
