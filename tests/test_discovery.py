"""Which files a check reads: config paths, default and configured excludes, snapshots."""

from __future__ import annotations

import os
from pathlib import Path

from harness.config import Config
from harness.discovery import _excluded, discover


def test_excludes(tmp_path: Path) -> None:
    for rel in ("app/a.py", "app/gen/b_pb2.py", "app/vendor/c.py", ".venv/lib/d.py",
                "build/e.py", "q.sql", "notes.txt", "contracts/snapshots/v1.sql",
                "node_modules/x/f.py", "tests/fixtures/g.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x = 1\n")
    os.symlink(tmp_path / "app", tmp_path / "app" / "loop")
    config = Config.from_sources(tmp_path, exclude=("*_pb2.py", "app/vendor", "tests/fixtures/"))
    got = sorted(p.relative_to(tmp_path).as_posix() for p in discover(config))
    assert got == ["app/a.py", "q.sql"]


def test_test_files_only_on_request(tmp_path: Path) -> None:
    for rel in ("app/a.py", "tests/test_a.py", "app/b_test.py", "conftest.py", "test/x.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x = 1\n")
    default = sorted(p.relative_to(tmp_path).as_posix()
                     for p in discover(Config.from_sources(tmp_path)))
    assert default == ["app/a.py"]
    everything = sorted(p.relative_to(tmp_path).as_posix()
                        for p in discover(Config.from_sources(tmp_path, tests=True)))
    assert len(everything) == 5


def test_no_patterns_excludes_nothing() -> None:
    assert not _excluded("app/a.py", ())
    assert _excluded("app/a.py", ("app",)) and _excluded("x/app/a.py", ("app",))
    assert not _excluded("application/a.py", ("app",))


def test_explicit_file_paths(tmp_path: Path) -> None:
    (tmp_path / "one.py").write_text("x = 1\n")
    (tmp_path / "two.py").write_text("x = 1\n")
    config = Config.from_sources(tmp_path, paths=("one.py", "missing.py"))
    assert [p.name for p in discover(config)] == ["one.py"]
