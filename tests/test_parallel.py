"""Parallel jobs the exax way, run for real: phases, slices, output, files, failure, subjobs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, ProjectDir, gitax

from gitax.jobs.job import Job
from gitax.run.build import run_build
from gitax.run.runner import JobFailed


@pytest.fixture
def par(proj: ProjectDir) -> ProjectDir:
    (proj.root / "gitax.toml").write_text("[gitax]\nslices = 3\n")
    return proj


def build_one(proj: ProjectDir, call: str) -> Job:
    proj.build_script(f"def main(urd):\n    urd.build({call})\n")
    return run_build(proj.project()).built[0]


EXAX_STYLE = """
    from gitax import status
    from gitax.subjobs import build

    options = dict(n=30)

    def prepare(job, slices):
        print("prepare sees", slices, "slices")
        return list(range(options.n))

    def analysis(sliceno, slices, prepare_res, job):
        with status("slice %d" % sliceno) as update:
            part = prepare_res[sliceno::slices]
            job.save(part, "part", sliceno=sliceno)
            job.save("scratch", "tmp", sliceno=sliceno, temp=True)
            update("saved")
            print("slice", sliceno, "has", len(part))
        return {"total": sum(part), "seen": set(part), "count": len(part)}

    def synthesis(job, prepare_res, analysis_res):
        sub = build("double", x=len(prepare_res))
        merged = analysis_res.merge_auto()
        print("total", merged["total"])
        return {"merged": merged, "per_slice": [r["count"] for r in analysis_res],
                "sub": sub.load()}
    """


def test_exax_style_method_runs_all_phases(par: ProjectDir) -> None:
    par.method("count", EXAX_STYLE)
    par.method("double", "options = dict(x=0)\ndef synthesis():\n    return options.x * 2\n")
    job = build_one(par, "'count'")
    value = job.load()
    assert value["merged"] == {"total": sum(range(30)), "seen": set(range(30)), "count": 30}
    assert value["per_slice"] == [10, 10, 10]  # analysis_res is in slice order
    assert value["sub"] == 60
    # sliced files: one per slice behind one name; temp files never stored
    assert job.files() == ["part.0", "part.1", "part.2"]
    assert job.load("part", sliceno=1) == list(range(1, 30, 3))
    # output per phase, joined in phase order
    assert job.output("prepare") == "prepare sees 3 slices\n"
    assert job.output(2) == "slice 2 has 10\n"
    assert job.output("synthesis") == "total 435\n"
    assert job.output() == (
        "prepare sees 3 slices\n" + "".join(f"slice {k} has 10\n" for k in range(3)) + "total 435\n"
    )
    assert sorted(os.listdir(job.path / "OUTPUT")) == ["0", "1", "2", "prepare", "synthesis"]
    # the subjob is listed and reused
    assert job.post.subjobs == [job.manifest.subjobs[0]["id"]]
    assert job.post.subjobs[0].startswith("double-")


def test_profile_is_recorded_per_phase_and_slice(par: ProjectDir) -> None:
    par.method("count", EXAX_STYLE)
    par.method("double", "options = dict(x=0)\ndef synthesis():\n    import click\n    return 0\n")
    job = build_one(par, "'count'")
    profile = job.manifest.profile
    assert set(profile) == {"prepare", "analysis", "synthesis"}
    assert set(profile["analysis"]) == {"0", "1", "2"}
    for entry in [profile["prepare"], profile["synthesis"], *profile["analysis"].values()]:
        assert entry["wall"] >= 0 and entry["cpu"] >= 0 and entry["maxrss_kib"] > 0
    assert job.manifest.timing["wall"] >= profile["synthesis"]["wall"]
    sub = Job(job.post.subjobs[0], par.project())
    assert "click" in sub.manifest.env["distributions"]  # imported by name, though preloaded
    assert "click" not in job.manifest.env["distributions"]


def test_any_phase_may_be_absent(par: ProjectDir) -> None:
    par.method("only_analysis", "def analysis(sliceno):\n    print('hi', sliceno)\n")
    job = build_one(par, "'only_analysis'")
    assert job.load() is None and job.output(1) == "hi 1\n"
    par.method("only_prepare", "def prepare(job):\n    job.save(1, 'x')\n")
    job = build_one(par, "'only_prepare'")
    assert job.load("x") == 1 and job.load() is None


def test_slices_join_the_key_only_with_analysis(par: ProjectDir) -> None:
    par.method("sliced", "def analysis(sliceno):\n    return sliceno\n")
    par.method("plain", "def synthesis():\n    return 1\n")
    par.build_script("def main(urd):\n    urd.build('sliced')\n    urd.build('plain')\n")
    first = run_build(par.project())
    (par.root / "gitax.toml").write_text("[gitax]\nslices = 2\n")
    second = run_build(par.project())
    assert [j.method for j in second.built] == ["sliced"]
    assert [j.method for j in second.reused] == ["plain"]
    assert second.built[0].key != first.built[0].key
    assert second.built[0].manifest.slices == 2


def test_phase_arguments_are_checked(par: ProjectDir) -> None:
    par.method("bad", "def prepare(analysis_res):\n    pass\n")
    with pytest.raises(
        JobFailed, match="prepare\\(\\) asks for 'analysis_res'; it can ask for job, slices"
    ):
        build_one(par, "'bad'")


def test_a_failing_slice_kills_the_others_and_records_nothing(
    par: ProjectDir, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    pids.mkdir()
    par.method(
        "fails",
        f"""
        import os, time
        def analysis(sliceno):
            open(os.path.join({str(pids)!r}, str(os.getpid())), "w").close()
            if sliceno == 1:
                time.sleep(0.5)
                raise ValueError("bad data in slice %d" % sliceno)
            time.sleep(60)
        """,
    )
    t0 = time.monotonic()
    with pytest.raises(JobFailed) as info:
        build_one(par, "'fails'")
    assert time.monotonic() - t0 < 30  # the sleeping slices did not run to the end
    err = info.value
    assert (err.phase, err.sliceno) == ("analysis", 1)
    assert err.reason == "ValueError: bad data in slice 1"
    assert "Traceback" in err.details and "a_fails.py" in err.details
    assert "failed in analysis (slice 1)" in str(err) and "fails-" in str(err)
    for pid in map(int, os.listdir(pids)):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert list(par.project().store.index.keys()) == []
    assert "bad data" in (err.kept / "OUTPUT" / "1").read_text()


def test_a_slice_killed_by_a_signal_is_reported(par: ProjectDir) -> None:
    par.method(
        "killed",
        "import os, signal\ndef analysis(sliceno):\n"
        "    if sliceno == 2:\n        os.kill(os.getpid(), signal.SIGKILL)\n",
    )
    with pytest.raises(
        JobFailed, match=r"analysis \(slice 2\): killed by SIGKILL \(out of memory\?\)"
    ):
        build_one(par, "'killed'")


def test_a_slice_out_of_memory_is_reported(par: ProjectDir) -> None:
    par.method(
        "hungry",
        "import resource\ndef analysis(sliceno):\n"
        "    if sliceno == 0:\n"
        "        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "        return bytearray(4 << 30)\n",
    )
    with pytest.raises(JobFailed, match=r"analysis \(slice 0\): MemoryError"):
        build_one(par, "'hungry'")


def test_registering_a_temp_file_in_a_slice_keeps_it(par: ProjectDir) -> None:
    par.method(
        "keep",
        "def analysis(sliceno, job):\n"
        "    job.save(sliceno, 'keep', sliceno=sliceno, temp=True)\n"
        "    job.save(sliceno, 'drop', sliceno=sliceno, temp=True)\n"
        "    job.register_file('keep.%d' % sliceno)\n",
    )
    job = build_one(par, "'keep'")
    assert job.files() == ["keep.0", "keep.1", "keep.2"]


def test_subjob_is_reused_when_its_parent_reruns(par: ProjectDir) -> None:
    par.method(
        "leaf",
        "options = dict(x=0)\ndef synthesis():\n    print('leaf ran')\n    return options.x\n",
    )
    par.method(
        "parent",
        "from gitax.subjobs import build\ndef synthesis():\n    return build('leaf', x=5).load()\n",
    )
    first = build_one(par, "'parent'")
    assert "leaf ran" in first.output()  # the subjob's live output shows in the parent's
    path = par.root / "methods" / "a_parent.py"
    path.write_text(path.read_text() + "# edited\n")
    second = build_one(par, "'parent'")
    assert second.key != first.key
    assert second.post.subjobs == first.post.subjobs
    assert "leaf ran" not in second.output()  # reused, not run again
    assert second.load() == 5


def test_live_output_carries_the_slice_number(par: ProjectDir) -> None:
    par.method("talk", "def analysis(sliceno):\n    print('line a')\n    print('line b')\n")
    par.build_script("def main(urd):\n    urd.build('talk')\n")
    out = gitax("build", cwd=par.root).stdout
    lines = out.splitlines()
    for k in range(3):  # slices interleave; each one's lines carry its number, in order
        assert [line for line in lines if line.startswith(f"[{k}] ")] == [
            f"[{k}] line a",
            f"[{k}] line b",
        ]
    assert not any(line.startswith("line ") for line in lines)


def test_show_output_of_one_phase(par: ProjectDir) -> None:
    par.method(
        "talk", "def prepare():\n    print('p')\ndef analysis(sliceno):\n    print('s', sliceno)\n"
    )
    job = build_one(par, "'talk'")
    assert gitax("show", job.id, "--output", "1", cwd=par.root).stdout == "s 1\n"
    assert gitax("show", job.id, "--output", "prepare", cwd=par.root).stdout == "p\n"
    assert gitax("show", job.id, "--output", cwd=par.root).stdout == "p\ns 0\ns 1\ns 2\n"
    text = gitax("show", job.id, cwd=par.root).stdout
    assert "output   prepare, 0, 1, 2" in text
    assert "profile  prepare" in text and "analysis 3 slices" in text


def start_build(root: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gitax", "build"],
        cwd=root,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def test_status_from_another_terminal_and_by_sigusr1(par: ProjectDir, tmp_path: Path) -> None:
    go = tmp_path / "go"
    par.method(
        "waiting",
        f"""
        import os, time
        from gitax import status
        def analysis(sliceno):
            with status("outer"):
                with status("waiting for go") as update:
                    update("waiting for go, slice %d" % sliceno)
                    while not os.path.exists({str(go)!r}):
                        time.sleep(0.05)
        """,
    )
    par.build_script("def main(urd):\n    urd.build('waiting')\n")
    proc = start_build(par.root)
    try:
        deadline = time.monotonic() + 30
        docs: list = []
        while len(docs) < 3 or not all(d["messages"] for d in docs):
            assert time.monotonic() < deadline, "status never showed three slices"
            time.sleep(0.1)
            docs = json.loads(gitax("status", "--json", cwd=par.root).stdout)
            docs = [d for d in docs if d.get("slice") is not None]
        assert sorted(d["slice"] for d in docs) == [0, 1, 2]
        assert all(d["method"] == "waiting" and d["phase"] == "analysis" for d in docs)
        text = gitax("status", cwd=par.root).stdout
        assert "waiting for go, slice 1" in text  # the innermost message
        assert "analysis slice 2" in text
        os.kill(proc.pid, signal.SIGUSR1)
        time.sleep(0.5)
    finally:
        go.touch()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "waiting for go, slice 0" in err  # printed by the build on SIGUSR1
    assert gitax("status", cwd=par.root).stdout.strip() == "no job is running"


def test_the_distributions_cache_ignores_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitax.run.environment import _site_state

    project, site = tmp_path / "project", tmp_path / "site"
    project.mkdir()
    site.mkdir()
    monkeypatch.chdir(project)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(project))  # as `python -m gitax` puts it there
    before = _site_state()
    os.utime(project, ns=(1, 1))  # every edit in the project changes its mtime
    assert str(project) not in before and _site_state() == before
    os.utime(site, ns=(1, 1))  # a package (un)installed there does count
    assert _site_state() != before


def test_modules_a_job_loads_are_told_from_those_loaded_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import types

    from gitax.run.modules import LoadedModules

    monkeypatch.setitem(sys.modules, "gone_before_xyz", types.ModuleType("gone_before_xyz"))
    taken = LoadedModules()
    assert taken.current() and taken.new_since() == set()
    for name in ("fresh_xyz", "fresh_xyz.sub", "json.extra_xyz"):  # json was loaded before
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    assert not taken.current() and taken.new_since() == {"fresh_xyz"}
    monkeypatch.delitem(sys.modules, "gone_before_xyz")  # a removal: every name is compared
    monkeypatch.setitem(sys.modules, "late_xyz", types.ModuleType("late_xyz"))
    assert taken.new_since() == {"fresh_xyz", "late_xyz"}
