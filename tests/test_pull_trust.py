"""Pulled jobs: one writer per job when a build and a pull race, and pickles trusted by
what a remote is (its URL), never by what a project happens to call it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, ProjectDir, gitax, write

from gitax.jobs.job import Job, UntrustedPickle
from gitax.jobs.project import Project

SLOW = """
import os, time
def synthesis(job):
    open({started!r}, "w").close()
    while not os.path.exists({go!r}):
        time.sleep(0.02)
    token = f"built by {{os.getpid()}}"
    job.save(token, "who")
    return token
"""


def _project(root: Path, method: str, remote: Path, extra: str = "") -> ProjectDir:
    root.mkdir(parents=True)
    proj = ProjectDir(root)
    proj.method("slow", method)
    proj.build_script("def main(urd):\n    urd.build('slow')\n")
    config = root / "gitax.toml"
    config.write_text(config.read_text() + f'\n[remotes.team]\nurl = "{remote}"\n{extra}')
    return proj


def test_a_build_and_a_pull_of_one_job_leave_the_local_job_whole(tmp_path: Path) -> None:
    started, go = tmp_path / "started", tmp_path / "go"
    method = SLOW.format(started=str(started), go=str(go))
    remote = tmp_path / "remote"
    theirs = _project(tmp_path / "theirs", method, remote)
    go.touch()
    gitax("build", cwd=theirs.root)
    gitax("push", "team", cwd=theirs.root)
    go.unlink()
    started.unlink()
    mine = _project(tmp_path / "mine", method, remote)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    build = subprocess.Popen(
        [sys.executable, "-m", "gitax", "build"],
        cwd=mine.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while not started.exists():
        assert time.monotonic() < deadline and build.poll() is None
        time.sleep(0.02)
    pull = subprocess.Popen(
        [sys.executable, "-m", "gitax", "pull", "team"],
        cwd=mine.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.0)  # the pull has fetched the job and waits for the build's lock
    go.touch()
    assert build.wait(60) == 0 and pull.wait(60) == 0
    project = Project.find(mine.root)
    (key,) = list(project.store.index.keys())
    job = Job.from_key(project, key)
    assert project.store.origins.remote_of(key) is None  # built here, and trusted as such
    value = job.load()
    assert value.startswith("built by ")
    assert job.load("who") == value  # the work folder holds the files of the indexed job
    assert gitax("fsck", cwd=mine.root).returncode == 0


def test_pickles_are_trusted_by_the_remotes_url_not_its_name(tmp_path: Path) -> None:
    evil_remote, good_remote = tmp_path / "evil-remote", tmp_path / "good-remote"
    (tmp_path / "evil").mkdir()
    evil = ProjectDir(tmp_path / "evil")
    evil.method("m", "def synthesis():\n    return 'from the evil remote'\n")
    evil.build_script("def main(urd):\n    urd.build('m')\n")
    gitax("build", cwd=evil.root)
    gitax("remote", "add", "r", str(evil_remote), cwd=evil.root)
    gitax("push", "r", cwd=evil.root)
    store = tmp_path / "shared-store"
    # Project a names the evil remote `r` (untrusted) and pulls from it into the store it
    # shares with project b, whose own `r` is another, trusted remote.
    for name, url, trusted in (("a", evil_remote, "false"), ("b", good_remote, "true")):
        root = tmp_path / name
        root.mkdir()
        write(
            root / "gitax.toml",
            f'[gitax]\nstore = "{store}"\n\n[remotes.r]\nurl = "{url}"\ntrusted = {trusted}\n',
        )
    gitax("pull", "r", cwd=tmp_path / "a")
    b = Project.find(tmp_path / "b")
    (key,) = list(b.store.index.keys())
    with pytest.raises(UntrustedPickle, match="'r'"):
        Job.from_key(b, key).load()
    # Trusting the evil remote's URL, under any name, is what trusts its pickles.
    with open(tmp_path / "b" / "gitax.toml", "a") as fh:
        fh.write(f'\n[remotes.other]\nurl = "{evil_remote}"\ntrusted = true\n')
    assert Job.from_key(Project.find(tmp_path / "b"), key).load() == "from the evil remote"
