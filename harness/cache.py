"""Per-file facts cached in the project's cache folder (harness/store.py), keyed by content
hash and tool version.

Entries are spread over a fixed number of JSON shard files by a hash of the path: a warm run
loads them and stats each file; a file whose size, mtime, ctime and inode all match its entry
(the stat data git's index compares) is served as is, any other is read and hashed, and only a
file whose hash moved is parsed again. As in git, an entry written while the file's times were
within :data:`RACY_NS` of the clock is "racy" (an edit in the same timestamp tick would keep
every stat field) and is always verified by its hash. Facts are stored encoded
(``harness.store.dumps``) and decoded only when asked for; an entry that does not decode is
dropped and the file extracted again. Only the shards holding changed entries are written
back, each atomically, so concurrent runs never see a torn shard (the last to finish wins).
"""

from __future__ import annotations

import hashlib
import os
import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import harness
from harness import store
from harness.python.facts import FileFacts

if TYPE_CHECKING:
    from harness.python.source import Fingerprint

SHARDS = 32
RACY_NS = 2_000_000_000  # file times this close to the clock: verify by hash next time
_UNSET = (-1, -1, -1, -1)


def source_digest(*subpackages: str) -> str:
    """The version plus a hash of the tool's own source (only ``subpackages``, when named),
    so nothing an older build cached is ever read by a newer one."""
    digest = hashlib.sha256(harness.__version__.encode())
    package = Path(harness.__file__).parent
    if subpackages:
        paths = [p for sub in subpackages for p in (package / sub).glob("*.py")]
        paths.append(package / "store.py")  # the encoding
    else:
        paths = list(package.rglob("*.py"))
    for path in sorted(paths):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def tool_fingerprint() -> str:
    """Facts depend only on the extractor, the SQL parser and the encoding."""
    return source_digest("python", "sql")[:16]


def _shard_of(display: str) -> int:
    return zlib.crc32(display.encode("utf-8", "surrogateescape")) % SHARDS


class _Entry:
    """One file's cached facts: the stat key, the content hash, and the facts (encoded as
    read from disk, decoded once asked for)."""

    __slots__ = ("encoded", "facts", "module", "sha", "stat")

    def __init__(self, stat: tuple[int, int, int, int], sha: str, module: str,
                 encoded: str | None, facts: FileFacts | None) -> None:
        self.stat = stat
        self.sha = sha
        self.module = module
        self.encoded = encoded
        self.facts = facts


def _entry_from(raw: Any) -> _Entry | None:
    """A shard's ``[mtime_ns, size, ctime_ns, inode, sha256, module, facts]`` (None when the
    shape is wrong)."""
    if type(raw) is not list or len(raw) != 7:
        return None
    *numbers, sha, module, encoded = raw
    if not all(type(n) is int for n in numbers):
        return None
    if not (type(sha) is str and type(module) is str and type(encoded) is str):
        return None
    return _Entry((numbers[0], numbers[1], numbers[2], numbers[3]), sha, module, encoded, None)


def stat_key(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_mtime_ns, st.st_size, st.st_ctime_ns, st.st_ino)


def _settled(key: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """``key``, or the unset key when the file's times are too recent to trust (racy)."""
    if time.time_ns() - max(key[0], key[2]) < RACY_NS:
        return _UNSET
    return key


class FactCache:
    def __init__(self, directory: Path, dialect: str = "sqlite") -> None:
        self.directory = directory
        self.prefix = f"facts-{tool_fingerprint()}-{dialect}"
        self.shards: list[dict[str, _Entry]] = [{} for _ in range(SHARDS)]
        self.dirty: set[int] = set()
        for i in range(SHARDS):
            document = store.read_document(self._path(i), "facts")
            if document is None:
                continue
            entries = document.get("entries")
            if document.get("prefix") != self.prefix or type(entries) is not dict:
                continue
            shard = self.shards[i]
            for display, raw in entries.items():
                entry = _entry_from(raw)
                if entry is None or _shard_of(display) != i:
                    self.dirty.add(i)  # heal: the next flush drops it
                    continue
                shard[display] = entry

    def _path(self, shard: int) -> Path:
        return self.directory / f"{self.prefix}-{shard:02d}.json"

    def get(self, path: Path, display: str, module: str) -> FileFacts | None:
        shard = _shard_of(display)
        entry = self.shards[shard].get(display)
        if entry is None or entry.module != module:
            return None
        try:
            st = path.stat()
        except OSError:
            return None
        key = stat_key(st)
        if key == entry.stat:
            return self._facts(shard, display, entry)
        try:
            current = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return None
        if current != entry.sha:
            return None
        facts = self._facts(shard, display, entry)
        if facts is not None and _settled(key) != entry.stat:
            entry.stat = _settled(key)
            self.dirty.add(shard)
        return facts

    def _facts(self, shard: int, display: str, entry: _Entry) -> FileFacts | None:
        if entry.facts is not None:
            return entry.facts
        try:
            facts = store.loads(entry.encoded or "")
        except store.BadEntry:
            facts = None
        if (not isinstance(facts, FileFacts) or facts.path != display
                or facts.module != entry.module):
            del self.shards[shard][display]  # heal: extracted and stored again
            self.dirty.add(shard)
            return None
        entry.facts = facts
        return facts

    def put(self, facts: FileFacts, fingerprint: Fingerprint | None,
            encoded: str | None = None) -> None:
        """Remember ``facts`` for the file read with ``fingerprint`` (``encoded``: their
        ``store.dumps``, when an extraction worker already made it)."""
        if fingerprint is None:
            return
        mtime, size, ctime, inode, sha = fingerprint
        shard = _shard_of(facts.path)
        self.shards[shard][facts.path] = _Entry(_settled((mtime, size, ctime, inode)), sha,
                                                facts.module, encoded, facts)
        self.dirty.add(shard)

    def flush(self) -> None:
        if not self.dirty:
            return
        for shard in sorted(self.dirty):
            entries: dict[str, list[Any]] = {}
            for display, entry in self.shards[shard].items():
                if entry.encoded is None:
                    try:
                        entry.encoded = store.dumps(entry.facts)
                    except (TypeError, ValueError, RecursionError):
                        continue  # not storable: extracted again next time
                entries[display] = [*entry.stat, entry.sha, entry.module, entry.encoded]
            store.write_document(self._path(shard), "facts",
                                 {"prefix": self.prefix, "entries": entries})
        try:
            for old in self.directory.glob("facts-*.json"):
                if not old.name.startswith(self.prefix + "-"):
                    old.unlink(missing_ok=True)
        except OSError:
            pass
        self.dirty = set()
