"""Terminal manners: colour only on a terminal (NO_COLOR / FORCE_COLOR honoured, see
https://no-color.org and https://force-color.org), and a progress line on stderr for runs
that last more than two seconds."""

from __future__ import annotations

import enum
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

PROGRESS_AFTER = 2.0  # seconds before the first progress line
_TICK = 0.5


class Colour(enum.StrEnum):
    """ANSI SGR sequences used by the text format."""

    BOLD = "\x1b[1m"
    RED = "\x1b[31m"
    YELLOW = "\x1b[33m"
    CYAN = "\x1b[36m"
    DIM = "\x1b[2m"
    RESET = "\x1b[0m"


def wants_colour(stream: TextIO) -> bool:
    """NO_COLOR (non-empty) wins, then FORCE_COLOR (non-empty), then: ``stream`` is a
    terminal and TERM is not ``dumb``."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return _isatty(stream) and os.environ.get("TERM") != "dumb"


def paint(text: str, colour: Colour, enabled: bool) -> str:
    return f"{colour}{text}{Colour.RESET}" if enabled else text


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


@contextmanager
def progress(stream: TextIO, label: str) -> Iterator[None]:
    """While the body runs: after PROGRESS_AFTER seconds, and then twice a second, rewrite one
    line ``dbharness: <label>... N s`` on ``stream``, erased when the body ends. Nothing at
    all unless ``stream`` is a terminal."""
    if not _isatty(stream):
        yield
        return
    done = threading.Event()
    wrote = threading.Event()
    start = time.monotonic()

    def tick() -> None:
        if done.wait(PROGRESS_AFTER):
            return
        while not done.is_set():
            try:
                stream.write(f"\rdbharness: {label}... {time.monotonic() - start:.0f} s")
                stream.flush()
            except (OSError, ValueError):
                return
            wrote.set()
            done.wait(_TICK)

    thread = threading.Thread(target=tick, name="dbharness-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        if wrote.is_set():
            try:
                stream.write("\r\x1b[K")
                stream.flush()
            except (OSError, ValueError):
                pass
