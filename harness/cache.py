"""Per-file facts cached in ``.dbharness_cache/``, keyed by content hash and tool version.

Entries are spread over a fixed number of shard files by a hash of the path: a warm run
loads them and stats each file; only a file whose size or mtime moved is read and hashed,
only a file whose hash moved is parsed again, and only the shards holding changed entries
are written back. Writes go to a temporary file renamed into place, so concurrent runs
never see a torn shard (the last to finish wins, and every version it could write is valid).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
import zlib
from pathlib import Path

import harness
from harness.python.facts import FileFacts

# mtime_ns, size, sha256, module, and the facts, or the pickle of them an extraction worker
# already made (stored as is: no second pickling when the shard is written)
_Entry = tuple[int, int, str, str, FileFacts | bytes]
SHARDS = 32


def source_digest(*subpackages: str) -> str:
    """The version plus a hash of the tool's own source (only ``subpackages``, when named),
    so nothing an older build cached is ever read by a newer one."""
    digest = hashlib.sha256(harness.__version__.encode())
    package = Path(harness.__file__).parent
    if subpackages:
        paths = [p for sub in subpackages for p in (package / sub).glob("*.py")]
    else:
        paths = list(package.rglob("*.py"))
    for path in sorted(paths):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def tool_fingerprint() -> str:
    """Facts depend only on the extractor and the SQL parser."""
    return source_digest("python", "sql")[:16]


def _shard_of(display: str) -> int:
    return zlib.crc32(display.encode()) % SHARDS


class FactCache:
    def __init__(self, directory: Path, dialect: str = "sqlite") -> None:
        self.directory = directory
        self.prefix = f"facts-{tool_fingerprint()}-{dialect}"
        self.shards: list[dict[str, _Entry]] = [{} for _ in range(SHARDS)]
        self.dirty: set[int] = set()
        for i in range(SHARDS):
            try:
                with self._path(i).open("rb") as fh:
                    loaded = pickle.load(fh)
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
                    ValueError, TypeError, IndexError):
                continue
            if isinstance(loaded, dict):
                self.shards[i] = loaded

    def _path(self, shard: int) -> Path:
        return self.directory / f"{self.prefix}-{shard:02d}.pickle"

    def get(self, path: Path, display: str, module: str) -> FileFacts | None:
        shard = _shard_of(display)
        entry = self.shards[shard].get(display)
        if entry is None:
            return None
        try:
            st = path.stat()
        except OSError:
            return None
        mtime, size, sha, cached_module, stored = entry
        if cached_module != module:
            return None
        facts = pickle.loads(stored) if isinstance(stored, bytes) else stored
        if (st.st_mtime_ns, st.st_size) == (mtime, size):
            return facts
        try:
            current = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return None
        if current == sha:
            self.shards[shard][display] = (st.st_mtime_ns, st.st_size, sha, module, facts)
            self.dirty.add(shard)
            return facts
        return None

    def put(self, facts: FileFacts, fingerprint: tuple[int, int, str] | None,
            blob: bytes | None = None) -> None:
        if fingerprint is None:
            return
        mtime, size, sha = fingerprint
        shard = _shard_of(facts.path)
        self.shards[shard][facts.path] = (mtime, size, sha, facts.module,
                                          blob if blob is not None else facts)
        self.dirty.add(shard)

    def flush(self) -> None:
        if not self.dirty:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            gitignore = self.directory / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("*\n", encoding="utf-8")
            for shard in sorted(self.dirty):
                fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".facts-", suffix=".tmp")
                with os.fdopen(fd, "wb") as fh:
                    pickle.dump(self.shards[shard], fh, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, self._path(shard))
            for old in self.directory.glob("facts-*.pickle"):
                if not old.name.startswith(self.prefix + "-"):
                    old.unlink(missing_ok=True)
        except OSError:
            pass  # a read-only checkout still gets its check, just not a cache
        self.dirty = set()
