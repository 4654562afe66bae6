"""Install as a user would: build the sdist and wheel (`python -m build`), install the wheel
into a fresh venv, and run the installed `dbharness check` on the bundled pre-fix app."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PRE_FIX = REPO / "examples" / "modelforge-before-fix"


def _run(*cmd: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True,
                          timeout=900, check=False)


@pytest.mark.slow  # builds in an isolated environment and pip-installs into a new venv (~1 min)
def test_wheel_builds_installs_into_a_fresh_venv_and_checks_a_project(tmp_path: Path) -> None:
    pytest.importorskip("build")
    dist = tmp_path / "dist"
    built = _run(sys.executable, "-m", "build", "--outdir", dist, REPO, cwd=tmp_path)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = dist.glob("dbharness-*-py3-none-any.whl")
    assert len(list(dist.glob("dbharness-*.tar.gz"))) == 1
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/", 1)[0] for name in archive.namelist()}
        entry_points = next(archive.read(n).decode() for n in archive.namelist()
                            if n.endswith(".dist-info/entry_points.txt"))
    assert tops == {"harness", wheel.name.split("-py3")[0] + ".dist-info"}
    assert "dbharness = harness.cli:main" in entry_points

    venv = tmp_path / "venv"
    assert _run(sys.executable, "-m", "venv", venv, cwd=tmp_path).returncode == 0
    installed = _run(venv / "bin" / "python", "-m", "pip", "install", "-q", wheel, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr[-3000:]

    project = tmp_path / "project"
    shutil.copytree(PRE_FIX, project)
    where = _run(venv / "bin" / "python", "-c", "import harness; print(harness.__file__)",
                 cwd=project)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout + where.stderr
    check = _run(venv / "bin" / "dbharness", "check", cwd=project)
    assert check.returncode == 1, check.stdout + check.stderr
    router = "modelforge/routers/finetuning_router.py"
    line = next(i for i, text in enumerate((project / router).read_text().splitlines(), 1)
                if '"is_custom_base_model"' in text)
    assert (f"{router}:{line}:9: DBH201 [key-without-column] key 'is_custom_base_model' of "
            "model_data has no column in table fine_tuned_models" in check.stdout)
    assert "fix: ALTER TABLE fine_tuned_models ADD COLUMN is_custom_base_model" in check.stdout
