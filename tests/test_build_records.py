"""Every run of a build script is recorded: log, show, diff, push/pull and gc use them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import ProjectDir, gitax, write

from gitax.jobs.buildlog import BuildLogs, parse_record
from gitax.jobs.gc import gc
from gitax.store.odb import DiskObjectDB


@pytest.fixture
def plain(proj: ProjectDir) -> ProjectDir:
    """A build script with no urd session and no linked result."""
    proj.method("a", "options = dict(x=0)\ndef synthesis():\n    return options.x\n")
    proj.method("b", "jobs = ('src',)\ndef synthesis():\n    return jobs.src.load() + 1\n")
    write(proj.root / "helper.py", "X = 1\n")
    proj.build_script(
        """
        import helper
        def main(urd):
            print("building with", helper.X)
            urd.build("b", src=urd.build("a", x=helper.X))
        """
    )
    return proj


def records(root: Path, name: str = "build") -> list:
    logs = BuildLogs(root / ".gitax" / "builds")
    objects = DiskObjectDB(root / ".gitax")
    return [parse_record(objects.get_bytes(e.record, "build")) for e in logs.entries(name)]


def test_a_build_with_no_session_is_recorded(plain: ProjectDir) -> None:
    gitax("build", cwd=plain.root)
    (r,) = records(plain.root)
    assert r.ok and r.script == "build.py" and r.name == "build"
    assert [(c.method, c.built) for c in r.calls] == [("a", True), ("b", True)]
    assert r.calls[0].why == ("new method",)
    assert set(r.sources) == {"build.py", "helper.py"}  # its local modules too
    assert r.timing["wall"] > 0 and r.user
    log = gitax("log", cwd=plain.root).stdout
    assert log.startswith("build@") and "built   a-" in log and "(new method)" in log
    shown = gitax("show", "build", cwd=plain.root).stdout
    assert "result   ok; 2 built, 0 reused" in shown and "script   build.py" in shown
    printed = gitax("show", "build", "--output", cwd=plain.root).stdout
    assert printed == "building with 1\n"


def test_show_and_diff_say_which_jobs_changed_and_why(plain: ProjectDir) -> None:
    gitax("build", cwd=plain.root)
    (plain.root / "helper.py").write_text("X = 2\n")
    gitax("build", cwd=plain.root)
    runs = records(plain.root)
    assert [c.built for c in runs[1].calls] == [True, True]
    assert runs[1].calls[0].why == ("option x: 1 -> 2",)
    out = gitax("diff", "build~1", "build", cwd=plain.root).stdout
    assert "source   changed  helper.py" in out
    assert "changed  a: a-" in out and "(option x: 1 -> 2)" in out
    assert "2 changed, 0 the same" in out
    doc = json.loads(gitax("show", "build~1", "--json", cwd=plain.root).stdout)
    assert doc["kind"] == "build" and doc["calls"][0]["id"] == f"a-{runs[0].calls[0].key[:12]}"
    when = doc["recorded"]
    at = json.loads(gitax("show", f"build@{when}", "--json", cwd=plain.root).stdout)
    assert at["ref"] == doc["ref"]
    day = json.loads(gitax("show", f"build@{when[:10]}", "--json", cwd=plain.root).stdout)
    assert day["calls"][0]["why"] == ["option x: 1 -> 2"]  # the latest of that day
    early = gitax("show", "build@2001-01-01", cwd=plain.root, check=False)
    assert early.returncode == 1 and "the builds of build run from" in early.stderr


def test_named_scripts_get_their_own_log_and_logs_filter(plain: ProjectDir) -> None:
    plain.build_script(
        "def main(urd):\n    urd.begin('x')\n    urd.build('a')\n    urd.finish('x')\n", "daily"
    )
    gitax("build", cwd=plain.root)
    gitax("build", "daily", cwd=plain.root)
    assert [r.name for r in records(plain.root, "build_daily")] == ["build_daily"]
    every = json.loads(gitax("log", "--json", cwd=plain.root).stdout)
    assert [d["kind"] for d in every] == ["build", "session", "build"]
    assert [
        d["kind"] for d in json.loads(gitax("log", "--builds", "--json", cwd=plain.root).stdout)
    ] == ["build"] * 2
    assert [
        d["kind"] for d in json.loads(gitax("log", "--sessions", "--json", cwd=plain.root).stdout)
    ] == ["session"]
    only = json.loads(gitax("log", "build_daily", "--json", cwd=plain.root).stdout)
    assert [d["ref"].split("@")[0] for d in only] == ["build_daily"]


def test_a_failed_build_is_recorded_and_a_dry_run_is_not(plain: ProjectDir) -> None:
    gitax("build", "--dry-run", cwd=plain.root)
    assert not (plain.root / ".gitax" / "builds").exists()
    plain.method("a", "options = dict(x=0)\ndef synthesis():\n    raise ValueError('no')\n")
    assert gitax("build", cwd=plain.root, check=False).returncode == 1
    (r,) = records(plain.root)
    assert not r.ok and "JobFailed" in r.error and r.calls == ()
    log = gitax("log", cwd=plain.root).stdout
    assert "failed: JobFailed" in log


def test_push_of_everything_carries_every_build_so_pull_builds_nothing(
    plain: ProjectDir, tmp_path: Path
) -> None:
    remote = tmp_path / "remote"
    gitax("remote", "add", "team", str(remote), "--default", cwd=plain.root)
    gitax("build", cwd=plain.root)
    gitax("push", cwd=plain.root)
    bob = tmp_path / "bob"
    shutil.copytree(plain.root, bob, ignore=shutil.ignore_patterns(".gitax"))
    assert ", 1 build " in gitax("pull", cwd=bob).stdout
    assert len(records(bob)) == 1  # the record travelled
    doc = json.loads(gitax("build", "--json", cwd=bob).stdout.splitlines()[-1])
    assert doc["built"] == [] and len(doc["reused"]) == 2


def test_gc_keeps_every_job_of_the_latest_build(plain: ProjectDir) -> None:
    gitax("build", cwd=plain.root)
    report = gc(plain.project(), grace_days=0)
    assert report.jobs == [] and report.kept_jobs == 2
    doc = json.loads(gitax("build", "--json", cwd=plain.root).stdout.splitlines()[-1])
    assert doc["built"] == []
    assert json.loads(gitax("fsck", "--json", cwd=plain.root).stdout)["problems"] == []
    (plain.root / "helper.py").write_text("X = 5\n")
    gitax("build", cwd=plain.root)  # the older jobs are in no latest build now
    report = gc(plain.project(), grace_days=0)
    assert len(report.jobs) == 2 and report.kept_jobs == 2


def test_a_hostile_build_log_on_a_remote_is_refused(plain: ProjectDir, tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    gitax("remote", "add", "team", str(remote), "--default", cwd=plain.root)
    gitax("build", cwd=plain.root)
    gitax("push", cwd=plain.root)
    log = next((remote / "builds").glob("*.log"))
    line = json.loads(log.read_text())
    line["record"] = "..../../pwned"
    log.write_text(json.dumps(line) + "\n")
    bob = tmp_path / "bob"
    shutil.copytree(plain.root, bob, ignore=shutil.ignore_patterns(".gitax"))
    proc = gitax("pull", cwd=bob, check=False)
    assert proc.returncode == 1 and "remote team: build log build:1" in proc.stderr
