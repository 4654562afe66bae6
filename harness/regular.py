"""Read a file only when it is a regular file, through one descriptor, with a size bound.

A FIFO would block the read forever and ``/dev/zero`` never ends: both are refused by
``fstat`` on the descriptor that is then read, so a file swapped after discovery cannot slip
through either.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
_CHUNK = 1 << 20


class NotRegular(OSError):
    """The path is a FIFO, device, socket or directory (``kind`` says which)."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"not a regular file ({kind})")
        self.kind = kind


class TooLarge(OSError):
    """The file holds more than the limit; ``size`` is what ``fstat`` reported, in bytes."""

    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes is over the limit")
        self.size = size


def kind_of(mode: int) -> str:
    """A word for the file type in ``st_mode``: 'regular file', 'FIFO', 'device', ..."""
    if stat.S_ISREG(mode):
        return "regular file"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def read_regular(path: Path, limit: int, *,
                 follow_symlinks: bool = True) -> tuple[os.stat_result, bytes]:
    """``(stat, bytes)`` of the regular file at ``path``, at most ``limit`` bytes; a symlink
    is followed unless ``follow_symlinks`` is False (then opening it fails with OSError).
    Raises NotRegular, TooLarge, or OSError when it cannot be opened or read."""
    flags = _FLAGS if follow_symlinks else _FLAGS | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegular(kind_of(st.st_mode))
        if st.st_size > limit:
            raise TooLarge(st.st_size)
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # grew since fstat
                raise TooLarge(total)
        return st, b"".join(chunks)
    finally:
        os.close(fd)
