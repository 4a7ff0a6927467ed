"""The promise of remotes, over each transport against a real server on loopback: a
second clone's build of the first one's pipeline executes nothing after `gitax pull`."""

from __future__ import annotations

import json
import multiprocessing
import shutil
from pathlib import Path

import pytest
from conftest import gitax
from test_remote import clone, make_pipeline, objects_of

from gitax.config import RemoteConfig
from gitax.jobs.project import Project
from gitax.jobs.urdlog import UrdLists
from gitax.remote.sync import Selection, push_project
from gitax.remote.transport import open_transport


@pytest.fixture(params=["path", "ssh", "s3"])
def remote(request: pytest.FixtureRequest, tmp_path: Path) -> RemoteConfig:
    """(the remote's config) for each transport."""
    if request.param == "path":
        return RemoteConfig("team", str(tmp_path / "shared"), True)
    if request.param == "ssh":
        return RemoteConfig("team", request.getfixturevalue("ssh_url"), True)
    url, endpoint = request.getfixturevalue("s3_url")
    return RemoteConfig("team", url, True, endpoint)


def setup(
    root: Path, remote: RemoteConfig, day: str = "2023-01-05", caption: str = "first"
) -> Path:
    make_pipeline(root, "placeholder", caption)
    endpoint = f'endpoint_url = "{remote.endpoint_url}"\n' if remote.endpoint_url else ""
    (root / "gitax.toml").write_text(
        f'[gitax]\n\n[remotes.team]\nurl = "{remote.url}"\ndefault = true\n{endpoint}'
    )
    script = root / "build.py"
    script.write_text(script.read_text().replace("2023-01-05", day))
    gitax("build", cwd=root)
    return root


def test_a_collaborator_builds_nothing_after_pull(remote: RemoteConfig, tmp_path: Path) -> None:
    alice = setup(tmp_path / "alice", remote)
    first = gitax("push", cwd=alice).stdout
    assert "pushed " in first and " 2 jobs" in first
    again = gitax("push", cwd=alice).stdout
    assert again.startswith("pushed 0 objects (0.0 MiB), 0 jobs, 0 urd entries")
    bob = clone(alice, tmp_path / "bob")
    gitax("pull", cwd=bob)
    theirs = objects_of(alice)
    assert all(theirs[name] == data for name, data in objects_of(bob).items())  # bit for bit
    doc = json.loads(gitax("build", "--json", cwd=bob).stdout.splitlines()[-1])
    assert doc["built"] == [] and len(doc["reused"]) == 2
    assert UrdLists(bob / ".gitax" / "urd").latest("main").caption == "first"


def test_a_corrupted_remote_object_is_refused(remote: RemoteConfig, tmp_path: Path) -> None:
    alice = setup(tmp_path / "alice", remote)
    gitax("push", cwd=alice)
    transport = open_transport(remote, create=True)
    victim = sorted(transport.list_objects())[0]
    bad = tmp_path / "bad"
    transport.get_object(victim, bad)
    data = bytearray(bad.read_bytes())
    data[-1] ^= 0xFF
    bad.write_bytes(bytes(data))
    if remote.url.startswith("s3://"):
        transport.put_object(victim, bad)  # S3 overwrites
    else:
        target = remote_object_path(remote, victim)
        target.chmod(0o644)
        shutil.copyfile(bad, target)
    transport.close()
    bob = clone(alice, tmp_path / "bob")
    proc = gitax("pull", cwd=bob, check=False)
    assert proc.returncode == 1 and f"object {victim} is corrupt" in proc.stderr
    assert victim not in set(Project.find(bob).store.objects.ids())


def remote_object_path(remote: RemoteConfig, oid: str) -> Path:
    """Where a path or (loopback) ssh remote keeps an object on this machine."""
    from urllib.parse import urlsplit

    root = urlsplit(remote.url).path if remote.url.startswith("ssh://") else remote.url
    return Path(root) / "objects" / oid[:2] / oid[2:]


def _push(root: str, barrier: object) -> None:
    barrier.wait()  # type: ignore[attr-defined]
    push_project(Project.find(root), None, Selection())


def test_two_concurrent_pushes_to_one_list_lose_nothing(
    remote: RemoteConfig, tmp_path: Path
) -> None:
    roots = [
        str(setup(tmp_path / f"u{n}", remote, day, f"by user {n}"))
        for n, day in enumerate(("2023-01-05", "2023-01-06"))
    ]
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_push, args=(r, barrier)) for r in roots]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    transport = open_transport(remote, create=True)
    log = transport.read_urd("main")
    transport.close()
    assert log.count(b"\n") == 2 and b"by user 0" in log and b"by user 1" in log


class Dropping:
    """Any transport whose connection drops after `after` objects."""

    def __init__(self, inner: object, after: int) -> None:
        self.inner, self.left = inner, after

    def put_object(self, oid: str, src: Path) -> None:
        if self.left <= 0:
            raise ConnectionError("connection lost")
        self.left -= 1
        self.inner.put_object(oid, src)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_an_interrupted_push_is_completed_by_running_it_again(
    remote: RemoteConfig, tmp_path: Path
) -> None:
    from gitax.remote.transfer import WORKERS, push

    alice = setup(tmp_path / "alice", remote)
    project = Project.find(alice)
    keys = set(project.store.index.keys())
    transport = open_transport(remote, create=True)
    with pytest.raises(ConnectionError):
        push(project.store, Dropping(transport, after=2), keys, ["main"])  # type: ignore[arg-type]
    assert 0 < len(transport.list_objects()) <= 2 + WORKERS
    assert transport.list_index() == set()  # nothing published half
    assert transport.read_urd("main") == b""
    transport.close()
    gitax("push", cwd=alice)
    bob = clone(alice, tmp_path / "bob")
    gitax("pull", cwd=bob)
    doc = json.loads(gitax("build", "--json", cwd=bob).stdout.splitlines()[-1])
    assert doc["built"] == [] and len(doc["reused"]) == 2


def test_s3_requests_are_retried_by_botocore_standard_mode(
    s3_url: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.awsrequest import AWSResponse

    from gitax.remote.s3 import S3Transport

    transport = S3Transport(*s3_url)
    assert transport.client.meta.config.retries["mode"] == "standard"
    failures = []

    def slow_down(request, **_):  # type: ignore[no-untyped-def]
        if len(failures) < 2:  # the server is busy twice, then answers
            failures.append(request.url)
            body = b"<Error><Code>SlowDown</Code><Message>busy</Message></Error>"
            return AWSResponse(request.url, 503, {}, type("Raw", (), {"stream": lambda *a: [body]}))
        return None

    transport.client.meta.events.register("before-send.s3.PutObject", slow_down)
    transport.put_index("a" * 64, "b" * 64)
    assert len(failures) == 2
    assert transport.get_index("a" * 64) == "b" * 64
    # The user's own AWS retry settings still decide, as for any AWS tool.
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    assert S3Transport(*s3_url).client.meta.config.retries["mode"] == "adaptive"
