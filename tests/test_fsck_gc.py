"""fsck finds every kind of damage; gc removes only what nothing reaches."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import REPO, ProjectDir, gitax, write

from gitax.jobs.gc import gc
from gitax.jobs.job import Job
from gitax.jobs.manifest import ManifestError
from gitax.remote.pathfs import PathTransport
from gitax.remote.transport import temp_name
from gitax.store.index import IndexCorrupt
from gitax.store.store import Store


@pytest.fixture
def built(proj: ProjectDir) -> ProjectDir:
    proj.method(
        "a",
        "options = dict(x=0)\ndef synthesis(job):\n"
        "    job.save(options.x, 'x')\n    return options.x\n",
    )
    proj.method("b", "jobs = ('src',)\ndef synthesis():\n    return jobs.src.load() + 1\n")
    proj.build_script(
        """
        def main(urd):
            urd.begin("main", "2023-01-05")
            urd.build("b", src=urd.build("a", x=1))
            urd.finish("main")
            urd.build("a", x=99)  # in no session: reachable from nothing but the grace period
        """
    )
    gitax("build", cwd=proj.root)
    return proj


def fsck_json(root: Path) -> dict:
    proc = gitax("fsck", "--json", cwd=root, check=False)
    return json.loads(proc.stdout) | {"rc": proc.returncode}


def test_fsck_is_clean_after_builds(built: ProjectDir) -> None:
    doc = fsck_json(built.root)
    assert doc["rc"] == 0 and doc["problems"] == [] and doc["jobs"] == 3 and doc["logs"] == 2
    assert gitax("fsck", cwd=built.root).stdout.strip().endswith(": clean")


def test_fsck_reports_corrupt_and_missing_objects(built: ProjectDir) -> None:
    project = built.project()
    job = Job(next(iter(project.store.index.keys())), project)
    tree = project.store.objects.path(job.manifest.files)
    source = next(iter(job.manifest.sources.values()))
    os.chmod(tree, 0o644)
    tree.write_bytes(tree.read_bytes()[:-3] + b"xyz")
    os.unlink(project.store.objects.path(source))
    doc = fsck_json(built.root)
    assert doc["rc"] == 1
    whats = {(p["where"], p["what"].split(" (")[0].split(":")[0]) for p in doc["problems"]}
    assert (f"object {job.manifest.files}", f"object {job.manifest.files} is corrupt") in whats
    assert any(p["what"] == f"refers to missing object {source}" for p in doc["problems"])


def test_fsck_reports_damaged_index_entries_and_urd_lines(built: ProjectDir) -> None:
    project = built.project()
    key = next(iter(project.store.index.keys()))
    (project.store.index.root / key[:2] / key[2:]).write_bytes(b"half")
    log = project.store.root / "urd" / "main.urd"
    with open(log, "ab") as fh:
        fh.write(b"{not json}\n{torn")
    problems = fsck_json(built.root)["problems"]
    assert {
        "where": str(project.store.index.root / key[:2] / key[2:]),
        "what": "damaged index entry",
    } in problems
    assert any(p["where"] == f"{log}:2" and "malformed urd entry" in p["what"] for p in problems)
    assert not any(p["where"] == f"{log}:3" for p in problems)  # a torn tail is no damage


def age(root: Path, days: float) -> None:
    """Make everything in a store look `days` old."""
    old = time.time() - days * 86400
    for dirpath, _, files in os.walk(root / ".gitax"):
        for f in files:
            os.utime(os.path.join(dirpath, f), (old, old))


def test_gc_keeps_what_is_reachable_and_removes_the_rest(built: ProjectDir) -> None:
    script = built.root / "build.py"
    script.write_text(script.read_text().replace('urd.build("a", x=99)', "pass"))
    gitax("build", cwd=built.root)  # the latest build no longer uses a x=99
    age(built.root, 30)
    project = built.project()
    before = set(project.store.index.keys())
    dry = gc(project, workdirs=True, dry_run=True)
    assert len(dry.jobs) == 1 and dry.objects > 0 and dry.bytes > 0 and dry.workdirs == 3
    assert set(project.store.index.keys()) == before  # a dry run removes nothing
    report = gc(project)
    assert len(report.jobs) == 1 and report.kept_jobs == 2
    left = {Job.from_key(project, k).method for k in project.store.index.keys()}
    assert left == {"a", "b"}
    assert fsck_json(built.root)["rc"] == 0  # nothing reachable lost
    script.write_text(script.read_text().replace("pass", 'urd.build("a", x=99)'))
    doc = json.loads(gitax("build", "--json", cwd=built.root).stdout.splitlines()[-1])
    assert [j.split("-")[0] for j in doc["built"]] == ["a"] and len(
        doc["reused"]
    ) == 2  # x=99 again


def test_gc_keeps_everything_within_the_grace_period(built: ProjectDir) -> None:
    report = gc(built.project())
    assert report.jobs == [] and report.objects == 0


def test_gc_keeps_the_results_of_gitax_lock(built: ProjectDir) -> None:
    built.method("r", "def synthesis(job):\n    open('out.txt', 'w').write('r')\n")
    built.build_script("def main(urd):\n    urd.build('r').link_result('out.txt')\n")
    gitax("build", cwd=built.root)
    age(built.root, 30)
    gc(built.project())
    assert (built.root / "results" / "out.txt").read_text() == "r"
    assert "r" in {
        Job.from_key(built.project(), k).method for k in built.project().store.index.keys()
    }


def test_gc_workdirs_are_rebuilt_on_use(built: ProjectDir) -> None:
    project = built.project()
    out = gitax("gc", "--workdirs", cwd=built.root).stdout
    assert "removed 0 jobs" in out and "3 workdirs" in out
    assert list((project.store.root / "work").iterdir()) == []
    job = next(
        Job.from_key(project, k)
        for k in project.store.index.keys()
        if Job.from_key(project, k).method == "a"
    )
    assert job.load("x") in (1, 99)  # materialised again from the store


def test_gc_never_runs_beside_a_build(proj: ProjectDir, tmp_path: Path) -> None:
    started = tmp_path / "started"
    proj.method(
        "slow",
        f"import time\ndef synthesis():\n    open({str(started)!r}, 'w').close()\n"
        "    time.sleep(30)\n",
    )
    proj.build_script("def main(urd):\n    urd.build('slow')\n")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    build = subprocess.Popen(
        [sys.executable, "-m", "gitax", "build"],
        cwd=proj.root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not started.exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc = gitax("gc", "--grace", "0", cwd=proj.root, check=False)
        assert proc.returncode == 1 and "a build or pull is using" in proc.stderr
    finally:
        build.kill()
        build.wait()
    gitax("gc", "--grace", "0", cwd=proj.root)  # the lock died with the build


def _du(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())


def test_gc_frees_the_work_folders_of_the_jobs_it_removes(proj: ProjectDir) -> None:
    proj.method(
        "big",
        "options = dict(n=0)\ndef synthesis(job):\n"
        "    job.save(b'x' * 500_000 + bytes([options.n]), 'blob')\n",
    )
    proj.build_script("def main(urd):\n    urd.build('big', n=1)\n    urd.build('big', n=2)\n")
    gitax("build", cwd=proj.root)
    proj.build_script("def main(urd):\n    urd.build('big', n=1)\n")
    gitax("build", cwd=proj.root)
    age(proj.root, 30)
    store = proj.project().store
    before = _du(store.root)
    dry = json.loads(gitax("gc", "--dry-run", "--json", cwd=proj.root).stdout)
    assert dry["dry_run"] and len(dry["job_ids"]) == 1 and dry["job_ids"][0].startswith("big-")
    assert _du(store.root) == before  # a dry run removes nothing
    text = gitax("gc", "--dry-run", cwd=proj.root).stdout
    assert f"would remove {dry['job_ids'][0]}" in text
    doc = json.loads(gitax("gc", "--json", cwd=proj.root).stdout)
    assert doc["workdirs"] == 1 and doc["workdir_bytes"] >= 500_000
    assert not (store.work / dry["job_ids"][0]).exists()
    freed = before - _du(store.root)
    said = doc["bytes"] + doc["workdir_bytes"]
    assert said >= 500_000 and abs(freed - said) < 4096  # it frees what it says it frees


def test_gc_removes_failed_runs(proj: ProjectDir) -> None:
    proj.method("bad", "def synthesis():\n    raise ValueError('no')\n")
    proj.build_script("def main(urd):\n    urd.build('bad')\n")
    assert gitax("build", cwd=proj.root, check=False).returncode == 1
    failed = proj.project().store.failed
    assert len(list(failed.iterdir())) == 1
    dry = json.loads(gitax("gc", "--dry-run", "--json", cwd=proj.root).stdout)
    assert dry["failed"] == 1 and len(list(failed.iterdir())) == 1
    doc = json.loads(gitax("gc", "--json", cwd=proj.root).stdout)  # the default grace
    assert doc["failed"] == 1 and doc["failed_bytes"] > 0 and list(failed.iterdir()) == []


def test_gc_workdirs_keeps_results_readable(proj: ProjectDir) -> None:
    proj.method("r", "def synthesis(job):\n    open('out.txt', 'w').write('r')\n")
    proj.method("s", "def synthesis(job):\n    return 2\n")
    proj.build_script(
        "def main(urd):\n    urd.build('r').link_result('out.txt')\n    urd.build('s')\n"
    )
    gitax("build", cwd=proj.root)
    out = gitax("gc", "--workdirs", cwd=proj.root).stdout
    assert "1 workdir (" in out and "kept" in out and "1 workdir that results/ links into" in out
    assert (proj.root / "results" / "out.txt").read_text() == "r"


def test_a_later_push_cleans_what_a_killed_push_left_on_the_remote(
    proj: ProjectDir, tmp_path: Path
) -> None:
    proj.method("a", "def synthesis():\n    return 1\n")
    proj.build_script("def main(urd):\n    urd.build('a')\n")
    gitax("build", cwd=proj.root)
    remote = tmp_path / "remote"
    gitax("remote", "add", "team", str(remote), "--default", cwd=proj.root)
    gitax("push", cwd=proj.root)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    killed = remote / "tmp" / Path(temp_name("recv")).name.replace(f".{os.getpid()}-", f".{dead}-")
    running = remote / "tmp" / temp_name("recv")  # this process is alive: its upload stays
    old, other = remote / "tmp" / "recv-elsewhere.1-ab", remote / "tmp" / "recv-elsewhere.2-cd"
    for path in (killed, running, old, other):
        path.write_bytes(b"x" * 1000)
    hours_ago = time.time() - 2 * 3600
    os.utime(old, (hours_ago, hours_ago))  # another host's, untouched for two hours
    gitax("push", cwd=proj.root)
    assert not killed.exists() and not old.exists()
    assert running.exists() and other.exists()


def _swap_entries(project: object, a: str, b: str) -> None:
    index = project.store.index  # type: ignore[attr-defined]
    pa, pb = index.path(a), index.path(b)
    da, db = pa.read_bytes(), pb.read_bytes()
    for path, data in ((pa, db), (pb, da)):
        os.chmod(path, 0o644)
        path.write_bytes(data)


def test_an_index_entry_naming_another_jobs_manifest_is_refused(built: ProjectDir) -> None:
    project = built.project()
    by_x = {Job.from_key(project, k).options.get("x"): k for k in project.store.index.keys()}
    one, other = by_x[1], by_x[99]
    _swap_entries(project, one, other)
    problems = fsck_json(built.root)["problems"]
    for key in (one, other):
        where = str(project.store.index.path(key))
        assert any(p["where"] == where and "manifest of another job" in p["what"] for p in problems)
    with pytest.raises(IndexCorrupt, match="names another job's manifest"):
        Job.from_key(built.project(), one).load()
    # The build that would reuse x=1 (and feed it to b) fails with one line instead.
    proc = gitax("build", cwd=built.root, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "names another job's manifest" in proc.stderr


def test_an_old_style_index_entry_is_checked_against_its_manifest(built: ProjectDir) -> None:
    """Entries written before they carried their key hold the manifest id alone: the
    manifest's own key is checked wherever it is read."""
    project = built.project()
    by_x = {Job.from_key(project, k).options.get("x"): k for k in project.store.index.keys()}
    wrong = project.store.index.get(by_x[99])
    path = project.store.index.path(by_x[1])
    os.chmod(path, 0o644)
    path.write_bytes(f"{wrong}\n".encode())
    problems = fsck_json(built.root)["problems"]
    assert {"where": str(path), "what": f"names the manifest of another job (key {by_x[99]})"} in (
        problems
    )
    with pytest.raises(ManifestError, match=f"index entry of key {by_x[1]} names the manifest"):
        Job.from_key(built.project(), by_x[1]).load()


@pytest.mark.parametrize("style", ["swapped", "old-style"])
def test_a_remote_index_entry_naming_another_jobs_manifest_is_refused(
    built: ProjectDir, tmp_path: Path, style: str
) -> None:
    remote = tmp_path / "remote"
    gitax("remote", "add", "team", str(remote), cwd=built.root)
    gitax("push", cwd=built.root)
    theirs = Store.open(remote)
    keys = sorted(theirs.index.keys())
    if style == "swapped":
        _swap_entries(SimpleNamespace(store=theirs), keys[0], keys[1])
    else:
        path = theirs.index.path(keys[0])
        os.chmod(path, 0o644)
        path.write_bytes(f"{theirs.index.get(keys[1])}\n".encode())
    clone = tmp_path / "clone"
    clone.mkdir()
    (clone / "gitax.toml").write_text(f'[gitax]\n\n[remotes.team]\nurl = "{remote}"\n')
    proc = gitax("pull", "team", cwd=clone, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "another job" in proc.stderr and (keys[0] in proc.stderr or keys[1] in proc.stderr)
    assert not list(Store.open(clone / ".gitax").index.keys())


def test_fsck_names_stray_files_and_folders_without_a_traceback(built: ProjectDir) -> None:
    store = built.project().store
    (store.objects.objects / "zz").write_bytes(b"stray file")
    key = next(iter(store.index.keys()))
    (store.index.root / key[:2] / ("f" * 62)).mkdir()
    (store.index.root / "notes.txt").write_bytes(b"stray")
    proc = gitax("fsck", "--json", cwd=built.root, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    wheres = {p["where"] for p in json.loads(proc.stdout)["problems"]}
    assert wheres == {
        str(store.objects.objects / "zz"),
        str(store.index.root / key[:2] / ("f" * 62)),
        str(store.index.root / "notes.txt"),
    }


def test_dry_runs_make_no_store_and_nan_is_no_grace(proj: ProjectDir) -> None:
    proj.method("m", "def synthesis():\n    return 1\n")
    proj.build_script("def main(urd):\n    urd.build('m')\n")
    shutil.rmtree(proj.root / ".gitax")  # a fresh clone: no store yet
    assert "would remove 0 jobs" in gitax("gc", "--dry-run", cwd=proj.root).stdout
    assert "would build" in gitax("build", "--dry-run", cwd=proj.root).stdout
    assert not (proj.root / ".gitax").exists()
    proc = gitax("gc", "--grace", "nan", cwd=proj.root, check=False)
    assert proc.returncode == 2 and "--grace" in proc.stderr and "nan" in proc.stderr
    assert not (proj.root / ".gitax").exists()


def test_gc_keeps_the_results_of_every_project_sharing_the_store(tmp_path: Path) -> None:
    store = tmp_path / "team-store"
    for name in ("p1", "p2"):
        root = tmp_path / name
        root.mkdir()
        write(root / "gitax.toml", f'[gitax]\nstore = "{store}"\n')
        write(root / "methods" / "a_m.py", "options = dict(who='')\ndef synthesis(job):\n"
              "    job.save(options.who, 'who')\n")  # fmt: skip
        write(root / "build.py", f"def main(urd):\n    urd.build('m', who='{name}')"
              ".link_result('who')\n")  # fmt: skip
        gitax("build", cwd=root)
    gitax("gc", "--grace", "0", cwd=tmp_path / "p2")
    assert pickle.loads((tmp_path / "p1" / "results" / "who").read_bytes()) == "p1"
    assert pickle.loads((tmp_path / "p2" / "results" / "who").read_bytes()) == "p2"
    assert len(list(Store.open(store).index.keys())) == 2
    shutil.rmtree(tmp_path / "p1")  # a project that is gone keeps nothing
    gitax("gc", "--grace", "0", cwd=tmp_path / "p2")
    assert len(list(Store.open(store).index.keys())) == 1


def test_gc_of_a_store_never_runs_beside_a_push_into_it(built: ProjectDir, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    write(other / "gitax.toml", "[gitax]\n")
    Store.open(other / ".gitax")
    gitax("remote", "add", "there", str(other / ".gitax"), cwd=built.root)
    pushing = PathTransport(str(other / ".gitax"))  # a push into it, under way
    try:
        proc = gitax("gc", "--grace", "0", cwd=other, check=False)
        assert proc.returncode == 1 and "a build or pull is using" in proc.stderr
    finally:
        pushing.close()
    gitax("push", "there", cwd=built.root)
    assert "removed 0 jobs" in gitax("gc", cwd=other).stdout  # fresh entries stay
