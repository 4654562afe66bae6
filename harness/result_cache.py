"""Whole-run cache: when no input changed since the last run, its findings are the answer.

The key covers everything a result depends on: the tool's own source, the resolved
configuration, and the path, size, mtime, ctime and inode of every file the check reads
(Python and SQL files, snapshots, contract files, pyproject.toml): an edit changes the ctime
even when the size and mtime are put back. A result whose inputs changed within
``RACY_NS`` of the run is not kept (an edit in the same timestamp tick would change no stat
field). Checking it costs a directory walk and a stat per file; nothing is parsed and sqlglot
is not even imported. Results are stored as JSON in the project's cache folder
(harness/store.py), never inside the project.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from harness import store
from harness.cache import RACY_NS, source_digest
from harness.config import Config
from harness.diagnostics import Diagnostic
from harness.discovery import discover, relative

_ENTRIES = 8  # results kept (different paths or configs of one project)


def inputs_key(config: Config, paths: tuple[str, ...] | None) -> str | None:
    """The key of this run's inputs; None when one changed too recently to key by stat."""
    digest = hashlib.sha256(source_digest().encode())
    digest.update(config.show().encode())
    digest.update(repr(paths).encode())
    extra = [config.root / "pyproject.toml"]
    contracts = config.root / config.contracts
    if contracts.is_dir():
        extra.extend(sorted(contracts.rglob("*")))
    newest = 0
    for path in [*discover(config, paths), *extra]:
        try:
            st = os.stat(path)
        except OSError:
            continue
        newest = max(newest, st.st_mtime_ns, st.st_ctime_ns)
        digest.update(f"{relative(path, config.root)}\0{st.st_size}\0{st.st_mtime_ns}\0"
                      f"{st.st_ctime_ns}\0{st.st_ino}\n".encode("utf-8", "surrogateescape"))
    if time.time_ns() - newest < RACY_NS:
        return None
    return digest.hexdigest()


def _file(folder: Path, key: str) -> Path:
    return folder / f"result-{key[:32]}.json"


def load(folder: Path, key: str) -> tuple[tuple[Diagnostic, ...], int, str] | None:
    """The findings, file count and coverage line stored under ``key`` (None: none, or not
    well-formed)."""
    document = store.read_document(_file(folder, key), "result")
    if document is None or document.get("key") != key or type(document.get("files")) is not int:
        return None
    try:
        found = store.loads(document.get("diagnostics"))  # type: ignore[arg-type]
    except store.BadEntry:
        return None
    if type(found) is not tuple or not all(type(d) is Diagnostic for d in found):
        return None
    covered = document.get("coverage", "")
    return found, document["files"], covered if type(covered) is str else ""


def store_result(folder: Path, key: str, diagnostics: tuple[Diagnostic, ...],
                 files: int, covered: str = "") -> None:
    """Keep this result (and the ``_ENTRIES`` newest others); best effort."""
    try:
        encoded = store.dumps(tuple(diagnostics))
    except (TypeError, ValueError, RecursionError):
        return
    target = _file(folder, key)
    if not store.write_document(target, "result",
                                {"key": key, "files": files, "diagnostics": encoded,
                                 "coverage": covered}):
        return
    try:
        old = sorted(folder.glob("result-*.json"), key=lambda p: p.stat().st_mtime_ns)
        for stale in old[:-_ENTRIES]:
            stale.unlink(missing_ok=True)
    except OSError:
        pass
