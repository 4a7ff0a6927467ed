"""History: checkout of jobs and results, diff, lineage, log and show of sessions."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ProjectDir, gitax

from gitax.jobs.checkout import CheckoutError, checkout_job
from gitax.jobs.job import Job
from gitax.run.build import run_build


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture
def history(proj: ProjectDir) -> ProjectDir:
    """A project in git with one method whose output depends on an option."""
    proj.method(
        "make",
        """
        options = dict(text="one")
        def synthesis(job):
            with job.open("out.txt", "w") as fh:
                fh.write(options.text)
            print("made", options.text)
            return len(options.text)
        """,
    )
    proj.build_script(
        """
        def main(urd):
            urd.build("make", text="one").link_result("out.txt")
        """
    )
    git("init", "-q", cwd=proj.root)
    return proj


def build_and_commit(proj: ProjectDir, text: str) -> str:
    proj.build_script(
        f'def main(urd):\n    urd.build("make", text={text!r}).link_result("out.txt")\n'
    )
    run_build(proj.project())
    git("add", "-A", cwd=proj.root)
    git("commit", "-qm", text, cwd=proj.root)
    return git("rev-parse", "HEAD", cwd=proj.root).strip()


def test_checkout_job_after_its_workdir_was_evicted(history: ProjectDir, tmp_path: Path) -> None:
    job = run_build(history.project()).built[0]
    shutil.rmtree(job.path)  # evict
    dest = checkout_job(Job(job.id, history.project()), tmp_path / "co")
    assert (dest / "out.txt").read_text() == "one"
    assert (dest / "OUTPUT" / "synthesis").read_text() == "made one\n"
    assert (dest / "source" / "methods" / "a_make.py").read_text().lstrip().startswith("options")
    assert json.loads((dest / "params.json").read_text())["options"] == {"text": "one"}
    assert pickle.loads((dest / "value.pickle").read_bytes()) == 3
    assert json.loads((dest / "manifest.json").read_text())["id"] == job.id
    with pytest.raises(CheckoutError, match="not empty"):
        checkout_job(job, dest)


def test_checkout_job_cli_defaults_to_a_folder_named_by_the_id(history: ProjectDir) -> None:
    job = run_build(history.project()).built[0]
    out = gitax("checkout", job.id[:10], cwd=history.root).stdout
    assert out.strip() == f"{job.id} checked out in {job.id}"
    assert (history.root / job.id / "out.txt").read_text() == "one"


def test_checkout_results_follows_git_revisions(history: ProjectDir) -> None:
    old = build_and_commit(history, "one")
    build_and_commit(history, "two")
    result = history.root / "results" / "out.txt"
    assert result.read_text() == "two"
    out = gitax("checkout", "--results", old, cwd=history.root).stdout
    assert "linked   results/out.txt" in out
    assert result.read_text() == "one"
    gitax("checkout", "--results", cwd=history.root)  # HEAD
    assert result.read_text() == "two"


def test_checkout_results_names_what_is_missing(history: ProjectDir) -> None:
    build_and_commit(history, "one")
    shutil.rmtree(history.root / ".gitax")  # a fresh clone: no local store
    proc = gitax("checkout", "--results", cwd=history.root, check=False)
    assert proc.returncode == 1
    assert "not in the local store: results/out.txt (make-" in proc.stderr
    assert "gitax build" in proc.stderr


def test_checkout_results_removes_stale_links_but_not_user_files(history: ProjectDir) -> None:
    build_and_commit(history, "one")
    results = history.root / "results"
    stale_target = next((history.root / ".gitax" / "work").iterdir()) / "out.txt"
    os.symlink(os.path.relpath(stale_target, results), results / "old.txt")
    (results / "mine.txt").write_text("keep me")
    out = gitax("checkout", "--results", cwd=history.root).stdout
    assert "removed  results/old.txt" in out
    assert not (results / "old.txt").exists() and (results / "mine.txt").read_text() == "keep me"


def test_bad_revision_is_a_clear_error(history: ProjectDir) -> None:
    build_and_commit(history, "one")
    proc = gitax("checkout", "--results", "nosuchrev", cwd=history.root, check=False)
    assert proc.returncode == 1 and "no git revision 'nosuchrev'" in proc.stderr


def test_log_and_show_sessions(proj: ProjectDir) -> None:
    proj.method("a", "options = dict(x=0)\ndef synthesis():\n    return options.x\n")
    proj.build_script(
        """
        def main(urd):
            for day, x in ((5, 1), (6, 2)):
                urd.begin("main", "2023-01-0%d" % day, caption="day %d" % day)
                urd.build("a", x=x)
                urd.finish("main")
            urd.begin("other", "2023-01-07")
            urd.build("a", x=1)
            urd.finish("other")
        """
    )
    run_build(proj.project())
    out = gitax("log", "main", cwd=proj.root).stdout
    assert out.index("main@2023-01-06  day 6") < out.index("main@2023-01-05  day 5")
    assert "built   a-" in out
    every = json.loads(gitax("log", "--json", cwd=proj.root).stdout)
    assert [s["ref"] for s in every] == ["other@2023-01-07", "main@2023-01-06", "main@2023-01-05"]
    assert every[0]["joblist"][0]["built"] is False  # a=1 was reused in "other"
    assert len(json.loads(gitax("log", "-n", "1", "--json", cwd=proj.root).stdout)) == 1
    shown = gitax("show", "main~1", cwd=proj.root).stdout
    assert "session  main@2023-01-05" in shown and "caption  day 5" in shown
    doc = json.loads(gitax("show", "main@2023-01-06", "--json", cwd=proj.root).stdout)
    assert doc["caption"] == "day 6"
    proc = gitax("show", "main@2023-02-01", cwd=proj.root, check=False)
    assert proc.returncode == 1 and "no session at 2023-02-01" in proc.stderr
