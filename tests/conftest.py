"""Shared fixtures: real projects in temp dirs, and the real CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gitax.jobs.project import Project, init_project, set_current

REPO = Path(__file__).resolve().parent.parent


def write(path: Path, text: str) -> Path:
    """Write dedented text, making parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


class ProjectDir:
    """A gitax project in a temp dir, with helpers to write methods and build scripts."""

    def __init__(self, root: Path) -> None:
        self.root = root
        init_project(root)

    def method(self, name: str, source: str) -> Path:
        return write(self.root / "methods" / f"a_{name}.py", source)

    def build_script(self, source: str, name: str | None = None) -> Path:
        return write(self.root / ("build.py" if not name else f"build_{name}.py"), source)

    def project(self) -> Project:
        """A fresh Project (as a new process would see it), made current."""
        project = Project.find(self.root)
        set_current(project)
        return project


@pytest.fixture
def proj(tmp_path: Path) -> ProjectDir:
    root = tmp_path / "proj"
    root.mkdir()
    return ProjectDir(root)


@pytest.fixture(autouse=True)
def _no_current_project() -> None:
    set_current(None)


def gitax(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run the real CLI in a new process."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run(
        [sys.executable, "-m", "gitax", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"gitax {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc
