"""One upstream walk and one transfer: gc, push, pull, Job.upstream and lineage share the
walk of jobs (gitax/jobs/graph.py); push and pull are one transfer between two ends."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import ProjectDir, gitax
from test_remote import make_pipeline

from gitax.jobs.fsck import bad_lines, references
from gitax.jobs.graph import upstream_first, walk
from gitax.jobs.project import Project
from gitax.remote.ends import RemoteEnd, StoreEnd
from gitax.remote.memory import MemoryTransport
from gitax.remote.pathfs import PathTransport
from gitax.remote.transfer import transfer
from gitax.store.fsck import fsck
from gitax.store.store import Store


def test_walk_asks_about_each_job_once_and_leaves_out_what_it_is_told() -> None:
    upstream = {"plot": {"train", "clean"}, "train": {"clean"}, "clean": {"raw"}}
    asked: list[str] = []

    def upstream_of(job: str) -> set[str] | None:
        asked.append(job)
        return upstream.get(job)  # "raw": not stored, so left out

    graph = walk(["plot", "train"], upstream_of)
    assert sorted(asked) == ["clean", "plot", "raw", "train"]
    assert graph == {"plot": {"train", "clean"}, "train": {"clean"}, "clean": {"raw"}}
    assert upstream_first(graph) == ["clean", "train", "plot"]


def test_upstream_first_cuts_a_cycle_and_is_stable() -> None:
    # A subjob given its running parent as an option: each is upstream of the other.
    graph = {"parent": {"sub", "data"}, "sub": {"parent"}, "data": set()}
    order = upstream_first(graph)
    assert sorted(order) == ["data", "parent", "sub"] and order[0] == "data"
    assert upstream_first(dict(reversed(graph.items()))) == order


def test_lineage_follows_jobs_given_as_options(proj: ProjectDir) -> None:
    proj.method("base", "def synthesis():\n    return 1\n")
    proj.method("uses", "options = {'other': None}\ndef synthesis():\n    return 2\n")
    proj.build_script("def main(urd):\n    urd.build('uses', other=urd.build('base'))\n")
    gitax("build", cwd=proj.root)
    base, uses = proj.job("base"), proj.job("uses")
    graph = json.loads(gitax("lineage", uses.id, "--json", cwd=proj.root).stdout)
    assert set(graph["nodes"]) == {uses.id, base.id}
    assert graph["nodes"][uses.id]["jobs"] == [{"param": "(option other)", "id": base.id}]
    assert [j.id for j in uses.upstream()] == [uses.id, base.id]


def _jobs(store: Store) -> dict[str, str | None]:
    return {k: store.index.get(k) for k in store.index.keys()}


def test_one_transfer_between_any_two_ends(tmp_path: Path) -> None:
    alice = tmp_path / "alice"
    make_pipeline(alice, str(tmp_path / "unused"))
    gitax("build", cwd=alice)
    source = Project.find(alice).store
    copy = Store.open(tmp_path / "copy", create=True)
    memory = MemoryTransport()
    shared = PathTransport(str(tmp_path / "shared"), create=True)
    last = Store.open(tmp_path / "last", create=True)
    # store -> store, store -> memory remote, remote -> remote, remote -> store
    report = transfer(StoreEnd(source), StoreEnd(copy), set(), None, True)
    assert report.jobs == 2 and report.lists == {"main": 1} and report.builds == {"build": 1}
    transfer(StoreEnd(copy), RemoteEnd(memory, "memory", copy), set(), None, True)
    transfer(
        RemoteEnd(memory, "memory", last), RemoteEnd(shared, "shared", last), set(), None, True
    )
    transfer(RemoteEnd(shared, "shared", last), StoreEnd(last), set(), None, True)
    for store in (copy, last):
        assert _jobs(store) == _jobs(source)
        assert store.path("urd", "main").read_bytes() == source.path("urd", "main").read_bytes()
        assert fsck(store, references, bad_lines).problems == []
    assert not list(last.tmp.iterdir())  # nothing staged is left behind
    again = transfer(StoreEnd(source), StoreEnd(last), set(), None, True)
    assert (again.objects, again.jobs) == (0, 0)
