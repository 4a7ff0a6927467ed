"""Nothing hangs silently: subjob cycles are named, and locks left empty or by a process
whose pid now belongs to another are taken over; fsck names stale locks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, ProjectDir, gitax

from gitax.store.lockfile import holder_text


def build(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gitax", "build"],
        cwd=root,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=60,  # a hang fails the test instead of stalling the suite
    )


@pytest.mark.parametrize("depth", [1, 2])
def test_a_subjob_cycle_is_an_error_naming_the_chain(proj: ProjectDir, depth: int) -> None:
    target = "a" if depth == 1 else "b"
    proj.method("a", f"from gitax.subjobs import build\ndef synthesis():\n    build('{target}')\n")
    proj.method("b", "from gitax.subjobs import build\ndef synthesis():\n    build('a')\n")
    proj.build_script("def main(urd):\n    urd.build('a')\n")
    proc = build(proj.root)
    assert proc.returncode == 1
    line = next(x for x in proc.stderr.splitlines() if "subjob cycle: " in x)
    chain = line.split("subjob cycle: ")[1].split(";")[0]
    methods = [jid.rsplit("-", 1)[0] for jid in chain.split(" -> ")]
    assert methods == (["a", "b", "a"] if depth == 2 else ["a", "a"])


@pytest.fixture
def one_job(proj: ProjectDir) -> tuple[ProjectDir, Path]:
    """A built job, then un-indexed, with the path of its job lock."""
    proj.method("m", "def synthesis():\n    return 1\n")
    proj.build_script("def main(urd):\n    urd.build('m')\n")
    gitax("build", cwd=proj.root)
    store = proj.project().store
    (key,) = list(store.index.keys())
    os.unlink(store.index.path(key))
    return proj, Path(f"{store.path('lock', key)}.lock")


def _stale_holders() -> list[str]:
    host, pid, start, boot = holder_text().split()
    return [
        "",  # killed between creating the lock and writing it
        f"{host} {os.getppid()} 1 {boot}",  # a live pid, but started at another time
        f"{host} {pid} {start} not-this-boot",  # written before a reboot
    ]


@pytest.mark.parametrize("holder", range(3), ids=["empty", "pid-reused", "rebooted"])
def test_a_stale_lock_is_reported_and_taken_over(
    one_job: tuple[ProjectDir, Path], holder: int
) -> None:
    proj, lock = one_job
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text(_stale_holders()[holder])
    proc = gitax("fsck", "--json", cwd=proj.root)
    assert [s["where"] for s in json.loads(proc.stdout)["stale_locks"]] == [str(lock)]
    done = build(proj.root)
    assert done.returncode == 0, done.stderr
    assert "1 built" in done.stdout
    assert not lock.exists()


def test_a_live_holders_lock_is_not_stale(one_job: tuple[ProjectDir, Path]) -> None:
    proj, lock = one_job
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text(holder_text())  # this test process: alive, as it says
    assert json.loads(gitax("fsck", "--json", cwd=proj.root).stdout)["stale_locks"] == []
    assert socket.gethostname() in lock.read_text()
