"""Stopping a build: Ctrl-C, SIGTERM and SIGKILL leave nothing half-stored and no orphans."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, ProjectDir


def start_build(root: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, "-m", "gitax", "build"],
        cwd=root,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(path: Path, timeout: float = 20.0) -> None:
    """Until `path` exists and holds something (the job writes its pid after opening it)."""
    deadline = time.monotonic() + timeout
    while not path.exists() or not path.read_text():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by init) counts as gone.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" not in status.read_text()


@pytest.fixture
def slow(proj: ProjectDir, tmp_path: Path) -> ProjectDir:
    marker = tmp_path / "job.pid"
    proj.method(
        "slow",
        f"""
        import os, time
        def synthesis():
            open({str(marker)!r}, "w").write(str(os.getpid()))
            time.sleep(60)
        """,
    )
    proj.build_script("def main(urd):\n    urd.build('slow')\n")
    proj.marker = marker  # type: ignore[attr-defined]
    return proj


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_interrupting_a_build_stops_the_job_and_stores_nothing(slow: ProjectDir, how: str) -> None:
    proc = start_build(slow.root)
    wait_for(slow.marker)  # type: ignore[attr-defined]
    job_pid = int(slow.marker.read_text())  # type: ignore[attr-defined]
    if how == "ctrl-c":
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends to the foreground group
    else:
        os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "interrupted" in err.strip().splitlines()[-1]
    assert not alive(job_pid)
    store = slow.project().store
    assert list(store.index.keys()) == []
    assert [p.name.split("-")[0] for p in store.failed.iterdir()] == ["slow"]


def test_a_killed_build_takes_its_job_with_it(slow: ProjectDir) -> None:
    proc = start_build(slow.root)
    wait_for(slow.marker)  # type: ignore[attr-defined]
    job_pid = int(slow.marker.read_text())  # type: ignore[attr-defined]
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while alive(job_pid):
        assert time.monotonic() < deadline, "the job outlived its build"
        time.sleep(0.05)
    assert list(slow.project().store.index.keys()) == []
