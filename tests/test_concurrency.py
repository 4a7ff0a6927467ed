"""Concurrent builds sharing one store: a job runs once; different jobs run side by side."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from conftest import REPO, ProjectDir, gitax

from gitax.jobs.project import Project


def start(root: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gitax", "build", "--json"],
        cwd=root,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def slow_method(proj: ProjectDir, log: Path, seconds: float = 1.0) -> None:
    proj.method(
        "slow",
        f"""
        import os, time
        options = dict(tag="a")
        def synthesis():
            with open({str(log)!r}, "a") as fh:
                fh.write("start %s %f\\n" % (options.tag, time.time()))
            time.sleep({seconds})
            with open({str(log)!r}, "a") as fh:
                fh.write("end %s %f\\n" % (options.tag, time.time()))
            return options.tag
        """,
    )


def test_two_builds_needing_one_job_run_it_once(proj: ProjectDir, tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    slow_method(proj, log)
    proj.build_script("def main(urd):\n    urd.build('slow', tag='a')\n")
    first, second = start(proj.root), start(proj.root)
    outputs = [p.communicate(timeout=60) for p in (first, second)]
    results = [json.loads(out.splitlines()[-1]) for out, _ in outputs]
    assert first.returncode == 0 and second.returncode == 0
    assert log.read_text().count("start") == 1  # it ran once
    assert sorted(len(r["built"]) for r in results) == [0, 1]
    assert results[0]["built"] + results[0]["reused"] == results[1]["built"] + results[1]["reused"]
    said = outputs[0][1] + outputs[1][1]
    assert "another build" in said and "is running it; waiting" in said  # the waiter said why


def test_different_jobs_run_side_by_side(proj: ProjectDir, tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    slow_method(proj, log, seconds=1.5)
    other = proj.root.parent / "other"
    other.mkdir()
    for path in ("gitax.toml", "methods/a_slow.py"):
        (other / path).parent.mkdir(parents=True, exist_ok=True)
        (other / path).write_text((proj.root / path).read_text())
    (other / "gitax.toml").write_text(f'[gitax]\nstore = "{proj.root / ".gitax"}"\n')  # shared
    proj.build_script("def main(urd):\n    urd.build('slow', tag='a')\n")
    (other / "build.py").write_text("def main(urd):\n    urd.build('slow', tag='b')\n")
    a, b = start(proj.root), start(other)
    for p in (a, b):
        p.communicate(timeout=60)
        assert p.returncode == 0
    times = {}
    for line in log.read_text().splitlines():
        what, tag, t = line.split()
        times[(what, tag)] = float(t)
    assert (
        times[("start", "b")] < times[("end", "a")] and times[("start", "a")] < times[("end", "b")]
    )


def test_a_lock_left_by_a_killed_build_is_taken_over(proj: ProjectDir, tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    slow_method(proj, log, seconds=0)
    proj.build_script("def main(urd):\n    urd.build('slow', tag='a')\n")
    plan = gitax("build", "--dry-run", "--json", cwd=proj.root).stdout.splitlines()[-1]
    job_id = json.loads(plan)["would_build"][0]["id"]
    project = Project.find(proj.root)
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    from gitax.run.urd import Urd

    spec = Urd(project).plan("slow", None, None, None, {"tag": "a"})
    locks = project.store.root / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    (locks / f"{spec.key}.lock").write_text(f"{socket.gethostname()} {dead}")
    doc = json.loads(gitax("build", "--json", cwd=proj.root).stdout.splitlines()[-1])
    assert doc["built"] == [job_id]
    assert not (locks / f"{spec.key}.lock").exists()
