"""Per-file facts cached in ``.dbharness_cache/``, keyed by content hash and tool version.

One pickle holds every entry: a warm run loads it once and stats each file; only a file
whose size or mtime moved is read and hashed, and only a file whose hash moved is parsed
again. Writes go to a temporary file renamed into place, so concurrent runs never see a
torn cache (the last one to finish wins, and every version it could write is valid).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

import harness
from harness.python.facts import FileFacts

_Entry = tuple[int, int, str, str, FileFacts]  # mtime_ns, size, sha256, module, facts


def tool_fingerprint() -> str:
    """The version plus a hash of the extractor's own source, so a changed extractor
    never reads facts an older one wrote."""
    digest = hashlib.sha256(harness.__version__.encode())
    package = Path(harness.__file__).parent
    for path in sorted((package / "python").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class FactCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.file = directory / f"facts-{tool_fingerprint()}.pickle"
        self.entries: dict[str, _Entry] = {}
        self.dirty = False
        try:
            with self.file.open("rb") as fh:
                loaded = pickle.load(fh)
            if isinstance(loaded, dict):
                self.entries = loaded
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
                ValueError, TypeError):
            self.entries = {}

    def get(self, path: Path, display: str, module: str) -> FileFacts | None:
        entry = self.entries.get(display)
        if entry is None:
            return None
        try:
            st = path.stat()
        except OSError:
            return None
        mtime, size, sha, cached_module, facts = entry
        if cached_module != module:
            return None
        if (st.st_mtime_ns, st.st_size) == (mtime, size):
            return facts
        try:
            current = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return None
        if current == sha:
            self.entries[display] = (st.st_mtime_ns, st.st_size, sha, module, facts)
            self.dirty = True
            return facts
        return None

    def put(self, facts: FileFacts, fingerprint: tuple[int, int, str] | None) -> None:
        if fingerprint is None:
            return
        mtime, size, sha = fingerprint
        self.entries[facts.path] = (mtime, size, sha, facts.module, facts)
        self.dirty = True

    def flush(self) -> None:
        if not self.dirty:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            gitignore = self.directory / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("*\n", encoding="utf-8")
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".facts-", suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(self.entries, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.file)
            for old in self.directory.glob("facts-*.pickle"):
                if old != self.file:
                    old.unlink(missing_ok=True)
        except OSError:
            pass  # a read-only checkout still gets its check, just not a cache
        self.dirty = False
