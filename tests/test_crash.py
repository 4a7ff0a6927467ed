"""Crash safety: a build (or gc) killed with SIGKILL at chosen points leaves a store that
fsck calls clean, loses no completed job, reuses no half job, and the next run finishes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, ProjectDir

from gitax.jobs.project import Project
from gitax.jobs.urdlog import UrdLists


def run(root: Path, *args: str, failpoint: str = "") -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    if failpoint:
        env["GITAX_FAILPOINT"] = failpoint
    return subprocess.run(
        [sys.executable, "-m", "gitax", *args], cwd=root, env=env, capture_output=True, text=True
    )


@pytest.fixture
def pipeline(proj: ProjectDir) -> ProjectDir:
    proj.method("first", "def synthesis(job):\n    job.save([1, 2, 3], 'data')\n    return 6\n")
    proj.method(
        "second",
        "jobs = ('src',)\ndef synthesis(job):\n"
        "    job.save(sum(jobs.src.load('data')), 'sum')\n    print('summed')\n    return 'ok'\n",
    )
    proj.build_script(
        """
        def main(urd):
            urd.begin("main", "2023-01-05")
            urd.build("second", src=urd.build("first"))
            urd.finish("main")
        """
    )
    return proj


def assert_recovers(root: Path, survivors: list[str]) -> None:
    """fsck clean; `survivors` (methods completed before the crash) still stored and
    reused; every other job built now; the second build after that runs nothing."""
    fsck = run(root, "fsck")
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    project = Project.find(root)
    from gitax.jobs.job import Job

    stored = {Job.from_key(project, k).method for k in project.store.index.keys()}
    assert set(survivors) <= stored
    proc = run(root, "build", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout.splitlines()[-1])
    assert sorted(j.split("-")[0] for j in doc["reused"]) == sorted(survivors)
    assert sorted(j.split("-")[0] for j in doc["built"]) == sorted(
        {"first", "second"} - set(survivors)
    )
    assert UrdLists(project.store.root / "urd").latest("main").timestamp == "2023-01-05"
    again = json.loads(run(root, "build", "--json").stdout.splitlines()[-1])
    assert again["built"] == []
    assert run(root, "fsck").returncode == 0


@pytest.mark.parametrize(
    "point, survivors",
    [
        ("ingest.blobs", []),  # killed while the first job's outputs go in
        ("ingest.manifest", []),  # its manifest stored, its index entry not yet
        ("index.write", []),  # its index entry written to a temp file, not renamed
        ("ingest.indexed", ["first"]),  # the first job committed: it must survive
    ],
)
def test_killed_during_ingest(pipeline: ProjectDir, point: str, survivors: list[str]) -> None:
    proc = run(pipeline.root, "build", failpoint=point)
    assert proc.returncode == -signal.SIGKILL
    assert_recovers(pipeline.root, survivors)


def test_killed_while_the_urd_log_is_written(pipeline: ProjectDir) -> None:
    proc = run(pipeline.root, "build", failpoint="urd.append")
    assert proc.returncode == -signal.SIGKILL
    log = pipeline.root / ".gitax" / "urd" / "main.urd"
    assert log.read_bytes() and not log.read_bytes().endswith(b"\n")  # half a line is there
    assert UrdLists(log.parent).sessions("main") == []  # and ignored
    assert_recovers(pipeline.root, ["first", "second"])
    assert log.read_bytes().count(b"\n") == 1 and log.read_bytes().endswith(b"\n")


def test_killed_while_a_job_runs(pipeline: ProjectDir, tmp_path: Path) -> None:
    started = tmp_path / "started"
    pipeline.method(
        "second",
        "import time\njobs = ('src',)\ndef synthesis(job):\n"
        f"    open({str(started)!r}, 'w').close()\n    time.sleep(60)\n",
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitax", "build"],
        cwd=pipeline.root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not started.exists():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    pipeline.method(
        "second",
        "jobs = ('src',)\ndef synthesis(job):\n    job.save(sum(jobs.src.load('data')), 'sum')\n",
    )
    assert_recovers(pipeline.root, ["first"])


def test_killed_during_gc(pipeline: ProjectDir) -> None:
    assert run(pipeline.root, "build").returncode == 0
    # 'first' stays reachable as a result in gitax.lock; 'second' loses its only root.
    pipeline.build_script("def main(urd):\n    urd.build('first').link_result('data')\n")
    assert run(pipeline.root, "build").returncode == 0
    (pipeline.root / ".gitax" / "urd" / "main.urd").unlink()
    old = time.time() - 30 * 86400
    for dirpath, _, files in os.walk(pipeline.root / ".gitax"):
        for f in files:
            os.utime(os.path.join(dirpath, f), (old, old))
    proc = run(pipeline.root, "gc", failpoint="gc.objects")
    assert proc.returncode == -signal.SIGKILL
    assert run(pipeline.root, "fsck").returncode == 0
    assert run(pipeline.root, "gc").returncode == 0  # finishes the work
    assert run(pipeline.root, "fsck").returncode == 0
    doc = json.loads(run(pipeline.root, "build", "--json").stdout.splitlines()[-1])
    assert doc["built"] == [] and [j.split("-")[0] for j in doc["reused"]] == ["first"]
    project = Project.find(pipeline.root)
    from gitax.jobs.job import Job

    assert [Job.from_key(project, k).method for k in project.store.index.keys()] == ["first"]
