"""One conformance suite for every transport (memory, path; ssh and S3 join when their
servers are available)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from gitax.remote.memory import MemoryTransport
from gitax.remote.pathfs import PathTransport
from gitax.remote.transport import RemoteError, Transport
from gitax.store.odb import DiskObjectDB

TRANSPORTS = ["memory", "path", "ssh", "s3"]


def make_transport(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Transport:
    if kind == "memory":
        return MemoryTransport()
    if kind == "path":
        return PathTransport(str(tmp_path / "remote"), create=True)
    return request.getfixturevalue(f"{kind}_transport")


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest, tmp_path: Path) -> Transport:
    t = make_transport(request.param, tmp_path, request)
    yield t
    t.close()


@pytest.fixture
def local(tmp_path: Path) -> DiskObjectDB:
    return DiskObjectDB(tmp_path / "local")


def test_objects_round_trip_byte_for_byte(
    transport: Transport, local: DiskObjectDB, tmp_path: Path
) -> None:
    oid = local.put_bytes("blob", b"payload " * 1000)
    assert oid not in transport.list_objects()
    transport.put_object(oid, local.path(oid))
    transport.put_object(oid, local.path(oid))  # again: a no-op
    assert transport.list_objects() == {oid}
    dest = tmp_path / "back"
    transport.get_object(oid, dest)
    assert dest.read_bytes() == local.path(oid).read_bytes()


def test_missing_object_is_an_error(transport: Transport, tmp_path: Path) -> None:
    with pytest.raises(RemoteError):
        transport.get_object("ab" * 32, tmp_path / "x")


def test_index_entries(transport: Transport) -> None:
    key, manifest = "cd" * 32, "ef" * 32
    assert transport.get_index(key) is None
    transport.put_index(key, manifest)
    assert transport.get_index(key) == manifest
    assert transport.list_index() == {key}


def test_urd_logs_update_under_exclusion(transport: Transport) -> None:
    assert transport.read_urd("nightly/eu") == b""
    assert transport.list_urd() == []

    def add(n: int) -> None:
        transport.update_urd("nightly/eu", lambda old: old + b"line %d\n" % n)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = transport.read_urd("nightly/eu").splitlines()
    assert sorted(lines) == sorted(b"line %d" % n for n in range(16))  # none lost
    assert transport.list_urd() == ["nightly/eu"]
