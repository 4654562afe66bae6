"""Test helpers: build a small project on disk, check it, compare findings (pyflakes style)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import textwrap
from pathlib import Path

from harness.check import CheckResult, run_check
from harness.config import Config
from harness.diagnostics import Diagnostic


def write_project(root: Path, files: dict[str, str]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")


def check_files(root: Path, files: dict[str, str], **config: object) -> CheckResult:
    write_project(root, files)
    cfg = Config.from_sources(root, cache=False, **config)  # type: ignore[arg-type]
    return run_check(cfg)


def findings(root: Path, files: dict[str, str], **config: object) -> list[Diagnostic]:
    return list(check_files(root, files, **config).diagnostics)


def rules_of(diags: list[Diagnostic]) -> list[str]:
    return sorted(d.rule for d in diags)


def assert_rules(diags: list[Diagnostic], *expected: str) -> None:
    got = rules_of(diags)
    assert got == sorted(expected), "findings differ:\n" + "\n".join(str(d) for d in diags)


def run_on_pty(cwd: Path, args: list[str], env: dict[str, str],
               stdout_pty: bool = True) -> tuple[str, str]:
    """Run the CLI with stderr (and stdout, unless told) on a pseudo-terminal:
    (terminal text, piped stdout)."""
    master, slave = pty.openpty()
    full = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    proc = subprocess.Popen([sys.executable, "-m", "harness", *args], cwd=cwd,
                            stdout=slave if stdout_pty else subprocess.PIPE, stderr=slave,
                            stdin=subprocess.DEVNULL,
                            env={**full, "PYTHONDONTWRITEBYTECODE": "1", "TERM": "xterm",
                                 **env})
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed its side
            break
        if not data:
            break
        chunks.append(data)
    piped = proc.stdout.read().decode() if proc.stdout else ""
    proc.wait(timeout=120)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace"), piped
