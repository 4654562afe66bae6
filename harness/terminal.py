"""Terminal manners: colour only on a terminal (NO_COLOR / FORCE_COLOR honoured, see
https://no-color.org and https://force-color.org), and a progress line on stderr for runs
that last more than two seconds."""

from __future__ import annotations

import enum
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO, cast

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


class _Progress:
    """The progress line's thread; ``stop`` (idempotent) ends it and blanks the line."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self._stream, self._label = stream, label
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._width = 0  # the longest line written, to blank it at the end
        self._start = time.monotonic()
        self._thread = threading.Thread(target=self._tick, name="dbharness-progress",
                                        daemon=True)
        self._thread.start()

    def _tick(self) -> None:
        if self._done.wait(PROGRESS_AFTER):
            return
        while True:
            line = f"dbharness: {self._label}... {time.monotonic() - self._start:.0f} s"
            with self._lock:
                if self._done.is_set():
                    return
                try:
                    self._stream.write("\r" + line)
                    self._stream.flush()
                except (OSError, ValueError):
                    return
                self._width = max(self._width, len(line))
            self._done.wait(_TICK)

    def stop(self) -> None:
        with self._lock:
            if self._done.is_set():
                return
            self._done.set()
            if self._width:  # blanked with spaces: no escape sequence, whatever the terminal
                try:
                    self._stream.write("\r" + " " * self._width + "\r")
                    self._stream.flush()
                except (OSError, ValueError):
                    pass


class _StopFirst:
    """A text stream that ends the progress line before its first write, so output never
    lands in the middle of it; everything else is the wrapped stream's."""

    def __init__(self, inner: TextIO, stop: Callable[[], None]) -> None:
        self._inner, self._stop = inner, stop

    def write(self, text: str) -> int:
        self._stop()
        return self._inner.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@contextmanager
def progress(label: str) -> Iterator[None]:
    """While the body runs: after PROGRESS_AFTER seconds, and then twice a second, rewrite one
    line ``dbharness: <label>... N s`` on stderr; it is blanked, and stops for good, at the
    first write to ``sys.stdout`` or ``sys.stderr`` (which are wrapped for the body's
    duration) or when the body ends. Nothing at all unless stderr is a terminal."""
    stream = sys.stderr
    if not _isatty(stream):
        yield
        return
    bar = _Progress(stream, label)
    out, err = sys.stdout, sys.stderr
    sys.stdout = cast(TextIO, _StopFirst(out, bar.stop))
    sys.stderr = cast(TextIO, _StopFirst(err, bar.stop))
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
        bar.stop()
