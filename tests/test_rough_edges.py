"""Issue 15's rough edges: each test here failed before its fix."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import test_shared
from conftest import ProjectDir, gitax, write

place = test_shared.place  # the fixture: a folder other uids can reach

PHASES = """
def prepare(job):
    print("prep")

def analysis(sliceno, job):
    print("slice", sliceno)

def synthesis(job):
    print("synth")
    return {
        "str1": job.output("1"), "int1": job.output(1), "int0": job.output(0),
        "all": job.output(), "analysis": job.output("analysis"),
        "synthesis": job.output("synthesis"), "prepare": job.output("prepare"),
    }
"""


def _one_job(root: Path, git_repo: bool = False) -> ProjectDir:
    """A project at `root` (made; in a new git repository if asked) with one job built."""
    from conftest import git

    root.mkdir(exist_ok=True)
    if git_repo:
        git("init", "-q", cwd=root)
    proj = ProjectDir(root)
    proj.method("m", "def synthesis():\n    return 1\n")
    proj.build_script("def main(urd):\n    urd.build('m')\n")
    gitax("build", cwd=root)
    return proj


def _build_phases(proj: ProjectDir) -> str:
    proj.method("out", PHASES)
    write(proj.root / "gitax.toml", (proj.root / "gitax.toml").read_text() + "slices = 2\n")
    proj.build_script("def main(urd):\n    urd.build('out')\n")
    gitax("build", cwd=proj.root)
    return proj.job("out").id


# ---- 1. job.output() in a running job, as on the stored job ------------------------------


def test_running_job_output_reads_phases_by_number_name_and_zero(proj: ProjectDir) -> None:
    _build_phases(proj)
    job = proj.job("out")
    seen = job.load()
    assert seen["str1"] == seen["int1"] == "slice 1\n"
    assert seen["int0"] == "slice 0\n"
    assert seen["analysis"] == "slice 0\nslice 1\n"
    assert seen["prepare"] == "prep\n"
    assert seen["synthesis"] == "synth\n"  # its own phase so far
    assert seen["all"] == "prep\nslice 0\nslice 1\nsynth\n"
    # The stored job answers the same questions the same way.
    assert job.output(1) == job.output("1") == "slice 1\n"
    assert job.output(0) == "slice 0\n"
    assert job.output("analysis") == seen["analysis"]
    assert job.output() == seen["all"]


def test_output_of_a_phase_the_job_lacks_is_an_error(proj: ProjectDir) -> None:
    from gitax.jobs.job import NoSuchPhase

    _build_phases(proj)
    job = proj.job("out")
    for bad in (5, "5", "bogus"):
        with pytest.raises(NoSuchPhase, match="slices 0-1"):
            job.output(bad)


# ---- 3. silent no-ops are errors that list what exists -----------------------------------


@pytest.mark.parametrize("phase", ["5", "bogus"])
def test_show_output_of_a_missing_phase_fails_naming_the_phases(
    proj: ProjectDir, phase: str
) -> None:
    jid = _build_phases(proj)
    r = gitax("show", jid, "--output", phase, cwd=proj.root, check=False)
    assert r.returncode == 1 and r.stdout == ""
    assert f"no output phase '{phase}'" in r.stderr and "prepare, slices 0-1" in r.stderr
    assert len(r.stderr.splitlines()) == 1


def test_show_source_and_files_together_print_both(proj: ProjectDir) -> None:
    proj.method("w", "def synthesis(job):\n    job.save('x', 'x.pickle')\n")
    proj.build_script("def main(urd):\n    urd.build('w')\n")
    gitax("build", cwd=proj.root)
    out = gitax("show", "w", "--source", "--files", cwd=proj.root).stdout
    assert "def synthesis(job):" in out and "x.pickle" in out


def test_push_and_pull_of_an_unknown_list_fail_listing_the_lists(
    proj: ProjectDir, tmp_path: Path
) -> None:
    proj.method("m", "def synthesis():\n    return 1\n")
    proj.build_script(
        "def main(urd):\n    urd.begin('daily')\n    urd.build('m')\n    urd.finish('daily')\n"
    )
    gitax("build", cwd=proj.root)
    gitax("remote", "add", "r", str(tmp_path / "remote"), "--init", "--default", cwd=proj.root)
    r = gitax("push", "--list", "nosuch", cwd=proj.root, check=False)
    assert r.returncode == 1
    assert "no urd list 'nosuch' in this project; lists there: daily" in r.stderr
    assert not list((tmp_path / "remote" / "objects").rglob("*.*"))  # nothing was sent
    gitax("push", "--list", "daily", cwd=proj.root)
    r = gitax("pull", "--list", "nosuch", cwd=proj.root, check=False)
    assert r.returncode == 1 and "on remote r; lists there: daily" in r.stderr


def test_log_of_an_unknown_list_fails_listing_the_lists(proj: ProjectDir) -> None:
    r = gitax("log", "nolist", cwd=proj.root, check=False)
    assert r.returncode == 1 and "no urd list or build script 'nolist'" in r.stderr


def test_a_methods_folder_that_does_not_exist_is_an_error(proj: ProjectDir) -> None:
    toml = proj.root / "gitax.toml"
    toml.write_text(toml.read_text().replace('["methods"]', '["methods", "nosuchdir"]'))
    proj.build_script("def main(urd):\n    pass\n")
    for args in (["methods"], ["build"]):
        r = gitax(*args, cwd=proj.root, check=False)
        assert r.returncode == 1, args
        assert "methods folder 'nosuchdir' does not exist" in r.stderr
        assert "folders here: data, methods" in r.stderr


# ---- 4. show --json is everything; one word per concept ---------------------------------


def test_show_json_has_every_manifest_field_and_text_names_jobs_and_inputs(
    proj: ProjectDir,
) -> None:
    write(proj.root / "data" / "in.txt", "hello\n")
    proj.method(
        "reader",
        """
        def synthesis(job):
            return open(job.input_filename('in.txt')).read()
        """,
    )
    proj.method("after", "jobs = ('src',)\ndef synthesis():\n    return 2\n")
    proj.build_script(
        "def main(urd):\n    r = urd.build('reader')\n    urd.build('after', src=r)\n"
    )
    gitax("build", cwd=proj.root)
    reader, after = proj.job("reader"), proj.job("after")
    doc = json.loads(gitax("show", reader.id, "--json", cwd=proj.root).stdout)
    m = reader.manifest
    assert doc["inputs"] == m.inputs and "data/in.txt" in doc["inputs"]
    assert doc["git_blobs"] == m.git_blobs and doc["git_blobs"]
    assert doc["value_inline"] == m.value_inline and doc["value_inline"]
    assert doc["tree"] == m.files and doc["value_blob"] == m.value
    text = gitax("show", reader.id, cwd=proj.root).stdout
    assert "inputs   data/in.txt (" in text
    text = gitax("show", after.id, cwd=proj.root).stdout
    assert f"jobs     src={reader.id}" in text and "inputs   -" in text


# ---- 5. a broken method does not hide the others ----------------------------------------


def test_methods_lists_the_others_and_marks_a_broken_one(proj: ProjectDir) -> None:
    proj.method("good", '"""Fine."""\ndef synthesis():\n    return 1\n')
    proj.method("bad", "def synthesis(:\n")
    r = gitax("methods", cwd=proj.root)
    lines = r.stdout.splitlines()
    assert any(line.startswith("good") and "Fine." in line for line in lines)
    assert any(
        line.startswith("bad") and "(broken)" in line and "a_bad.py:1: syntax error" in line
        for line in lines
    )
    doc = json.loads(gitax("methods", "--json", cwd=proj.root).stdout)
    assert doc["good"] == "Fine." and doc["bad"].startswith("(broken) ")


def test_empty_project_says_how_to_begin(proj: ProjectDir) -> None:
    assert "no methods yet: write methods/a_NAME.py" in gitax("methods", cwd=proj.root).stdout
    assert "no build scripts yet: write build.py" in gitax("scripts", cwd=proj.root).stdout


# ---- 2. a failing job's traceback: once, the user's frames, the live line cleared -------


@pytest.mark.parametrize("phase", ["synthesis", "analysis"])
def test_failed_job_traceback_is_printed_once_without_gitax_frames(
    proj: ProjectDir, phase: str
) -> None:
    proj.method(
        "boom",
        f"""
        def helper(x):
            return 1 / x

        def {phase}({"sliceno" if phase == "analysis" else ""}):
            return helper({"sliceno" if phase == "analysis" else "0"})
        """,
    )
    proj.build_script("def main(urd):\n    urd.build('boom')\n")
    r = gitax("build", cwd=proj.root, check=False)
    both = r.stdout + r.stderr
    assert r.returncode == 1
    assert both.count("Traceback (most recent call last)") == 1, both
    assert "a_boom.py" in r.stderr and "return 1 / x" in r.stderr  # with the error line
    assert "gitax/run" not in both and "jobproc" not in both
    assert r.stderr.splitlines()[-1].startswith("gitax: error: build.py:2: job boom-")
    # The kept logs hold the same traceback.
    kept = next((proj.root / ".gitax" / "failed").iterdir())
    logs = "".join(p.read_text() for p in (kept / "OUTPUT").iterdir())
    assert "ZeroDivisionError" in logs and "jobproc" not in logs


def test_failed_build_script_traceback_has_no_gitax_frames(proj: ProjectDir) -> None:
    proj.build_script("def main(urd):\n    {}['nokey']\n")
    r = gitax("build", cwd=proj.root, check=False)
    assert r.returncode == 1 and 'build.py", line 2, in main' in r.stderr
    assert "gitax/run" not in r.stderr and r.stderr.count("Traceback") == 1


def test_live_line_is_cleared_before_the_traceback_and_the_error(proj: ProjectDir) -> None:
    import os
    import pty
    import re
    import subprocess
    import sys

    from conftest import REPO

    proj.method("slow", "import time\ndef synthesis():\n    time.sleep(2.5)\n    1 / 0\n")
    proj.build_script("def main(urd):\n    urd.build('slow')\n")
    leader, follower = pty.openpty()
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitax", "build"],
        cwd=proj.root,
        stdout=follower,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert proc.wait(timeout=60) == 1
    os.close(leader)
    out = b"".join(chunks).decode()
    draws = re.findall(r"running  slow-\S+  \d+ s(.{0,4})", out, re.S)
    assert draws, out  # the live line was drawn
    assert all(after.startswith("\r\x1b[K") for after in draws), out
    assert out.count("Traceback") == 1 and "gitax: error:" in out


# ---- 6. every OSError at the CLI boundary is one line naming the path --------------------


def test_permission_errors_are_one_line_naming_the_path(place: Path) -> None:
    import os
    import subprocess
    import sys

    from conftest import REPO

    proj = _one_job(place / "proj")
    root = proj.root
    remote = place / "remote"
    gitax("remote", "add", "r", str(remote), "--init", "--default", cwd=root)
    (place / "other").mkdir()
    other = ProjectDir(place / "other")  # a job on the remote that the project lacks
    other.method("n", "def synthesis():\n    return 2\n")
    other.build_script(
        "def main(urd):\n    urd.begin('l')\n    urd.build('n')\n    urd.finish('l')\n"
    )
    gitax("build", cwd=other.root)
    gitax("remote", "add", "r", str(remote), "--default", cwd=other.root)
    gitax("push", cwd=other.root)
    for path in (place, *place.rglob("*")):
        path.chmod((path.stat().st_mode | 0o555) & ~0o022)  # others read, never write
    env = dict(os.environ, PYTHONPATH=str(REPO), HOME=str(place))
    ro = place / "ro"
    ro.mkdir(mode=0o555)
    jid = proj.job("m").id
    for args, where in [
        (["push"], str(remote)),
        (["pull"], str(root / ".gitax")),
        (["remote", "add", "x", "/tmp/x"], str(root)),
        (["checkout", jid, str(ro / "x")], str(ro)),
    ]:
        r = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable,
             "-m", "gitax", *args],
            cwd=root, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr and len(r.stderr.splitlines()) == 1, (args, r.stderr)
        assert r.stderr.startswith("gitax: error: ") and where in r.stderr, (args, r.stderr)
        assert "ermission denied" in r.stderr or "may write" in r.stderr, (args, r.stderr)


def test_os_error_line_names_both_paths_and_copy_errors() -> None:

    from gitax.cli.main import os_error_line

    e = OSError(13, "Permission denied", "/a/b", None, "/c/d")
    assert os_error_line(e) == "/a/b -> /c/d: Permission denied"
    err = shutil.Error([("/src/x", "/dst/x", "[Errno 28] No space left on device")])
    assert os_error_line(err) == "/src/x: [Errno 28] No space left on device"
    assert os_error_line(OSError("odd\nthing")) == "OSError: odd thing"


# ---- 7. LIST@DATE: the latest session at or before, partial dates too --------------------


def test_list_at_date_is_the_latest_session_at_or_before(proj: ProjectDir) -> None:
    proj.method("m", "options = dict(day='')\ndef synthesis():\n    return options.day\n")
    proj.build_script(
        """
        def main(urd):
            for ts in ('2024-01-05', '2024-01-20T10:30:00', '2024-02-03'):
                urd.begin('main', ts)
                urd.build('m', day=ts)
                urd.finish('main')
            # The API stays exact unless an operator says otherwise, as exax's urd.get.
            assert not urd.peek('main', '2024-01-10')
            assert urd.peek('main', '<=2024-01-10').timestamp == '2024-01-05'
            assert urd.peek('main', '>2024-01-05').timestamp == '2024-01-20T10:30:00'
            assert not urd.peek('main', '<2024-01-05')
        """
    )
    gitax("build", cwd=proj.root)

    def session(ref: str) -> str:
        return json.loads(gitax("show", ref, "--json", cwd=proj.root).stdout)["timestamp"]

    assert session("main@2024-01-05") == "2024-01-05"  # exactly one
    assert session("main@2024-01-10") == "2024-01-05"  # between two: the one before
    assert session("main@2024-01") == "2024-01-20T10:30:00"  # within a partial date
    assert session("main@2024-01-20T10") == "2024-01-20T10:30:00"
    assert session("main@2024-01-20T10:00") == "2024-01-05"
    assert session("main@2025") == "2024-02-03"
    assert session("main@>=2024-01-06") == "2024-01-20T10:30:00"
    r = gitax("show", "main@2023-12", cwd=proj.root, check=False)
    assert r.returncode == 1 and "sessions run from 2024-01-05 to 2024-02-03" in r.stderr
    r = gitax("show", "main@yesterday", cwd=proj.root, check=False)
    assert r.returncode == 1 and "'yesterday' is not a date or time" in r.stderr
    # The same rule in job specifiers.
    day = json.loads(gitax("show", ":main/2024-01-10:", "--json", cwd=proj.root).stdout)
    assert day["options"] == {"day": "2024-01-05"}


# ---- 8. "why it ran" compares with what the same build line built last time --------------


def test_why_names_only_what_changed_on_that_build_line(proj: ProjectDir) -> None:
    proj.method(
        "work",
        "options = dict(sleep=0.0, tag='')\n"
        "def analysis(sliceno):\n    return sliceno\n"
        "def synthesis():\n    return options.tag\n",
    )
    script = """
        def main(urd):
            urd.build('work', sleep=2.5, tag='x')
            urd.build('work', tag='y')
    """
    proj.build_script(script)
    toml = proj.root / "gitax.toml"
    toml.write_text(toml.read_text() + "slices = 2\n")
    gitax("build", cwd=proj.root)
    toml.write_text(toml.read_text().replace("slices = 2", "slices = 3"))
    out = gitax("build", cwd=proj.root).stdout
    lines = [line for line in out.splitlines() if line.startswith("building")]
    assert len(lines) == 2
    assert all(line.endswith("(slices: 2 -> 3)") for line in lines), lines


def test_why_in_a_fresh_clone_after_a_pull_is_not_new_method(
    proj: ProjectDir, tmp_path: Path
) -> None:
    proj.method("m", "options = dict(n=1)\ndef synthesis():\n    return options.n\n")
    proj.build_script("def main(urd):\n    urd.build('m', n=1)\n")
    gitax("build", cwd=proj.root)
    gitax("remote", "add", "r", str(tmp_path / "remote"), "--init", "--default", cwd=proj.root)
    gitax("push", cwd=proj.root)
    other = tmp_path / "other"
    shutil.copytree(proj.root, other, ignore=shutil.ignore_patterns(".gitax"))
    gitax("pull", cwd=other)
    (other / "build.py").write_text("def main(urd):\n    urd.build('m', n=2)\n")
    out = gitax("build", cwd=other).stdout
    assert "(option n: 1 -> 2)" in out and "new method" not in out
    # Without any build record (a job pulled alone), the closest stored job is used.
    (other / "build.py").write_text("def main(urd):\n    urd.build('m', n=3, name='other')\n")
    out = gitax("build", cwd=other).stdout
    assert "(option n: " in out and " -> 3)" in out and "new method" not in out


# ---- 9. verify names the real problem ----------------------------------------------------


@pytest.fixture
def committed(tmp_path: Path) -> Path:
    from conftest import git

    root = tmp_path / "repo"
    root.mkdir()
    git("init", "-q", cwd=root)
    proj = ProjectDir(root)
    proj.method("m", "def synthesis(job):\n    open('r.txt', 'w').write('r')\n")
    proj.build_script("def main(urd):\n    urd.build('m').link_result('r.txt')\n")
    gitax("build", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "first", "--no-verify", cwd=root)
    return root


@pytest.mark.parametrize("how", ["removed", "dangling"])
def test_verify_calls_a_missing_or_dangling_result_missing(committed: Path, how: str) -> None:
    link = committed / "results" / "r.txt"
    link.unlink()
    if how == "dangling":
        link.symlink_to(committed / "nowhere.txt")
    r = gitax("verify", cwd=committed, check=False)
    assert r.returncode != 0
    assert "r.txt: the file is missing" in r.stdout + r.stderr
    assert "no longer matches" not in r.stdout + r.stderr
    assert "gitax checkout --results" in r.stdout + r.stderr


def test_verify_staged_says_git_add_for_a_method_built_but_not_added(committed: Path) -> None:
    from conftest import git

    write(
        committed / "methods" / "a_new.py",
        "def synthesis(job):\n    open('n.txt', 'w').write('n')\n",
    )
    write(
        committed / "build.py",
        "def main(urd):\n    urd.build('m').link_result('r.txt')\n"
        "    urd.build('new').link_result('n.txt')\n",
    )
    gitax("build", cwd=committed)
    git("add", "build.py", "gitax.lock", cwd=committed)  # not methods/a_new.py
    r = gitax("verify", "--staged", cwd=committed, check=False)
    both = r.stdout + r.stderr
    assert r.returncode != 0
    assert "methods/a_new.py is built from but not added to git" in both
    assert "git add methods/a_new.py" in both and "gone" not in both


# ---- 10. words: plurals, empty projects, a job built before the first commit -----------


def test_show_says_a_job_was_built_before_the_first_commit(tmp_path: Path) -> None:
    proj = _one_job(tmp_path / "p", git_repo=True)
    out = gitax("show", proj.job("m").id, cwd=proj.root).stdout
    assert "git      no commit yet (built before the first)" in out
    outside = _one_job(tmp_path / "q")
    out = gitax("show", outside.job("m").id, cwd=outside.root).stdout
    assert "git      not in a git repository" in out


def test_counts_are_singular_for_one(proj: ProjectDir, tmp_path: Path) -> None:
    from gitax.words import count

    assert [count(1, "job"), count(2, "job"), count(0, "urd entry")] == [
        "1 job",
        "2 jobs",
        "0 urd entries",
    ]
    proj.method("m", "def synthesis():\n    return 1\n")
    proj.build_script(
        "def main(urd):\n    urd.begin('l')\n    urd.build('m')\n    urd.finish('l')\n"
    )
    gitax("build", cwd=proj.root)
    assert " objects, 1 job, 2 urd logs: clean" in gitax("fsck", cwd=proj.root).stdout
    gitax("remote", "add", "r", str(tmp_path / "remote"), "--init", "--default", cwd=proj.root)
    out = gitax("push", cwd=proj.root).stdout
    assert ", 1 job, 1 urd entry, 1 build to r" in out
    assert "kept 1 job," in gitax("gc", "--dry-run", cwd=proj.root).stdout
    r = gitax("show", "l~1", cwd=proj.root, check=False)
    assert "has only 1 session" in r.stderr


def test_progress_off_a_terminal_is_a_line_now_and_then(capsys: pytest.CaptureFixture) -> None:
    from gitax.cli.cmd_remote import ProgressLine

    bar = ProgressLine("pushing", every=0.0)
    bar("objects", 5, 10, 3 * 2**20)
    bar("objects", 10, 10, 6 * 2**20)
    quiet = ProgressLine("pulling", every=3600.0)
    quiet("objects", 1, 10, 0)
    assert capsys.readouterr().err.splitlines() == [
        "pushing 5/10 objects, 3.0 MiB",
        "pushing 10/10 objects, 6.0 MiB",
    ]


def test_a_running_and_a_stored_job_are_one_identity(proj: ProjectDir) -> None:
    from gitax.jobs.job import Job, JobIdentity
    from gitax.run.context import CurrentJob

    shared = ["id", "__str__", "tagged", "withfile", "filename", "json_load"]
    assert [n for n in shared if getattr(Job, n) is not getattr(CurrentJob, n)] == []
    assert all(n in vars(JobIdentity) for n in shared)
    proj.method(
        "ident",
        "import os\n"
        "def analysis(sliceno, job):\n"
        "    job.json_save({'s': sliceno}, 'part', sliceno=sliceno)\n"
        "def synthesis(job):\n"
        "    name = job.filename('part', sliceno=1)\n"
        "    return [job.id, str(job), job.tagged(), os.path.relpath(name, job.path),\n"
        "            job.json_load('part', sliceno=1)]\n",
    )
    proj.build_script("def main(urd):\n    urd.build('ident')\n")
    write(proj.root / "gitax.toml", (proj.root / "gitax.toml").read_text() + "slices = 2\n")
    gitax("build", cwd=proj.root)
    job = proj.job("ident")
    running_id, running_str, tagged, rel, loaded = job.load()
    assert running_id == running_str == job.id == str(job)
    assert tuple(tagged) == job.tagged()
    assert rel == "part.1" == str(Path(job.filename("part", 1)).relative_to(job.path))
    assert loaded == job.json_load("part", sliceno=1) == {"s": 1}
