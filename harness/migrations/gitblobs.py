"""Read a commit's files from git: one listing, then one ``git cat-file --batch`` process.

``git show REV:PATH`` starts a process per file (about 16 ms each: 47 s for 3,000 files);
``git cat-file --batch`` reads object names on stdin and answers each with
``<oid> SP <type> SP <size> LF <contents> LF`` (or ``<oid> SP missing LF``), so a whole tree
costs one process (git-cat-file(1), "BATCH OUTPUT"). Objects are asked for by blob id, the
hash of their content: the same file in two revisions is one blob, read and analysed once.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from harness.errors import ConfigError

CHUNK = 1 << 20


@dataclass(frozen=True)
class TreeEntry:
    """One file of a commit: its path (relative to the folder git ran in), blob id, mode."""

    path: str
    oid: str
    mode: str


def _run(root: Path, *args: str) -> bytes:
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                              timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise ConfigError(f"cannot run git: {err}") from err
    if proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip() or "failed"
        raise ConfigError(f"git {' '.join(args)}: {message}")
    return proc.stdout


def list_tree(root: Path, commit: str) -> list[TreeEntry]:
    """The blobs of ``commit`` under ``root`` (``git ls-tree -r -z``: NUL-terminated
    ``<mode> SP <type> SP <oid> TAB <path>``, paths relative to ``root``). Submodules
    (``commit`` entries) are not files of this repository and are left out. ``commit`` must
    be a full hash (``resolve_commit``): it reaches git after ``--end-of-options``."""
    out: list[TreeEntry] = []
    for record in _run(root, "ls-tree", "-r", "-z", "--end-of-options", commit).split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, oid = meta.decode("ascii", errors="replace").split(" ")
        if kind == "blob":
            out.append(TreeEntry(raw_path.decode("utf-8", errors="surrogateescape"), oid, mode))
    return out


class BlobReader:
    """One ``git cat-file --batch`` process; ``read(oid)`` returns the blob's bytes.

    Use as a context manager (the process is closed on exit). ``read`` returns None for a
    blob over ``limit`` bytes (its contents are read and dropped, never held) or one git
    reports missing (a partial clone); ConfigError when git cannot be started or stops
    answering."""

    def __init__(self, root: Path, limit: int) -> None:
        self.limit = limit
        try:
            self.proc = subprocess.Popen(["git", "-C", str(root), "cat-file", "--batch"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL)
        except OSError as err:
            raise ConfigError(f"cannot run git: {err}") from err
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in: IO[bytes] = self.proc.stdin
        self._out: IO[bytes] = self.proc.stdout

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self._in.close()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self._out.close()

    def read(self, oid: str) -> bytes | None:
        if not oid or any(c not in "0123456789abcdef" for c in oid):
            raise ValueError(f"not a blob id: {oid!r}")
        try:
            self._in.write(oid.encode("ascii") + b"\n")
            self._in.flush()
        except OSError as err:
            raise ConfigError(f"git cat-file stopped: {err}") from err
        header = self._out.readline()
        if not header.endswith(b"\n"):
            raise ConfigError("git cat-file stopped answering")
        fields = header.split()
        if len(fields) == 2 and fields[1] == b"missing":
            return None
        if len(fields) != 3 or not fields[2].isdigit():
            raise ConfigError(f"git cat-file: unexpected answer {header[:80]!r}")
        size = int(fields[2])
        if size > self.limit:
            self._skip(size + 1)
            return None
        data = self._exactly(size + 1)
        return data[:-1]  # the LF after the contents

    def _exactly(self, size: int) -> bytes:
        parts: list[bytes] = []
        left = size
        while left:
            part = self._out.read(min(left, CHUNK))
            if not part:
                raise ConfigError("git cat-file stopped answering")
            parts.append(part)
            left -= len(part)
        return b"".join(parts)

    def _skip(self, size: int) -> None:
        left = size
        while left:
            part = self._out.read(min(left, CHUNK))
            if not part:
                raise ConfigError("git cat-file stopped answering")
            left -= len(part)
