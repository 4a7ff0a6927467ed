"""Running jobs and builds for real: forked processes, the real store, real files."""

from __future__ import annotations

import dataclasses
import os
import pickle
from pathlib import Path

import pytest
from conftest import ProjectDir, write

from gitax.jobs.buildlog import BuildLogs, parse_record
from gitax.jobs.job import Job, JobNotFound
from gitax.jobs.manifest import format_manifest
from gitax.jobs.options import OptionError
from gitax.run.build import BuildError, BuildScriptFailed, run_build
from gitax.run.runner import JobFailed


def store_snapshot(root: Path) -> set[str]:
    """Every object and index entry in a store."""
    found = set()
    for sub in ("objects", "index"):
        for dirpath, _, files in os.walk(root / ".gitax" / sub):
            found |= {os.path.join(dirpath, f) for f in files}
    return found


@pytest.fixture
def chain(proj: ProjectDir) -> ProjectDir:
    """parse -> total, both writing files and values."""
    write(proj.root / "data" / "nums.txt", "1\n2\n3\n")
    proj.method(
        "parse",
        """
        options = dict(filename=str)
        def synthesis(job):
            with job.open_input(options.filename, "rt") as fh:
                nums = [int(line) for line in fh]
            job.save(nums, "nums.pickle")
            print("parsed", len(nums))
            return len(nums)
        """,
    )
    proj.method(
        "total",
        """
        options = dict(scale=1.0)
        jobs = ("nums",)
        def synthesis(job):
            return sum(jobs.nums.load("nums.pickle")) * options.scale
        """,
    )
    proj.build_script(
        """
        def main(urd):
            p = urd.build("parse", filename="nums.txt")
            urd.build("total", nums=p, scale=2)
        """
    )
    return proj


def test_build_then_rebuild_runs_nothing(chain: ProjectDir) -> None:
    first = run_build(chain.project())
    assert [j.method for j in first.built] == ["parse", "total"]
    assert first.reused == []
    second = run_build(chain.project())
    assert second.built == []
    assert [j.id for j in second.reused] == [j.id for j in first.built]
    total = second.reused[1]
    assert total.load() == 12.0
    assert total.params == {
        "options": {"scale": 2.0},
        "jobs": {"nums": first.built[0].id},
        "datasets": {},
    }


def test_editing_a_method_reruns_it_and_everything_downstream_only(chain: ProjectDir) -> None:
    run_build(chain.project())
    chain.method("total", (chain.root / "methods" / "a_total.py").read_text() + "# comment\n")
    result = run_build(chain.project())
    assert [j.method for j in result.built] == ["total"]
    assert [j.method for j in result.reused] == ["parse"]
    path = chain.root / "methods" / "a_parse.py"
    path.write_text(path.read_text() + "\n# changed\n")
    result = run_build(chain.project())
    assert [j.method for j in result.built] == ["parse", "total"]


def test_editing_an_imported_helper_reruns_its_users(proj: ProjectDir) -> None:
    write(proj.root / "methods" / "helper.py", "def f():\n    return 1\n")
    proj.method("uses", "from helper import f\ndef synthesis():\n    return f()\n")
    proj.method("other", "def synthesis():\n    return 0\n")
    proj.build_script("def main(urd):\n    urd.build('uses')\n    urd.build('other')\n")
    assert run_build(proj.project()).built[0].load() == 1
    write(proj.root / "methods" / "helper.py", "def f():\n    return 2\n")
    result = run_build(proj.project())
    assert [j.method for j in result.built] == ["uses"]
    assert result.built[0].load() == 2
    assert "methods/helper.py" in result.built[0].manifest.sources


def test_job_files_output_and_workdir(chain: ProjectDir) -> None:
    parse = run_build(chain.project()).built[0]
    assert parse.files() == ["nums.pickle"]
    assert parse.load("nums.pickle") == [1, 2, 3]
    assert parse.output() == "parsed 3\n"
    assert parse.output("synthesis") == "parsed 3\n"
    workdir = parse.path
    assert (workdir / "OUTPUT" / "synthesis").read_text() == "parsed 3\n"
    assert sorted(os.listdir(workdir)) == ["OUTPUT", "nums.pickle"]
    with pytest.raises(Exception, match="cannot be changed"):
        parse.open("nums.pickle", "wb")


def test_evicted_workdir_is_rebuilt_from_the_store(chain: ProjectDir) -> None:
    import shutil

    parse = run_build(chain.project()).built[0]
    shutil.rmtree(parse.path)
    again = Job(parse.id, chain.project())
    assert again.load("nums.pickle") == [1, 2, 3]
    assert (again.path / "OUTPUT" / "synthesis").read_text() == "parsed 3\n"


def test_registration_rules(proj: ProjectDir) -> None:
    proj.method(
        "auto",
        """
        import os
        def synthesis(job):
            open("top.txt", "w").write("t")
            os.mkdir("sub")
            open("sub/inner.txt", "w").write("i")   # subfolders are not automatic
            job.save(1, "scratch", temp=True)        # temp: never stored
        """,
    )
    proj.method(
        "explicit",
        """
        import os
        def synthesis(job):
            open("keep.txt", "w").write("k")
            open("drop.txt", "w").write("d")
            job.register_file("keep.txt")            # from now on, only registered files
            job.json_save({"a": 1}, "api.json")      # written through the API: kept
            job.save(2, "promoted", temp=True)
            job.register_file("promoted")            # registering a temp file keeps it
            os.mkdir("deep")
            open("deep/x.csv", "w").write("x")
            job.register_files("deep/*.csv")
        """,
    )
    proj.build_script("def main(urd):\n    urd.build('auto')\n    urd.build('explicit')\n")
    auto, explicit = run_build(proj.project()).built
    assert auto.files() == ["top.txt"]
    assert explicit.files() == ["api.json", "deep/x.csv", "keep.txt", "promoted"]
    assert explicit.load("promoted") == 2
    # The workdir holds exactly what the store holds (no OUTPUT: the job printed nothing).
    assert sorted(os.listdir(explicit.path)) == ["api.json", "deep", "keep.txt", "promoted"]
    assert sorted(os.listdir(auto.path)) == ["top.txt"]


def test_failing_job_records_nothing_and_keeps_its_directory(chain: ProjectDir) -> None:
    chain.method(
        "total",
        """
        jobs = ("nums",)
        options = dict(scale=1.0)
        def synthesis(job):
            print("about to fail")
            open("partial.txt", "w").write("half")
            raise ValueError("bad row 7")
        """,
    )
    project = chain.project()
    with pytest.raises(JobFailed) as info:
        run_build(project)
    err = info.value
    assert err.reason == "ValueError: bad row 7"
    assert "Traceback" in err.details and "a_total.py" in err.details
    assert "total-" in str(err) and "synthesis" in str(err)
    assert (err.kept / "partial.txt").read_text() == "half"
    assert "about to fail" in (err.kept / "OUTPUT" / "synthesis").read_text()
    keys = list(project.store.index.keys())
    assert len(keys) == 1  # only parse was recorded
    assert os.listdir(project.store.tmp) == []  # its control folder went with it
    # the next build tries again (and succeeds once fixed)
    chain.method("total", "jobs = ('nums',)\ndef synthesis(job):\n    return 5\n")
    chain.build_script(
        "def main(urd):\n    urd.build('total', nums=urd.build('parse', filename='nums.txt'))\n"
    )
    result = run_build(chain.project())
    assert [j.method for j in result.built] == ["total"]


def test_job_killed_by_a_signal_is_reported(proj: ProjectDir) -> None:
    proj.method(
        "die", "import os, signal\ndef synthesis():\n    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proj.build_script("def main(urd):\n    urd.build('die')\n")
    with pytest.raises(JobFailed, match="killed by SIGKILL"):
        run_build(proj.project())
    assert list(proj.project().store.index.keys()) == []


def test_a_job_that_exits_cleanly_without_its_result_stores_nothing(proj: ProjectDir) -> None:
    proj.method("quit", "import os\ndef synthesis():\n    os._exit(0)\n")
    proj.build_script("def main(urd):\n    urd.build('quit')\n")
    with pytest.raises(JobFailed, match="sent no result") as info:
        run_build(proj.project())
    assert info.value.kept.is_dir()
    assert list(proj.project().store.index.keys()) == []


def test_a_run_leaves_nothing_in_tmp_and_workdirs_are_readable_as_the_umask_says(
    proj: ProjectDir,
) -> None:
    proj.method("plain", "def synthesis(job):\n    job.save(1, 'one')\n    return 2\n")
    proj.method(  # slices and a subjob: these need a control folder
        "wide",
        "from gitax.subjobs import build\n"
        "def analysis(sliceno):\n    return sliceno\n"
        "def synthesis(analysis_res):\n    build('plain')\n    return analysis_res.merge_auto()\n",
    )
    proj.build_script("def main(urd):\n    urd.build('plain')\n    urd.build('wide')\n")
    old = os.umask(0o027)
    try:
        plain, wide = run_build(proj.project()).built
    finally:
        os.umask(old)
    store = proj.project().store
    assert os.listdir(store.tmp) == []
    assert wide.post.subjobs == [plain.id]
    for job in (plain, wide):
        assert (store.work / job.id).stat().st_mode & 0o777 == 0o750


def test_unpicklable_value_fails_the_job(proj: ProjectDir) -> None:
    proj.method("lam", "def synthesis():\n    return lambda: 1\n")
    proj.build_script("def main(urd):\n    urd.build('lam')\n")
    with pytest.raises(JobFailed, match="cannot be pickled"):
        run_build(proj.project())


def test_bad_parameters_are_errors_that_leave_the_store_as_it_was(chain: ProjectDir) -> None:
    run_build(chain.project())
    before = store_snapshot(chain.root)
    for call, message in [
        (
            "urd.build('parse', filenam='x')",
            "unknown parameter 'filenam'; valid parameters: filename",
        ),
        ("urd.build('total', scale='big')", "option 'scale' must be float, not str"),
        ("urd.build('total', nums=3)", "takes a Job or a job id, not int"),
        ("urd.build('total', nums='nothere-abcd')", "no stored job 'nothere-abcd'"),
        ("urd.build('nope')", "no method 'nope'"),
        ("urd.build('total', datasets={'x': 1})", "unknown dataset parameter 'x'; valid: none"),
    ]:
        chain.build_script(f"def main(urd):\n    {call}\n")
        with pytest.raises((OptionError, JobNotFound, BuildError, Exception), match=message) as e:
            run_build(chain.project())
        assert str(e.value).startswith("build.py:2: ")  # points at the build script line
    # No job and no part of one: only each failed run's build record (and its script).
    store = chain.project().store
    added = store_snapshot(chain.root) - before
    assert not any("/index/" in p for p in added)
    kinds = {store.objects.type_of(Path(p).parent.name + Path(p).name) for p in added}
    assert kinds == {"build", "blob"}
    runs = BuildLogs(store.builds).entries("build")
    assert [r.ok for r in runs][-6:] == [False] * 6 and "OptionError" in parse_record(
        store.objects.get_bytes(runs[-6].record, "build")
    ).error


def test_job_parameters_accept_ids_and_lists(proj: ProjectDir) -> None:
    proj.method("leaf", "options = dict(n=0)\ndef synthesis():\n    return options.n\n")
    proj.method(
        "sum",
        "jobs = (['parts'], 'first')\ndef synthesis():\n"
        "    return sum(j.load() for j in jobs.parts) + jobs.first.load()\n",
    )
    proj.build_script(
        """
        def main(urd):
            a = urd.build('leaf', n=1)
            b = urd.build('leaf', n=2)
            urd.build('sum', parts=[a, str(b)], first=a.key[:8])
        """
    )
    result = run_build(proj.project())
    assert result.built[-1].load() == 4


def test_job_ids_resolve_by_unique_prefix(chain: ProjectDir) -> None:
    parse, total = run_build(chain.project()).built
    project = chain.project()
    assert Job(parse.id, project) == parse
    assert Job(parse.key[:4], project) == parse
    assert Job(f"parse-{parse.key[:6]}", project) == parse
    assert str(Job(parse.key, project)) == parse.id
    with pytest.raises(JobNotFound, match="not a job id: 'abc'; methods with jobs: parse, total"):
        Job("abc", project)
    with pytest.raises(JobNotFound, match="not a job id"):
        Job("a-b", project)
    with pytest.raises(JobNotFound, match="no stored job"):
        Job(f"total-{parse.key[:8]}", project)


def test_link_result_makes_a_relative_link(chain: ProjectDir) -> None:
    parse = run_build(chain.project()).built[0]
    link = parse.link_result("nums.pickle", "numbers.pickle")
    assert link == chain.root / "results" / "numbers.pickle"
    assert os.path.islink(link) and not os.path.isabs(os.readlink(link))
    assert pickle.loads(link.read_bytes()) == [1, 2, 3]
    with pytest.raises(Exception, match="has no file 'nope'"):
        parse.link_result("nope")


def test_method_runs_the_hashed_source_in_its_job_directory(proj: ProjectDir) -> None:
    write(proj.root / "methods" / "near.py", "VALUE = 'beside the method'\n")
    proj.method(
        "where",
        """
        import os
        import near
        def synthesis(job):
            return (os.getcwd() == str(job.path), near.VALUE, job.id)
        """,
    )
    proj.build_script("def main(urd):\n    urd.build('where')\n")
    job = run_build(proj.project()).built[0]
    in_dir, value, jid = job.load()
    assert in_dir and value == "beside the method" and jid == job.id


def test_build_script_errors(proj: ProjectDir) -> None:
    with pytest.raises(BuildError, match="no build script build.py"):
        run_build(proj.project())
    proj.build_script("def main():\n    pass\n")
    with pytest.raises(BuildError, match=r"define `def main\(urd\):`"):
        run_build(proj.project())
    proj.build_script("def main(urd):\n    x = 1\n    raise RuntimeError('oops')\n")
    with pytest.raises(BuildScriptFailed, match=r"build.py:3: RuntimeError: oops"):
        run_build(proj.project())
    proj.build_script("def main(urd):\n    pass\n", name="other")
    assert run_build(proj.project(), "other").built == []


def test_ambiguous_prefix_lists_the_candidates(chain: ProjectDir) -> None:
    parse = run_build(chain.project()).built[0]
    project = chain.project()
    # Two keys sharing a prefix: only the first 4 digits are given, so it is ambiguous.
    for key in ("abcd" + "0" * 60, "abcd" + "1" * 60):
        twin = dataclasses.replace(parse.manifest, key=key, id=f"parse-{key[:12]}")
        project.store.index.put(
            key, project.store.objects.put_bytes("manifest", format_manifest(twin))
        )
    with pytest.raises(JobNotFound, match=r"'abcd' is ambiguous \(parse-abcd000000000000, "):
        Job("abcd", project)
    assert Job("abcd1", project).key == "abcd" + "1" * 60


def test_a_later_success_removes_the_kept_failure(proj: ProjectDir) -> None:
    write(proj.root / "data" / "flag", "fail")
    proj.method(
        "flaky",
        "def synthesis(job):\n"
        "    if open(job.input_filename('flag')).read() == 'fail':\n"
        "        raise RuntimeError('flag says fail')\n",
    )
    proj.build_script("def main(urd):\n    urd.build('flaky')\n")
    with pytest.raises(JobFailed) as info:
        run_build(proj.project())
    assert info.value.kept.is_dir()
    write(proj.root / "data" / "flag", "ok")
    run_build(proj.project())
    assert not info.value.kept.exists()


def test_symlinks_are_never_stored_and_never_left_behind(proj: ProjectDir) -> None:
    proj.method(
        "links",
        """
        import os
        def synthesis(job):
            open("real.txt", "w").write("r")
            os.symlink("/etc/hostname", "outside")
            os.mkdir("d")
            os.symlink("d", "dirlink")
        """,
    )
    proj.method(
        "registers_link",
        """
        import os
        def synthesis(job):
            os.symlink("/etc/hostname", "outside")
            job.register_file("outside")
        """,
    )
    proj.build_script("def main(urd):\n    urd.build('links')\n")
    job = run_build(proj.project()).built[0]
    assert job.files() == ["real.txt"]
    assert sorted(os.listdir(job.path)) == ["real.txt"]
    proj.build_script("def main(urd):\n    urd.build('registers_link')\n")
    with pytest.raises(JobFailed, match="'outside' is a symlink"):
        run_build(proj.project())


def test_new_store_directories_are_created(tmp_path: Path) -> None:
    from gitax.store.fsutil import atomic_write, ensure_dir

    ensure_dir(tmp_path / "a" / "b" / "c")
    assert (tmp_path / "a" / "b" / "c").is_dir()
    atomic_write(tmp_path / "x" / "y" / "f", b"data")
    assert (tmp_path / "x" / "y" / "f").read_bytes() == b"data"
    assert os.listdir(tmp_path / "x" / "y") == ["f"]  # no temp file left


def test_small_values_live_in_the_manifest_and_large_ones_in_a_blob(
    proj: ProjectDir, tmp_path: Path
) -> None:
    from gitax.jobs.checkout import checkout_job
    from gitax.jobs.diff import diff_jobs

    proj.method("v", "options = dict(n=0, tag='')\ndef synthesis():\n    return 'x' * options.n\n")
    proj.build_script(
        "def main(urd):\n"
        "    for n, tag in ((10, ''), (10, 'again'), (300_000, '')):\n"
        "        urd.build('v', n=n, tag=tag)\n"
    )
    small, same, large = run_build(proj.project()).built
    assert small.manifest.value is None and small.manifest.value_inline is not None
    assert large.manifest.value is not None and large.manifest.value_inline is None
    stored = large.project.store.objects.get_bytes(large.manifest.value, "blob")
    assert pickle.loads(stored) == "x" * 300_000  # more than a pipe holds: read as it came
    fresh = proj.project()  # read back from the store alone
    assert Job(small.id, fresh).load() == "x" * 10
    assert Job(large.id, fresh).load() == "x" * 300_000
    for job in (small, large):
        out = checkout_job(job, tmp_path / job.id)
        assert pickle.loads((out / "value.pickle").read_bytes()) == job.load()
    assert diff_jobs(small, same)["value"] is None
    assert diff_jobs(small, large)["value"] is not None


def test_a_build_does_not_carry_every_job_it_built(proj: ProjectDir) -> None:
    # Each fork of the build process costs more the more memory it holds, so a job's
    # overhead stays flat only if the build's memory does not grow with each job built.
    proj.method("noop", "options = dict(n=0)\ndef synthesis():\n    return options.n\n")
    proj.build_script(
        """
        import tracemalloc
        def main(urd):
            held = []
            for i in range(300):
                if i == 100:
                    tracemalloc.start()
                if i in (200, 299):
                    held.append(tracemalloc.get_traced_memory()[0])
                urd.build("noop", n=i)
            tracemalloc.stop()
            # Two windows of 100 jobs: a leak grows in both, while a one-off resize of
            # some interpreter table (the interned strings grow with every module the
            # test run imported) lands in one of them.
            with open(GREW, "w") as fh:
                fh.write(str(min(held[0], held[1] - held[0])))
        """.replace("GREW", repr(str(proj.root / "grew.txt")))
    )
    run_build(proj.project())
    per_job = int((proj.root / "grew.txt").read_text()) / 100
    assert per_job < 1024, f"the build process keeps {per_job:.0f} bytes per job built"
