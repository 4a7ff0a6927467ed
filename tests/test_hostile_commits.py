"""A commit is untrusted input: results/ (and the folders in it) may be symlinks a
collaborator committed, and gitax.toml may name folders outside the project. gitax never
writes through a symlink or outside the project."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import ProjectDir, git, gitax


@pytest.fixture
def linked(proj: ProjectDir) -> ProjectDir:
    proj.method("m", "def synthesis(job):\n    job.save('data', 'authorized_keys')\n")
    proj.build_script(
        "def main(urd):\n    urd.build('m').link_result('authorized_keys', 'sub/authorized_keys')\n"
    )
    gitax("build", cwd=proj.root)
    git("init", "-q", cwd=proj.root)
    git("add", "-A", cwd=proj.root)
    git("commit", "-qm", "built", cwd=proj.root)
    return proj


@pytest.mark.parametrize("where", ["results", "results/sub"])
def test_checkout_results_never_writes_through_a_committed_symlink(
    linked: ProjectDir, tmp_path: Path, where: str
) -> None:
    victim = tmp_path / "dot-ssh"
    victim.mkdir()
    shutil.rmtree(linked.root / where)
    (linked.root / where).symlink_to(victim)
    if where == "results":
        (victim / "sub").mkdir()  # what a hostile commit's target could hold
    proc = gitax("checkout", "--results", cwd=linked.root, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "is a symlink" in proc.stderr and "never writes through one" in proc.stderr
    assert [p for p in victim.rglob("*") if not p.is_dir()] == []
    build = gitax("build", cwd=linked.root, check=False)  # link_result refuses alike
    assert build.returncode == 1 and "never writes through one" in build.stderr
    assert [p for p in victim.rglob("*") if not p.is_dir()] == []
