"""A randomized crash loop: build, push, pull and gc are SIGKILLed at random moments, and
after every kill each store involved is one fsck calls clean; at the end every command
runs to completion and a collaborator's build reuses everything.

The seed is printed on failure (GITAX_CRASH_SEED repeats a run)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import REPO, write

from gitax.jobs.fsck import check_project
from gitax.jobs.project import Project
from gitax.jobs.urdlog import UrdLists
from gitax.store.fsck import fsck
from gitax.store.store import Store

ITERATIONS = 100
_ARGS = {"gc": ["gc", "--grace", "0"]}


def _project(root: Path, remote: Path) -> None:
    write(root / "gitax.toml", f'[gitax]\n\n[remotes.team]\nurl = "{remote}"\ndefault = true\n')
    write(root / "methods" / "a_make.py", "options = dict(n=0)\ndef synthesis(job):\n"
          "    job.save(list(range(options.n * 1000)), 'nums')\n"
          "    with job.open('big.bin', 'wb') as fh:\n        fh.write(bytes(options.n * 5000))\n"
          "    return options.n\n")  # fmt: skip
    write(root / "methods" / "a_total.py", "jobs = ('src',)\ndef synthesis(job):\n"
          "    return sum(jobs.src.load('nums'))\n")  # fmt: skip
    write(root / "build.py", "def main(urd):\n    n = int(open('n.txt').read())\n"
          "    urd.begin('main', f'2024-01-01T00:{n // 60:02d}:{n % 60:02d}')\n"
          "    for k in range(n, n + 3):\n"
          "        urd.build('total', src=urd.build('make', n=k))\n"
          "    urd.finish('main')\n")  # fmt: skip
    (root / "n.txt").write_text("1")


def _clean(root: Path) -> list[str]:
    report = check_project(Project.find(root))
    return [f"{p.where}: {p.what}" for p in report.problems]


def _remote_clean(path: Path) -> list[str]:
    if not (path / "format").exists():
        return []
    from gitax.jobs.fsck import bad_lines, references

    return [f"{p.where}: {p.what}" for p in fsck(Store.open(path), references, bad_lines).problems]


def _run(args: list[str], cwd: Path, kill_after: float | None) -> int:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitax", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if kill_after is None:
        return proc.wait(120)
    try:
        return proc.wait(kill_after)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        return proc.wait(30)


def test_random_kills_of_build_push_pull_and_gc_leave_clean_stores(tmp_path: Path) -> None:
    seed = int(os.environ.get("GITAX_CRASH_SEED", time.time_ns() % 10**6))
    rng = random.Random(seed)
    remote = tmp_path / "remote"
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    _project(alice, remote)
    _project(bob, remote)
    # How long each command takes here, whole: kills are drawn within it, so that most
    # land mid-command however fast or loaded the machine is.
    took: dict[str, float] = {}
    for what, where in (("build", alice), ("push", alice), ("pull", bob), ("gc", alice)):
        t0 = time.monotonic()
        assert _run(_ARGS.get(what, [what]), where, None) == 0
        took[what] = time.monotonic() - t0
    killed = 0
    for i in range(ITERATIONS):
        what = rng.choice(["build", "build", "push", "pull", "gc"])
        if what == "build":
            n = int((alice / "n.txt").read_text())
            (alice / "n.txt").write_text(str(n + rng.randint(0, 2)))
        where = bob if what == "pull" else alice
        code = _run(_ARGS.get(what, [what]), where, rng.uniform(0.02, 1.0) * took[what])
        killed += code == -signal.SIGKILL
        context = f"seed {seed}, iteration {i}: {what} ended with {code}"
        assert _clean(where) == [], context
        if what == "push":
            assert _remote_clean(remote) == [], context
    assert killed >= ITERATIONS // 4, f"seed {seed}: only {killed} kills landed"
    # Whatever was killed, the next runs finish, and the team converges.
    for args, where in (
        (["build"], alice),
        (["push"], alice),
        (["pull"], bob),
    ):
        assert _run(args, where, None) == 0, f"seed {seed}: {args} failed after the loop"
    (bob / "n.txt").write_text((alice / "n.txt").read_text())
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run(
        [sys.executable, "-m", "gitax", "build", "--json"],
        cwd=bob,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(out.splitlines()[-1])["built"] == [], f"seed {seed}"
    assert _clean(alice) == [] and _clean(bob) == [] and _remote_clean(remote) == []
    assert UrdLists(Store.open(bob / ".gitax").urd).latest("main") is not None
