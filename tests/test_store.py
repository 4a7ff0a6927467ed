"""The object database: one suite for the memory and the disk store, plus disk specifics."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest

from gitax.store.hashing import object_id
from gitax.store.objects import (
    CHUNK,
    Header,
    ObjectCorrupt,
    ObjectMissing,
    WrongType,
    format_header,
    parse_header,
)
from gitax.store.odb import READ_AHEAD_FROM, DiskObjectDB, MemoryObjectDB, ObjectDB
from gitax.store.store import Store, StoreError


@pytest.fixture(params=["memory", "disk"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectDB:
    return MemoryObjectDB() if request.param == "memory" else DiskObjectDB(tmp_path / "store")


def test_put_get_roundtrip_and_id_is_type_prefixed_sha256(db: ObjectDB) -> None:
    oid = db.put_bytes("blob", b"hello")
    assert oid == object_id("blob", b"hello")
    assert db.get_bytes(oid) == b"hello"
    assert db.has(oid)
    assert db.put_bytes("tree", b"hello") != oid  # the type is part of the id


def test_identical_content_is_stored_once(db: ObjectDB) -> None:
    a = db.put_bytes("blob", b"same")
    b = db.put_stream("blob", [b"sa", b"me"])
    assert a == b
    assert list(db.ids()) == [a]


def test_empty_object(db: ObjectDB) -> None:
    oid = db.put_bytes("blob", b"")
    assert db.get_bytes(oid) == b""


def test_large_streamed_object_roundtrips(db: ObjectDB) -> None:
    chunks = [os.urandom(CHUNK // 2), b"\0" * (3 * CHUNK), b"tail"]
    oid = db.put_stream("blob", iter(chunks))
    assert oid == object_id("blob", b"".join(chunks))
    assert b"".join(db.read_chunks(oid)) == b"".join(chunks)
    assert db.put_bytes("blob", b"".join(chunks)) == oid  # held in memory: the same object


def test_missing_object_is_an_error_naming_it(db: ObjectDB) -> None:
    with pytest.raises(ObjectMissing, match="ab" * 32):
        db.get_bytes("ab" * 32)


def test_wrong_type_is_refused(db: ObjectDB) -> None:
    oid = db.put_bytes("blob", b"x")
    with pytest.raises(WrongType):
        db.get_bytes(oid, "manifest")


def test_copy_to_file_verifies_and_writes(db: ObjectDB, tmp_path: Path) -> None:
    oid = db.put_bytes("blob", b"content")
    dest = tmp_path / "out.txt"
    db.copy_to_file(oid, dest)
    assert dest.read_bytes() == b"content"


# ---- disk specifics ----------------------------------------------------------------------


def test_disk_layout_is_sharded_and_read_only(tmp_path: Path) -> None:
    db = DiskObjectDB(tmp_path)
    oid = db.put_bytes("blob", b"hello")
    path = tmp_path / "objects" / oid[:2] / oid[2:]
    assert path.is_file()
    assert not os.stat(path).st_mode & 0o222
    assert os.listdir(tmp_path / "tmp") == []  # no temp file left behind


def test_putting_a_stored_object_again_writes_nothing_but_refreshes_its_mtime(
    tmp_path: Path,
) -> None:
    db = DiskObjectDB(tmp_path)
    for put in (lambda: db.put_bytes("blob", b"x" * 100), lambda: db.put_stream("blob", [b"y"])):
        oid = put()
        path = db.path(oid)
        os.utime(path, (1_000_000, 1_000_000))
        inode = path.stat().st_ino
        assert put() == oid
        assert path.stat().st_ino == inode  # not rewritten
        assert path.stat().st_mtime > 1_000_000  # a concurrent gc sees it as fresh
        assert os.listdir(tmp_path / "tmp") == []  # no temp file left behind


@pytest.mark.parametrize("size", [10_000, 6 * CHUNK + 7])  # small; large: read ahead
def test_corrupt_object_is_an_error_naming_it_never_returned(tmp_path: Path, size: int) -> None:
    db = DiskObjectDB(tmp_path)
    data = os.urandom(size)  # stored raw: flip a content byte
    oid = db.put_bytes("blob", data)
    path = db.path(oid)
    assert (path.stat().st_size >= READ_AHEAD_FROM) == (size > CHUNK)
    os.chmod(path, 0o644)
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(ObjectCorrupt, match=oid):
        db.get_bytes(oid)
    dest = tmp_path / "copy"
    with pytest.raises(ObjectCorrupt):
        db.copy_to_file(oid, dest)
    assert not dest.exists()  # nothing half-written or bad appears


@pytest.mark.parametrize("large", [False, True])  # large: read ahead, hashed in a thread
def test_corrupt_compressed_object_is_detected(tmp_path: Path, large: bool) -> None:
    db = DiskObjectDB(tmp_path)
    data = os.urandom(5 * CHUNK).hex().encode() if large else b"abc" * 10_000
    oid = db.put_bytes("blob", data)
    path = db.path(oid)
    assert path.read_bytes().startswith(b"gitax-object 1 blob zstd\n")
    assert (path.stat().st_size >= READ_AHEAD_FROM) == large
    os.chmod(path, 0o644)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x55
    path.write_bytes(bytes(raw))
    with pytest.raises(ObjectCorrupt, match=oid):
        db.get_bytes(oid)


def test_compressible_data_is_zstd_and_random_data_is_raw(tmp_path: Path) -> None:
    db = DiskObjectDB(tmp_path)
    smooth = db.put_bytes("blob", b"0123456789" * 100_000)
    noise = db.put_bytes("blob", os.urandom(200_000))
    assert db.path(smooth).read_bytes().startswith(b"gitax-object 1 blob zstd\n")
    assert db.path(smooth).stat().st_size < 100_000
    assert db.path(noise).read_bytes().startswith(b"gitax-object 1 blob raw\n")


def test_streaming_keeps_memory_flat(tmp_path: Path) -> None:
    db = DiskObjectDB(tmp_path)
    block = os.urandom(CHUNK)
    total = 96  # memory must not grow with the object: bounded queues of 1 MiB chunks

    def chunks():
        for i in range(total):
            yield block[:-8] + i.to_bytes(8, "big")

    tracemalloc.start()
    oid = db.put_stream("blob", chunks())
    for _ in db.read_chunks(oid):
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 16 * CHUNK, f"peak {peak} bytes for a {total} MiB object"


def test_header_format_and_parse_are_a_pair() -> None:
    header = Header("manifest", "zstd")
    assert format_header(header) == b"gitax-object 1 manifest zstd\n"
    assert parse_header(format_header(header)) == header


@pytest.mark.parametrize(
    "line",
    [
        b"gitax-object 2 blob zstd\n",
        b"gitax-object 1 commit zstd\n",
        b"gitax-object 1 blob gzip\n",
        b"gitax-object 1 blob zstd",
        b"garbage\n",
        b"",
    ],
)
def test_bad_headers_are_refused(line: bytes) -> None:
    with pytest.raises(ValueError):
        parse_header(line)


def test_store_refuses_unknown_format_version(tmp_path: Path) -> None:
    Store.open(tmp_path / "s")
    (tmp_path / "s" / "format").write_text("gitax-store 99\n")
    with pytest.raises(StoreError, match="format 99"):
        Store.open(tmp_path / "s")


def test_store_open_without_create_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="gitax init"):
        Store.open(tmp_path / "none", create=False)


def test_read_ahead_gives_the_file_back_in_order_and_stops_when_closed(tmp_path: Path) -> None:
    import threading

    from gitax.store.readahead import BLOCK, ReadAhead

    data = b"header line\n" + os.urandom(5 * BLOCK + 3)
    path = tmp_path / "f"
    path.write_bytes(data)
    with open(path, "rb") as fh, ReadAhead(fh) as ra:
        assert ra.readline(80) == b"header line\n"
        got = [ra.read(1000), ra.read(CHUNK)]
        while piece := ra.read(CHUNK):
            assert len(piece) <= CHUNK
            got.append(piece)
        assert b"header line\n" + b"".join(got) == data and ra.read() == b""
    before = threading.active_count()
    with open(path, "rb") as fh:
        ra = ReadAhead(fh)
        ra.read(10)  # a reader that stops early...
        ra.close()  # ...stops the thread, which may have been waiting on a full queue
    assert threading.active_count() <= before


def test_read_ahead_hands_a_read_error_to_the_reader(tmp_path: Path) -> None:
    from gitax.store.readahead import ReadAhead

    class Failing:
        def read(self, size: int) -> bytes:
            raise OSError("disk gone")

    with ReadAhead(Failing()) as ra, pytest.raises(OSError, match="disk gone"):  # type: ignore[arg-type]
        ra.read(10)


def test_a_folder_holding_other_files_is_never_adopted_as_a_store(tmp_path: Path) -> None:
    from conftest import gitax, write

    home = tmp_path / "home"
    write(home / "work" / "thesis" / "chapter1.tex", "precious\n")
    write(home / "tmp" / "draft.txt", "also precious\n")
    with pytest.raises(StoreError, match="holds files and is not a gitax store"):
        Store.open(home)
    assert not (home / "format").exists() and not (home / "objects").exists()
    project = tmp_path / "p"
    write(project / "gitax.toml", f'[gitax]\nstore = "{home}"\n')
    proc = gitax("gc", cwd=project, check=False)
    assert proc.returncode == 1 and "is not a gitax store" in proc.stderr
    assert (home / "work" / "thesis" / "chapter1.tex").read_text() == "precious\n"
    assert (home / "tmp" / "draft.txt").exists()
    Store.open(tmp_path / "empty")  # a new or empty folder is fine
    (tmp_path / "empty2").mkdir()
    assert Store.open(tmp_path / "empty2").root.joinpath("format").is_file()
