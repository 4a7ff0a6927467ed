"""push and pull between real stores through the path transport (ssh and S3 run the same
scenario in test_remote_servers.py)."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ProjectDir, gitax, write

from gitax.jobs.fsck import bad_lines, references
from gitax.jobs.project import Project
from gitax.jobs.urdlog import UrdLists
from gitax.remote.pathfs import PathTransport
from gitax.remote.sync import Selection, push_project
from gitax.remote.transfer import pull, push
from gitax.store.fsck import fsck
from gitax.store.store import Store


def make_pipeline(root: Path, remote_url: str, caption: str = "first") -> None:
    write(root / "gitax.toml", f'[gitax]\n\n[remotes.team]\nurl = "{remote_url}"\ndefault = true\n')
    write(root / "data" / "in.txt", "1\n2\n3\n")
    write(
        root / "methods" / "a_load.py",
        "def synthesis(job):\n"
        "    nums = [int(x) for x in job.open_input('in.txt', 'rt')]\n"
        "    job.save(nums, 'nums')\n    print('loaded', nums)\n    return len(nums)\n",
    )
    write(
        root / "methods" / "a_total.py",
        "jobs = ('src',)\ndef analysis(sliceno, slices):\n    return sliceno\n"
        "def synthesis(job, analysis_res):\n"
        "    job.json_save({'total': sum(jobs.src.load('nums'))}, 'total.json')\n"
        "    return analysis_res.merge_auto()\n",
    )
    write(
        root / "build.py",
        f"def main(urd):\n    urd.begin('main', '2023-01-05', caption={caption!r})\n"
        "    t = urd.build('total', src=urd.build('load'))\n"
        "    t.link_result('total.json')\n    urd.finish('main')\n",
    )


@pytest.fixture
def alice(tmp_path: Path) -> Path:
    root = tmp_path / "alice"
    make_pipeline(root, str(tmp_path / "shared"))
    gitax("build", cwd=root)
    return root


def clone(src: Path, dest: Path) -> Path:
    """A collaborator's copy of the project: code and gitax.lock, no store, no results."""
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".gitax", "results"))
    return dest


def objects_of(root: Path) -> dict[str, bytes]:
    base = root / ".gitax" / "objects"
    return {str(p.relative_to(base)): p.read_bytes() for p in base.rglob("*") if p.is_file()}


def test_push_then_pull_reproduces_every_job_and_the_build_runs_nothing(alice: Path) -> None:
    out = gitax("push", cwd=alice).stdout
    made, pushed = out.splitlines()[:2]
    assert made.startswith("made a new gitax store at ") and made.endswith(" for remote team")
    assert pushed.startswith("pushed ") and "to team" in pushed
    assert not gitax("push", cwd=alice).stdout.startswith("made")  # only the first time
    bob = clone(alice, alice.parent / "bob")
    assert "pulled " in gitax("pull", cwd=bob).stdout
    theirs, mine = objects_of(alice), objects_of(bob)
    assert mine and all(theirs[name] == data for name, data in mine.items())  # bit for bit
    a, b = Project.find(alice), Project.find(bob)
    assert sorted(a.store.index.keys()) == sorted(b.store.index.keys())
    for key in a.store.index.keys():
        assert a.store.index.get(key) == b.store.index.get(key)
    doc = json.loads(gitax("build", "--json", cwd=bob).stdout.splitlines()[-1])
    assert doc["built"] == [] and len(doc["reused"]) == 2  # only the first waits
    assert (bob / "results" / "total.json").read_text().strip().startswith("{")
    assert UrdLists(b.store.root / "urd").latest("main").caption == "first"
    assert gitax("log", "main", cwd=bob).stdout == gitax("log", "main", cwd=alice).stdout


def test_a_second_push_sends_nothing(alice: Path) -> None:
    project = Project.find(alice)
    first = push_project(project, None, Selection())
    assert first.objects > 0 and first.jobs == 2 and first.lists == {"main": 1}
    again = push_project(project, None, Selection())
    assert (again.objects, again.jobs, again.lists) == (0, 0, {"main": 0})


def test_a_corrupted_object_on_the_remote_is_refused_on_pull(alice: Path) -> None:
    push_project(Project.find(alice), None, Selection())
    remote = PathTransport(str(alice.parent / "shared"), create=True)
    victim = sorted(remote.list_objects())[0]
    path = remote.odb.path(victim)
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    bob = clone(alice, alice.parent / "bob")
    proc = gitax("pull", cwd=bob, check=False)
    assert proc.returncode == 1 and f"object {victim} is corrupt" in proc.stderr
    b = Project.find(bob)
    assert victim not in set(b.store.objects.ids())
    for key in b.store.index.keys():  # nothing recorded that refers to it
        assert victim not in objects_of_job(b, key)


def objects_of_job(project: Project, key: str) -> set[str]:
    from gitax.jobs.manifest import job_objects

    return job_objects(project.store.objects, key, project.store.index.get(key) or "").ids()


def _push_in_process(root: str, barrier: object) -> None:
    barrier.wait()  # type: ignore[attr-defined]
    push_project(Project.find(root), None, Selection())


def test_two_concurrent_pushes_to_one_list_lose_nothing(tmp_path: Path) -> None:
    shared = str(tmp_path / "shared")
    roots = []
    for n, day in enumerate(("2023-01-05", "2023-01-06")):
        root = tmp_path / f"user{n}"
        make_pipeline(root, shared, caption=f"by user {n}")
        script = root / "build.py"
        script.write_text(script.read_text().replace("2023-01-05", day))
        gitax("build", cwd=root)
        roots.append(str(root))
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_push_in_process, args=(r, barrier)) for r in roots]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    log = PathTransport(shared).read_urd("main")
    assert log.count(b"\n") == 2 and b"by user 0" in log and b"by user 1" in log
    gitax("pull", cwd=Path(roots[0]))
    sessions = UrdLists(Path(roots[0]) / ".gitax" / "urd").sessions("main")
    assert [s.caption for s in sessions] == ["by user 0", "by user 1"]


def test_a_conflicting_session_is_reported_and_kept(tmp_path: Path) -> None:
    shared = str(tmp_path / "shared")
    a, b = tmp_path / "a", tmp_path / "b"
    make_pipeline(a, shared)
    make_pipeline(b, shared)
    (b / "data" / "in.txt").write_text("5\n")  # other data, same timestamp
    path = b / "methods" / "a_load.py"
    path.write_text(path.read_text() + "# b's version\n")
    gitax("build", cwd=a)
    gitax("build", cwd=b)
    gitax("push", cwd=a)
    proc = gitax("push", cwd=b)
    assert "conflict: main@2023-01-05 differs on the two sides" in proc.stderr
    assert PathTransport(shared).read_urd("main").count(b"\n") == 2  # both kept


def test_conflicting_sessions_converge_whatever_the_order(tmp_path: Path) -> None:
    shared = str(tmp_path / "shared")
    a, b = tmp_path / "a", tmp_path / "b"
    make_pipeline(a, shared)
    make_pipeline(b, shared)
    path = b / "methods" / "a_load.py"
    path.write_text(path.read_text() + "# b's version\n")
    gitax("build", cwd=a)
    gitax("build", cwd=b)
    gitax("push", cwd=b)
    gitax("push", cwd=a)
    gitax("pull", cwd=b)
    gitax("pull", cwd=a)

    def shown(root: Path) -> list[str]:
        return [j.key for j in UrdLists(root / ".gitax" / "urd").latest("main").joblist]

    assert shown(a) == shown(b)
    c = clone(a, tmp_path / "c")
    proc = gitax("pull", cwd=c)
    assert "conflict" not in proc.stderr  # no copy of its own: nothing to conflict with
    assert shown(c) == shown(a)


class Interrupted(Exception):
    pass


class FailingTransport(PathTransport):
    """A path remote whose connection drops after some objects."""

    def __init__(self, path: str, after: int) -> None:
        super().__init__(path, create=True)
        self.left = after

    def put_object(self, oid: str, src: Path) -> None:
        if self.left == 0:
            raise Interrupted("connection lost")
        self.left -= 1
        super().put_object(oid, src)


def test_an_interrupted_push_leaves_the_remote_valid_and_a_rerun_completes(alice: Path) -> None:
    project = Project.find(alice)
    shared = str(alice.parent / "shared")
    keys = set(project.store.index.keys())
    with pytest.raises(Interrupted):
        push(project.store, FailingTransport(shared, after=3), keys, ["main"])
    remote = PathTransport(shared)
    assert 0 < len(remote.list_objects()) <= 3
    assert remote.list_index() == set()  # no job published without all its objects
    assert remote.read_urd("main") == b""
    report = push_project(project, None, Selection())
    assert report.jobs == 2
    bob = clone(alice, alice.parent / "bob")
    gitax("pull", cwd=bob)
    doc = json.loads(gitax("build", "--json", cwd=bob).stdout.splitlines()[-1])
    assert doc["built"] == []


class FailingSource(PathTransport):
    """A path remote whose connection drops after sending some objects."""

    def __init__(self, path: str, after: int) -> None:
        super().__init__(path)
        self.left = after

    def get_object(self, oid: str, dest: Path) -> None:
        if self.left == 0:
            raise Interrupted("connection lost")
        self.left -= 1
        super().get_object(oid, dest)


def _damage(store: Store) -> list[str]:
    return [f"{p.where}: {p.what}" for p in fsck(store, references, bad_lines).problems]


def test_an_interrupted_transfer_leaves_no_damage_on_the_receiving_side(alice: Path) -> None:
    """Objects land upstream first (blobs, trees, then manifests and build records), so
    wherever a push or pull stops, fsck of the receiver is clean before the re-run."""
    project = Project.find(alice)
    shared = alice.parent / "shared"
    total = len(list(project.store.objects.ids()))
    for after in range(total):
        shutil.rmtree(shared, ignore_errors=True)
        with pytest.raises(Interrupted):
            push(project.store, FailingTransport(str(shared), after), set(), ["main"], builds=True)
        assert _damage(Store.open(shared)) == [], after
    push_project(project, None, Selection())
    for after in range(total):
        bob = Store.open(alice.parent / f"bob{after}")
        with pytest.raises(Interrupted):
            pull(bob, FailingSource(str(shared), after), set(), None, builds=True)
        assert _damage(bob) == [], after


def test_a_push_killed_by_sigkill_then_rerun_completes(alice: Path) -> None:
    import sys
    import time

    for n in range(40):  # enough jobs that the kill lands mid-way most of the time
        write(alice / "data" / f"in{n}.txt", f"{n}\n")
    load = alice / "methods" / "a_load.py"
    load.write_text(
        load.read_text()
        .replace("'in.txt'", "options.f")
        .replace("def synthesis", "options = dict(f='in.txt')\ndef synthesis")
    )
    (alice / "build.py").write_text(
        "def main(urd):\n    urd.begin('many', '2023-02-01')\n    for n in range(40):\n"
        "        urd.build('load', f='in%d.txt' % n)\n    urd.finish('many')\n"
    )
    gitax("build", cwd=alice)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    proc = subprocess.Popen([sys.executable, "-m", "gitax", "push"], cwd=alice, env=env)
    remote = PathTransport(str(alice.parent / "shared"), create=True)
    deadline = time.monotonic() + 30
    while not remote.list_objects() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.005)
    proc.kill()
    proc.wait()
    objects = remote.list_objects()
    for key in remote.list_index():  # whatever was published is complete
        assert remote.get_index(key) in objects
    gitax("push", cwd=alice)
    assert len(remote.list_index()) == 42  # the 2 jobs of alice's pipeline and the 40 loads
    assert list((alice.parent / "shared" / "tmp").iterdir()) == []  # the killed push's temps
    bob = clone(alice, alice.parent / "bob")
    gitax("pull", cwd=bob)
    doc = json.loads(gitax("build", "--json", cwd=bob).stdout.splitlines()[-1])
    assert doc["built"] == [] and len(doc["reused"]) == 40


def test_fetch_auto_fetches_instead_of_running(alice: Path) -> None:
    gitax("push", cwd=alice)
    bob = clone(alice, alice.parent / "bob")
    cfg = bob / "gitax.toml"
    cfg.write_text(cfg.read_text().replace("[gitax]\n", '[gitax]\nfetch = "auto"\n'))
    doc = json.loads(gitax("build", "--json", cwd=bob).stdout.splitlines()[-1])
    assert doc["built"] == [] and len(doc["reused"]) == 2


@pytest.mark.parametrize("trouble", ["no store there", "a corrupt object"])
def test_fetch_auto_runs_the_job_here_when_the_remote_cannot_give_it(
    alice: Path, trouble: str
) -> None:
    bob = clone(alice, alice.parent / "bob")
    cfg = bob / "gitax.toml"
    cfg.write_text(cfg.read_text().replace("[gitax]\n", '[gitax]\nfetch = "auto"\n'))
    if trouble == "a corrupt object":
        gitax("push", cwd=alice)
        remote = PathTransport(str(alice.parent / "shared"))
        for oid in remote.list_objects():
            path = remote.odb.path(oid)
            os.chmod(path, 0o644)
            path.write_bytes(path.read_bytes()[:-1] + b"x")
    proc = gitax("build", "--json", cwd=bob, check=False)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout.splitlines()[-1])
    assert len(doc["built"]) == 2 and doc["reused"] == []
    said = proc.stdout + proc.stderr
    assert said.count("not fetched") == 1 and "running it here" in said
    assert ("no gitax store there" if trouble == "no store there" else "corrupt") in said
    assert "gitax fsck" not in said  # the local store is fine: the remote's copy is not
    assert gitax("fsck", cwd=bob).returncode == 0


def test_a_path_that_is_not_a_store_is_never_made_one_by_pull(tmp_path: Path) -> None:
    root = tmp_path / "p"
    make_pipeline(root, str(tmp_path / "typo"))
    proc = gitax("pull", cwd=root, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "no gitax store there" in proc.stderr and "--init" in proc.stderr
    assert not (tmp_path / "typo").exists()
    out = gitax("remote", "add", "new", str(tmp_path / "new"), "--init", cwd=root).stdout
    assert out.splitlines()[-1] == f"made a new gitax store at {tmp_path / 'new'}"
    assert (tmp_path / "new" / "format").is_file()
    assert "pulled 0 objects" in gitax("pull", "new", cwd=root).stdout


def test_remote_add_list_remove(tmp_path: Path, proj: ProjectDir) -> None:
    out = gitax("remote", "add", "team", str(tmp_path / "r"), "--default", cwd=proj.root).stdout
    assert out.strip() == f"added remote team {tmp_path / 'r'} (default)"
    gitax(
        "remote",
        "add",
        "cloud",
        "s3://bucket/prefix",
        "--endpoint-url",
        "http://127.0.0.1:1",
        cwd=proj.root,
    )
    listing = gitax("remote", "list", cwd=proj.root).stdout
    assert "team" in listing and "(default)" in listing and "endpoint http://127.0.0.1:1" in listing
    bad = gitax("remote", "add", "x", "ftp://host/p", cwd=proj.root, check=False)
    assert bad.returncode == 1 and "is not a path, file://, ssh:// or s3:// URL" in bad.stderr
    dup = gitax("remote", "add", "team", "/elsewhere", cwd=proj.root, check=False)
    assert dup.returncode == 1 and "remote 'team' exists" in dup.stderr
    gitax("remote", "remove", "cloud", cwd=proj.root)
    assert json.loads(gitax("remote", "list", "--json", cwd=proj.root).stdout).keys() == {"team"}


def test_upstream_first_orders_a_dag() -> None:
    from gitax.jobs.graph import upstream_first

    graph = {"plot": {"train", "clean"}, "train": {"clean"}, "clean": {"parse"}, "parse": set()}
    order = upstream_first(graph)
    assert sorted(order) == sorted(graph)
    for job, ups in graph.items():
        assert all(order.index(u) < order.index(job) for u in ups)
    chain = {f"j{n}": {f"j{n - 1}"} if n else set() for n in range(5000)}  # no recursion limit
    assert upstream_first(chain) == [f"j{n}" for n in range(5000)]


def test_pickles_from_an_untrusted_remote_are_refused(alice: Path) -> None:
    from gitax.jobs.job import Job, UntrustedPickle

    gitax("push", cwd=alice)
    bob = clone(alice, alice.parent / "bob")
    gitax("pull", cwd=bob)
    project = Project.find(bob)
    load = next(k for k in project.store.index.keys() if Job.from_key(project, k).method == "load")
    job = Job.from_key(project, load)
    with pytest.raises(UntrustedPickle, match=r"set `trusted = true` in \[remotes.team\]"):
        job.load()
    with pytest.raises(UntrustedPickle):
        job.load("nums")
    # a new job of bob's that reads it is refused too, naming the setting
    (bob / "build.py").write_text(
        "def main(urd):\n    urd.build('total', src=urd.build('load'), name='again')\n"
        "    urd.build('load').load()\n"
    )
    proc = gitax("build", cwd=bob, check=False)
    assert proc.returncode == 1 and "trusted = true" in proc.stderr
    cfg = bob / "gitax.toml"
    cfg.write_text(cfg.read_text() + "trusted = true\n")
    assert Job.from_key(Project.find(bob), load).load() == 3
    assert Job.from_key(Project.find(alice), load).load() == 3  # built here: always trusted


def test_a_hostile_tree_from_a_remote_is_refused_on_pull(tmp_path: Path) -> None:
    """A remote whose job names '../escaped.txt' must not get a file written outside."""
    from gitax.jobs.manifest import Manifest, format_manifest
    from gitax.store.hashing import canonical_json

    shared = PathTransport(str(tmp_path / "shared"), create=True)
    blob = shared.odb.put_bytes("blob", b"owned")
    tree = shared.odb.put_bytes(
        "tree",
        canonical_json(
            {"format": 1, "files": {"../escaped.txt": {"id": blob, "size": 5, "exec": False}}}
        ),
    )
    key = "ab" * 32
    manifest = Manifest(key, "evil", f"evil-{key[:12]}", {}, {}, {}, tree, None)
    shared.index.put(key, shared.odb.put_bytes("manifest", format_manifest(manifest)))
    bob = tmp_path / "bob"
    write(bob / "gitax.toml", f'[remotes.r]\nurl = "{tmp_path / "shared"}"\ndefault = true\n')
    proc = gitax("pull", "--job", "evil-abab", cwd=bob, check=False)
    assert proc.returncode == 1 and "unsafe path in a job: '../escaped.txt'" in proc.stderr
    assert list(Project.find(bob).store.index.keys()) == []
    assert not (bob / ".gitax" / "escaped.txt").exists() and not (bob / "escaped.txt").exists()
