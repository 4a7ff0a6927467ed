"""A job's work folder is what the store holds: a changed file there is never read as the
job's output, fsck hashes it, nothing the method left running may change it, and a hard
link to a user's file is never kept."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from conftest import ProjectDir, example_in_git, git, gitax, write

from gitax.jobs.job import Job


@pytest.fixture
def pair(proj: ProjectDir) -> ProjectDir:
    proj.method("a", "def synthesis(job):\n    job.save(list(range(100)), 'nums')\n")
    proj.method(
        "b",
        "options = dict(n=0)\njobs = ('src',)\n"
        "def synthesis():\n    return sum(jobs.src.load('nums')) + options.n\n",
    )
    proj.build_script("def main(urd):\n    urd.build('b', src=urd.build('a'), n=0)\n")
    gitax("build", cwd=proj.root)
    return proj


def _flip(path: Path, keep_mtime: bool) -> None:
    """Change one byte in place (as a write through results/ or a bad disk would)."""
    st = path.stat()
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[-2] ^= 0xFF
    path.write_bytes(bytes(data))
    if keep_mtime:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _fsck_problems(root: Path) -> list[dict]:
    proc = gitax("fsck", "--json", cwd=root, check=False)
    return json.loads(proc.stdout)["problems"]


def test_a_changed_work_file_is_rebuilt_before_a_downstream_job_reads_it(
    pair: ProjectDir,
) -> None:
    a = pair.job("a")
    nums = pair.project().store.path("work", a.id) / "nums"
    _flip(nums, keep_mtime=False)
    assert any(p["where"] == str(nums) for p in _fsck_problems(pair.root))
    pair.build_script("def main(urd):\n    urd.build('b', src=urd.build('a'), n=1)\n")
    gitax("build", cwd=pair.root)
    b = [
        Job.from_key(pair.project(), k)
        for k in pair.project().store.index.keys()
        if Job.from_key(pair.project(), k).options.get("n") == 1
    ]
    assert b[0].load() == sum(range(100)) + 1
    assert _fsck_problems(pair.root) == []


def test_fsck_hashes_work_files_whose_size_and_mtime_look_right(pair: ProjectDir) -> None:
    a = pair.job("a")
    nums = pair.project().store.path("work", a.id) / "nums"
    _flip(nums, keep_mtime=True)  # what a power cut or a bad disk leaves
    (nums.parent / "extra.txt").write_text("left by someone")
    problems = {p["where"]: p["what"] for p in _fsck_problems(pair.root)}
    assert problems[str(nums)].startswith("differs from the stored file")
    assert problems[str(nums.parent / "extra.txt")].startswith("not a file of the job")
    assert len(problems) == 2


def test_what_a_method_leaves_running_is_killed_when_the_job_ends(
    proj: ProjectDir, tmp_path: Path
) -> None:
    pidfile = tmp_path / "pid"
    proj.method(
        "bg",
        f"""
import subprocess
def synthesis(job):
    with job.open("out.txt", "w") as fh:
        fh.write("good")
    p = subprocess.Popen(["sh", "-c", "sleep 1; echo evil > out.txt"])
    open({str(pidfile)!r}, "w").write(str(p.pid))
""",
    )
    proj.build_script("def main(urd):\n    urd.build('bg')\n")
    gitax("build", cwd=proj.root)
    pid = int(pidfile.read_text())
    time.sleep(1.5)
    job = proj.job("bg")
    assert (proj.project().store.path("work", job.id) / "out.txt").read_text() == "good"
    assert _gone(pid)


def _gone(pid: int) -> bool:
    """Has the process ended? (Killed, it may linger as a zombie until whoever adopted
    it, the container's init here, reaps it.)"""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except FileNotFoundError:
        return True
    return stat[stat.rfind(b")") + 2 :].split()[0] in (b"Z", b"X")


def test_a_hard_link_to_a_users_file_is_never_kept(proj: ProjectDir) -> None:
    data = write(proj.root / "data" / "in.txt", "original\n")
    proj.method(
        "linker",
        "import os\ndef synthesis(job):\n"
        "    os.link(job.input_filename('in.txt'), 'copy.txt')\n"
        "    job.register_file('copy.txt')\n",
    )
    proj.build_script("def main(urd):\n    urd.build('linker')\n")
    mode = data.stat().st_mode
    gitax("build", cwd=proj.root)
    assert data.stat().st_mode == mode  # still the user's to edit
    assert data.stat().st_nlink == 1
    data.write_text("edited by the user\n")
    job = proj.job("linker")
    assert Path(job.filename("copy.txt")).read_text() == "original\n"
    assert _fsck_problems(proj.root) == []


def test_a_result_changed_where_no_stat_shows_is_restored_by_checkout_results(
    tmp_path: Path,
) -> None:
    root = tmp_path / "cars"
    example_in_git(root, "the example")
    gitax("build", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "built", cwd=root)
    result = root / "results" / "data.png"
    good = result.read_bytes()
    _flip(result.resolve(), keep_mtime=True)
    proc = gitax("verify", cwd=root, check=False)
    assert proc.returncode == 1 and "gitax checkout --results" in proc.stdout
    gitax("checkout", "--results", cwd=root)
    assert result.read_bytes() == good
    assert gitax("verify", cwd=root).returncode == 0
    assert _fsck_problems(root) == []
