"""Test helpers: build a small project on disk, check it, compare findings (pyflakes style)."""

from __future__ import annotations

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
