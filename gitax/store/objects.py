"""Object framing: the header line, compression choice, and streaming encode/decode."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Protocol

import zstandard

from gitax.errors import GitaxError
from gitax.store.hashing import object_hasher

OBJECT_FORMAT = 1
OBJECT_TYPES = ("blob", "tree", "manifest", "build")
CHUNK = 1 << 20
ZSTD_LEVEL = 3  # small objects: manifests, trees, source files
ZSTD_LEVEL_STREAM = 1  # large outputs: zstd's fastest level, on zstd's own worker threads
# Compressing data that barely shrinks costs far more time than it saves disk: a sample
# that keeps more than this fraction of its size is stored raw.
INCOMPRESSIBLE = 0.90
SYNC_EVERY = 64 << 20  # large writes are synced as they go, so the final fsync is short


class ObjectError(GitaxError):
    """An object is missing, corrupt or of the wrong type."""


class ObjectMissing(ObjectError):
    """The store has no object with this id."""

    def __init__(self, oid: str) -> None:
        self.oid = oid
        super().__init__(f"object {oid} is not in the store")


class ObjectCorrupt(ObjectError):
    """An object's bytes do not hash to its id, or cannot be decoded."""

    def __init__(self, oid: str, where: str, reason: str) -> None:
        self.oid, self.where, self.reason = oid, where, reason
        super().__init__(f"object {oid} is corrupt ({reason}): {where}; run `gitax fsck`")


class WrongType(ObjectError):
    """An object was read as one type but is another."""

    def __init__(self, oid: str, expected: str, got: str) -> None:
        self.oid, self.expected, self.got = oid, expected, got
        super().__init__(f"object {oid} is a {got}, not a {expected}")


@dataclass(frozen=True)
class Header:
    """The first line of every stored object file."""

    obj_type: str
    encoding: str  # "zstd" or "raw"


def format_header(header: Header) -> bytes:
    """b'gitax-object 1 <type> <encoding>\\n'."""
    return f"gitax-object {OBJECT_FORMAT} {header.obj_type} {header.encoding}\n".encode("ascii")


def parse_header(line: bytes) -> Header:
    """Parse a header line, refusing unknown versions, types and encodings."""
    parts = line.rstrip(b"\n").split(b" ")
    if len(parts) != 4 or parts[0] != b"gitax-object" or not line.endswith(b"\n"):
        raise ValueError("not a gitax object header")
    if parts[1] != str(OBJECT_FORMAT).encode():
        raise ValueError(f"object format {parts[1].decode(errors='replace')} is not supported")
    obj_type, encoding = parts[2].decode("ascii"), parts[3].decode("ascii")
    if obj_type not in OBJECT_TYPES:
        raise ValueError(f"unknown object type {obj_type!r}")
    if encoding not in ("zstd", "raw"):
        raise ValueError(f"unknown encoding {encoding!r}")
    return Header(obj_type, encoding)


def choose_encoding(sample: bytes) -> str:
    """zstd unless a compressed sample is barely smaller than the sample."""
    if len(sample) < 4096:
        return "zstd"
    packed = zstandard.ZstdCompressor(level=1).compress(sample[:CHUNK])
    return "raw" if len(packed) > INCOMPRESSIBLE * min(len(sample), CHUNK) else "zstd"


def encode(obj_type: str, chunks: Iterable[bytes], out: IO[bytes]) -> tuple[str, int]:
    """Write the stored form of an object to `out`; return (id, content size)."""
    hasher = object_hasher(obj_type)
    it = iter(chunks)
    first = b""
    for first in it:
        if first:
            break
    encoding = choose_encoding(first)
    out.write(format_header(Header(obj_type, encoding)))
    if len(first) >= CHUNK:  # a large stream: overlap hashing, compressing and writing
        return _encode_pipelined(hasher, encoding, _chain(first, it), out)
    size = 0
    comp = _small_compressor().compressobj() if encoding == "zstd" else None
    for chunk in _chain(first, it):
        hasher.update(chunk)
        size += len(chunk)
        out.write(comp.compress(chunk) if comp else chunk)
    if comp:
        out.write(comp.flush())
    return hasher.hexdigest(), size


_local = threading.local()


def _small_compressor() -> zstandard.ZstdCompressor:
    """This thread's compressor for small objects: making one allocates zstd's tables,
    which costs more than compressing a manifest."""
    comp = getattr(_local, "compressor", None)
    if comp is None:
        comp = _local.compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
    return comp


_DONE = object()


def _encode_pipelined(
    hasher: Any, encoding: str, chunks: Iterator[bytes], out: IO[bytes]
) -> tuple[str, int]:
    """hashlib, zstd and file writes release the GIL, so a hashing thread, a writing thread
    and the compressing caller overlap; bounded queues keep memory flat."""
    to_hash: queue.Queue[Any] = queue.Queue(maxsize=4)
    to_write: queue.Queue[Any] = queue.Queue(maxsize=4)
    failed: list[BaseException] = []

    def hash_all() -> None:
        while (chunk := to_hash.get()) is not _DONE:
            hasher.update(chunk)

    def write_all() -> None:
        unsynced = 0
        try:
            while (piece := to_write.get()) is not _DONE:
                out.write(piece)
                unsynced += len(piece)
                if unsynced >= SYNC_EVERY and hasattr(out, "fileno"):
                    out.flush()
                    os.fdatasync(out.fileno())  # the disk works while we hash and compress
                    unsynced = 0
        except BaseException as e:  # reported by the caller, after draining
            failed.append(e)
            while to_write.get() is not _DONE:
                pass

    threads = [threading.Thread(target=hash_all), threading.Thread(target=write_all)]
    for t in threads:
        t.start()
    size = 0
    try:
        comp = (
            zstandard.ZstdCompressor(level=ZSTD_LEVEL_STREAM, threads=-1).compressobj()
            if encoding == "zstd"
            else None
        )
        for chunk in chunks:
            size += len(chunk)
            to_hash.put(chunk)
            piece = comp.compress(chunk) if comp else chunk
            if piece:
                to_write.put(piece)
            if failed:
                break
        if comp:
            to_write.put(comp.flush())
    finally:
        to_hash.put(_DONE)
        to_write.put(_DONE)
        for t in threads:
            t.join()
    if failed:
        raise failed[0]
    return hasher.hexdigest(), size


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest


class Readable(Protocol):
    """What decoding reads from: a file, or a ReadAhead over one."""

    def read(self, size: int = -1, /) -> bytes: ...

    def readline(self, limit: int = -1, /) -> bytes: ...


class _HashThread:
    """Hashes chunks in a thread (hashlib releases the GIL), so hashing a large object
    overlaps decompressing or reading its next chunks."""

    def __init__(self, hasher: Any) -> None:
        self.hasher = hasher
        self._chunks: queue.Queue[Any] = queue.Queue(maxsize=4)
        self._thread = threading.Thread(target=self._run, name="gitax-hash", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (chunk := self._chunks.get()) is not _DONE:
            self.hasher.update(chunk)

    def update(self, chunk: bytes) -> None:
        self._chunks.put(chunk)

    def finish(self) -> None:
        """Wait until every chunk is hashed (safe to call twice)."""
        if self._thread.is_alive():
            self._chunks.put(_DONE)
            self._thread.join()

    def hexdigest(self) -> str:
        self.finish()
        return str(self.hasher.hexdigest())


def decode(
    oid: str, where: str, fh: Readable, overlap: bool = False
) -> Iterator[tuple[Header, bytes]]:
    """Yield (header, chunk) pairs of an object's content; raise ObjectCorrupt at the end
    if the content does not hash to `oid`, so no caller can finish with bad bytes. With
    `overlap` (for large objects), hashing runs in a thread beside decompressing."""
    try:
        header = parse_header(fh.readline(80))
    except (ValueError, UnicodeDecodeError) as e:
        raise ObjectCorrupt(oid, where, str(e)) from None
    hasher = object_hasher(header.obj_type)
    if overlap:
        hasher = _HashThread(hasher)
    try:
        if header.encoding == "zstd":
            # zstd reads any object with read(); its stubs ask for a real file.
            reader: Readable = zstandard.ZstdDecompressor().stream_reader(fh)  # type: ignore[arg-type]
        else:
            reader = fh
        while True:
            chunk = reader.read(CHUNK)
            if not chunk:
                break
            hasher.update(chunk)
            yield header, chunk
    except zstandard.ZstdError as e:
        raise ObjectCorrupt(oid, where, f"cannot decompress: {e}") from None
    finally:
        if overlap:
            hasher.finish()
    if hasher.hexdigest() != oid:
        raise ObjectCorrupt(oid, where, f"content hashes to {hasher.hexdigest()}")
    yield header, b""
