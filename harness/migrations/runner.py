"""Run the child process (the entry point on a database file, or a dump load) with a timeout.

Every run is fenced so that nothing it starts outlives it and nothing it prints can grow the
dbharness process:

* the child starts in its own session and process group (``start_new_session=True``); after
  it exits, times out, or the run is interrupted (Ctrl-C, ``SystemExit``, an exception), the
  whole group is killed with ``os.killpg(SIGKILL)`` while the child is still unreaped (so the
  group id cannot have been reused), and the child is reaped with a deadline;
* descendants that left the group (``setsid``, a double fork) are found by a marker in their
  environment (``DBHARNESS_RUN=<token>``, inherited by every process the child starts) and
  killed too (Linux ``/proc``);
* stdout and stderr are read as they come into bounded buffers that keep the last
  :data:`TAIL_BYTES` of each, and the run never waits for pipe EOF past the deadline (a
  detached grandchild may hold the pipes open);
* the child asks the kernel to SIGKILL it if dbharness dies (``PR_SET_PDEATHSIG``), and a
  small watchdog process (one per dbharness process, holding the read end of a pipe only
  dbharness writes) kills every group and marked process still registered when that pipe
  closes, so even a SIGKILLed dbharness leaves nothing running.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import secrets
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ConfigError

TAIL_BYTES = 64 * 1024  # kept from the end of each stream
REAP_SECONDS = 5.0  # how long a killed process may take to go
DRAIN_SECONDS = 0.2  # after the child exits, how long to wait for the rest of its output
MARK = "DBHARNESS_RUN"
PARENT = "DBHARNESS_PARENT"


@dataclass(frozen=True)
class RunOutcome:
    returncode: int | None
    stdout: str  # the last TAIL_BYTES of the stream, decoded (invalid UTF-8 replaced)
    stderr: str
    timed_out: bool
    statements: int | None  # how many statements SQLite executed, when counted
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL

    def describe(self) -> str:
        if self.timed_out:
            return "the entry point did not finish before the timeout and was killed"
        if self.returncode == 0:
            return "ok"
        tail = [line for line in self.stderr.strip().splitlines() if line.strip()][-3:]
        detail = " | ".join(tail) if tail else "no output"
        return f"the entry point failed (exit {self.returncode}): {detail}"


def check_timeout(timeout: object) -> float:
    """``timeout`` as float seconds; raises ConfigError unless it is a finite number > 0."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or \
            not math.isfinite(timeout) or timeout <= 0:
        raise ConfigError(f"timeout must be a finite number of seconds greater than 0, "
                          f"not {timeout!r}")
    return float(timeout)


class _Tail:
    """The last ``limit`` bytes written to it."""

    def __init__(self, limit: int = TAIL_BYTES) -> None:
        self.limit = limit
        self.data = bytearray()

    def add(self, chunk: bytes) -> None:
        self.data += chunk
        if len(self.data) > self.limit:
            del self.data[: len(self.data) - self.limit]

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


# Runs in flight (pid -> marker token), so an interrupt or interpreter exit kills them all.
_LIVE: dict[int, str] = {}
_LIVE_LOCK = threading.Lock()


# The watchdog: reads "+ PID TOKEN" / "- PID" lines; at EOF (dbharness exited, however it
# exited) kills what is still registered. Written for ``python -I -S -c``: stdlib only.
_WATCHDOG = r"""
import os, signal, sys, time
live = {}
for line in sys.stdin:
    parts = line.split()
    if len(parts) == 3 and parts[0] == "+":
        live[int(parts[1])] = parts[2]
    elif len(parts) == 2 and parts[0] == "-":
        live.pop(int(parts[1]), None)
for pid, token in live.items():
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    needle = ("DBHARNESS_RUN=" + token).encode()
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if entry.isdigit():
            try:
                with open("/proc/" + entry + "/environ", "rb") as fh:
                    env = fh.read()
            except OSError:
                continue
            if needle + b"\0" in env or env.endswith(needle):
                try:
                    os.kill(int(entry), signal.SIGKILL)
                except OSError:
                    pass
"""
_watchdog: subprocess.Popen[bytes] | None = None
_watchdog_pid = 0  # the dbharness pid that started it (a forked copy must start its own)


def _tell_watchdog(line: str) -> None:
    """Register (or drop) a run with the watchdog, starting it on first use; best effort."""
    global _watchdog, _watchdog_pid
    with _LIVE_LOCK:
        try:
            if _watchdog is None or _watchdog_pid != os.getpid() or _watchdog.poll() is not None:
                _watchdog = subprocess.Popen([sys.executable, "-I", "-S", "-c", _WATCHDOG],
                                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL, start_new_session=True)
                _watchdog_pid = os.getpid()
            assert _watchdog.stdin is not None
            _watchdog.stdin.write(line.encode() + b"\n")
            _watchdog.stdin.flush()
        except (OSError, ValueError):
            _watchdog = None


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _marked(token: str) -> list[int]:
    """Pids of live processes whose environment carries this run's marker (Linux /proc)."""
    needle = f"{MARK}={token}".encode()
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    me = os.getpid()
    for entry in entries:
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                env = fh.read()
        except OSError:
            continue
        if needle + b"\0" in env or env.endswith(needle):
            found.append(int(entry))
    return found


def _gone(pid: int) -> bool:
    """The process no longer runs (exited, or a zombie waiting for its parent)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except FileNotFoundError:
        return True
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    return stat[stat.rfind(b")") + 2:][:1] in (b"Z", b"X")


def _sweep(token: str, deadline: float) -> None:
    """Kill every process carrying the marker and wait (until ``deadline``) for them to go."""
    pids = _marked(token)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    while pids and time.monotonic() < deadline:
        pids = [p for p in pids if not _gone(p)]
        if pids:
            time.sleep(0.01)


def kill_all() -> None:
    """Kill every run in flight, with everything it started (interrupt and exit path)."""
    with _LIVE_LOCK:
        live = list(_LIVE.items())
    for pid, token in live:
        _kill_group(pid)
        _sweep(token, time.monotonic() + REAP_SECONDS)


def _at_exit() -> None:
    kill_all()
    watchdog = _watchdog
    if watchdog is not None and watchdog.stdin is not None and _watchdog_pid == os.getpid():
        with contextlib.suppress(OSError):
            watchdog.stdin.close()  # EOF: it has nothing registered left, so it just exits
        with contextlib.suppress(subprocess.TimeoutExpired):
            watchdog.wait(timeout=REAP_SECONDS)


atexit.register(_at_exit)


def _exited(proc: subprocess.Popen[bytes]) -> bool:
    """Whether the child has exited, without reaping it (its pid keeps the group id)."""
    try:
        info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return info is not None


def _pump(proc: subprocess.Popen[bytes], deadline: float, out: _Tail, err: _Tail) -> bool:
    """Read both pipes into the tails until the child exits or the deadline passes; True
    when the deadline passed first."""
    assert proc.stdout is not None and proc.stderr is not None
    sel = selectors.DefaultSelector()
    tails = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}
    for fd in tails:
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    pidfd = None
    with contextlib.suppress(AttributeError, OSError):
        pidfd = os.pidfd_open(proc.pid)
        sel.register(pidfd, selectors.EVENT_READ)
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return not _exited(proc)
            wait = remaining if pidfd is not None else min(remaining, 0.02)
            for key, _ in sel.select(wait):
                if key.fd == pidfd:
                    continue
                _read(key.fd, tails, sel)
            if _exited(proc):
                return False
    finally:
        sel.close()
        if pidfd is not None:
            os.close(pidfd)


def _read(fd: int, tails: dict[int, _Tail], sel: selectors.BaseSelector) -> bool:
    """Read what is there; False (and unregister) at EOF."""
    try:
        chunk = os.read(fd, 1 << 16)
    except BlockingIOError:
        return True
    except OSError:
        chunk = b""
    if not chunk:
        with contextlib.suppress(KeyError, ValueError):
            sel.unregister(fd)
        return False
    tails[fd].add(chunk)
    return True


def _drain(proc: subprocess.Popen[bytes], out: _Tail, err: _Tail, until: float) -> None:
    """Collect what is left in the pipes, stopping at EOF or at ``until``."""
    assert proc.stdout is not None and proc.stderr is not None
    tails = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}
    sel = selectors.DefaultSelector()
    try:
        for fd in tails:
            sel.register(fd, selectors.EVENT_READ)
        while sel.get_map() and (remaining := until - time.monotonic()) > 0:
            for key, _ in sel.select(remaining):
                _read(key.fd, tails, sel)
    finally:
        sel.close()


def run_child(args: list[str], cwd: Path, timeout: float, *,
              pythonpath: list[str] | None = None) -> tuple[RunOutcome, float]:
    """``python -m harness.migrations.child ARGS`` in ``cwd`` (``pythonpath`` first on the
    child's import path), fenced as the module says.

    ``timeout`` is seconds (a finite number > 0, else ConfigError). Returns the outcome and
    the monotonic time the child started."""
    timeout = check_timeout(timeout)
    token = secrets.token_hex(12)
    path = [*(pythonpath or []), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", MARK: token,
           PARENT: str(os.getpid()), "PYTHONPATH": os.pathsep.join(p for p in path if p)}
    out, err = _Tail(), _Tail()
    start = time.monotonic()
    deadline = start + timeout
    proc = subprocess.Popen([sys.executable, "-m", "harness.migrations.child", *args], cwd=cwd,
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    with _LIVE_LOCK:
        _LIVE[proc.pid] = token
    _tell_watchdog(f"+ {proc.pid} {token}")
    timed_out = False
    interrupted = True
    try:
        timed_out = _pump(proc, deadline, out, err)
        interrupted = False
    finally:
        # The child is exited but unreaped, or still running: either way its pid still names
        # the group, so killpg reaches exactly the processes it left behind.
        _kill_group(proc.pid)
        _sweep(token, time.monotonic() + REAP_SECONDS)
        if interrupted:
            kill_all()  # Ctrl-C: every other run in flight goes too
        # A process in uninterruptible sleep may outlast SIGKILL: give up after the deadline.
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=REAP_SECONDS)
        with _LIVE_LOCK:
            _LIVE.pop(proc.pid, None)
        _tell_watchdog(f"- {proc.pid}")
        if not interrupted:
            _drain(proc, out, err, min(time.monotonic() + DRAIN_SECONDS, deadline + 1.0))
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    seconds = time.monotonic() - start
    return RunOutcome(proc.returncode, out.text(), err.text(), timed_out, None, seconds), start


def run_entry(entry: str, db: Path, root: Path, timeout: float, *, kill_at: int | None = None,
              count: bool = False, record_json: Path | None = None) -> RunOutcome:
    """Run ``entry`` (``module:callable``) on the database file ``db``, importable from
    ``root``, within ``timeout`` seconds (a finite number > 0, else ConfigError)."""
    check_timeout(timeout)
    args = [entry, str(db)]
    if record_json is not None:
        args += ["--record-json", str(record_json)]
    if kill_at is not None:
        args += ["--kill-at", str(kill_at)]
    count_file = None
    if count:
        fd, count_file = tempfile.mkstemp(prefix="dbh-count-", suffix=".txt")
        os.close(fd)
        args += ["--count-file", count_file]
    try:
        outcome, _ = run_child(args, root, timeout, pythonpath=[str(root)])
        statements = None
        if count_file and outcome.returncode == 0:
            text = Path(count_file).read_text(encoding="utf-8").strip()
            statements = int(text) if text.isdigit() else None
        return RunOutcome(outcome.returncode, outcome.stdout, outcome.stderr,
                          outcome.timed_out, statements, outcome.seconds)
    finally:
        if count_file:
            Path(count_file).unlink(missing_ok=True)
