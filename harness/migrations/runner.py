"""Run the entry point on a database file in a subprocess, with a timeout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunOutcome:
    returncode: int | None
    stdout: str
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


def run_entry(entry: str, db: Path, root: Path, timeout: float, *, kill_at: int | None = None,
              count: bool = False, record_json: Path | None = None) -> RunOutcome:
    import time

    cmd = [sys.executable, "-m", "harness.migrations.child", entry, str(db)]
    if record_json is not None:
        cmd += ["--record-json", str(record_json)]
    count_file = None
    if kill_at is not None:
        cmd += ["--kill-at", str(kill_at)]
    if count:
        fd, count_file = tempfile.mkstemp(prefix="dbh-count-", suffix=".txt")
        os.close(fd)
        cmd += ["--count-file", count_file]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    start = time.perf_counter()
    try:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                                errors="replace", start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            timed_out = True
        statements = None
        if count_file and proc.returncode == 0:
            text = Path(count_file).read_text(encoding="utf-8").strip()
            statements = int(text) if text.isdigit() else None
        return RunOutcome(proc.returncode, out, err, timed_out, statements,
                          time.perf_counter() - start)
    finally:
        if count_file:
            Path(count_file).unlink(missing_ok=True)
