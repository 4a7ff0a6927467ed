"""The object database: put, get, has, list — one interface, a memory and a disk store."""

from __future__ import annotations

import abc
import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from gitax.store import layout
from gitax.store.fsutil import ensure_dir, file_mode, fsync_dir
from gitax.store.hashing import is_object_id, object_id
from gitax.store.objects import (
    CHUNK,
    ObjectMissing,
    Readable,
    WrongType,
    decode,
    encode,
    parse_header,
)
from gitax.store.readahead import ReadAhead

# From this size a read overlaps disk and hashing in a thread; below, a thread costs more.
READ_AHEAD_FROM = 4 * CHUNK


def file_chunks(path: str | os.PathLike[str]) -> Iterator[bytes]:
    """Read a file in CHUNK-sized pieces so large files never sit in memory whole."""
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


class ObjectDB(abc.ABC):
    """Content-addressed, immutable objects; writing one that exists is a no-op."""

    @abc.abstractmethod
    def put_stream(self, obj_type: str, chunks: Iterable[bytes]) -> str:
        """Store an object from a stream of chunks; return its id."""

    @abc.abstractmethod
    def read_chunks(self, oid: str, expect: str | None = None) -> Iterator[bytes]:
        """Yield an object's content; the hash is checked before the last chunk returns."""

    @abc.abstractmethod
    def has(self, oid: str) -> bool:
        """Is the object stored?"""

    @abc.abstractmethod
    def ids(self) -> Iterator[str]:
        """Every stored object id, in no particular order."""

    def put_bytes(self, obj_type: str, data: bytes) -> str:
        """Store a small object held in memory; return its id."""
        return self.put_stream(obj_type, [data])

    def put_file(self, obj_type: str, path: str | os.PathLike[str]) -> str:
        """Store a file's content, streamed; return its id."""
        return self.put_stream(obj_type, file_chunks(path))

    def get_bytes(self, oid: str, expect: str | None = None) -> bytes:
        """An object's whole content, verified."""
        return b"".join(self.read_chunks(oid, expect))

    def copy_to_file(self, oid: str, dest: str | os.PathLike[str], mode: int = 0o444) -> None:
        """Write an object's content to `dest`; `dest` appears only once verified."""
        target = Path(dest)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in self.read_chunks(oid, "blob"):
                    fh.write(chunk)
            os.chmod(tmp, file_mode(mode))
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise


class MemoryObjectDB(ObjectDB):
    """Objects in a dict: for tests and as the reference behaviour."""

    def __init__(self) -> None:
        self._objects: dict[str, tuple[str, bytes]] = {}

    def put_stream(self, obj_type: str, chunks: Iterable[bytes]) -> str:
        data = b"".join(chunks)
        oid = object_id(obj_type, data)
        self._objects.setdefault(oid, (obj_type, data))
        return oid

    def read_chunks(self, oid: str, expect: str | None = None) -> Iterator[bytes]:
        try:
            obj_type, data = self._objects[oid]
        except KeyError:
            raise ObjectMissing(oid) from None
        if expect and obj_type != expect:
            raise WrongType(oid, expect, obj_type)
        for i in range(0, len(data), CHUNK):
            yield data[i : i + CHUNK]

    def has(self, oid: str) -> bool:
        return oid in self._objects

    def ids(self) -> Iterator[str]:
        return iter(list(self._objects))


class DiskObjectDB(ObjectDB):
    """Objects as files `objects/ab/cdef…` under a root, each a header and a zstd/raw body."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.objects = self.root / layout.folder("object")
        self.tmp = self.root / layout.TMP
        self._tmp_ready = False

    def path(self, oid: str) -> Path:
        """Where an object lives (whether or not it exists)."""
        return layout.path(self.root, "object", oid)

    def _touch(self, oid: str) -> bool:
        """Refresh a stored object's mtime (so a concurrent gc sees it as fresh); False if
        it is not stored."""
        path = self.path(oid)
        try:
            os.utime(path)
        except FileNotFoundError:
            return False
        except PermissionError:  # another user's object in a shared store: it is there
            return path.exists()
        return True

    def put_bytes(self, obj_type: str, data: bytes) -> str:
        if len(data) >= CHUNK:  # large: streamed in chunks, not compressed into memory
            return self.put_stream(
                obj_type, (data[i : i + CHUNK] for i in range(0, len(data), CHUNK))
            )
        # Hashed first: most small objects (sources, empty trees) are already stored, and
        # then nothing is compressed and no temp file is made.
        oid = object_id(obj_type, data)
        return oid if self._touch(oid) else self.put_stream(obj_type, [data])

    def _publish(self, tmp: str, target: Path) -> None:
        """Move a synced temp file into place as a read-only object, durably."""
        os.chmod(tmp, file_mode(0o444))
        ensure_dir(target.parent)
        os.replace(tmp, target)
        fsync_dir(target.parent)

    def put_stream(self, obj_type: str, chunks: Iterable[bytes]) -> str:
        if not self._tmp_ready:
            self.tmp.mkdir(parents=True, exist_ok=True)
            self._tmp_ready = True
        fd, tmp = tempfile.mkstemp(prefix="obj-", dir=self.tmp)
        try:
            with os.fdopen(fd, "wb") as fh:
                oid, _ = encode(obj_type, chunks, fh)
                if self._touch(oid):
                    os.unlink(tmp)
                    return oid
                fh.flush()
                os.fsync(fh.fileno())
            self._publish(tmp, self.path(oid))
            return oid
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def adopt(self, oid: str, received: str | os.PathLike[str]) -> None:
        """Move a received object file (in stored form, on the same file system) into the
        store, only once it decodes and hashes to `oid`; otherwise raise ObjectCorrupt."""
        with open(received, "rb") as fh:
            for _ in decode(oid, f"received {oid}", fh):
                pass
            os.fsync(fh.fileno())
        if self.path(oid).exists():
            os.unlink(received)
            return
        self._publish(os.fspath(received), self.path(oid))

    def type_of(self, oid: str) -> str:
        """A stored object's type, from its header alone ('?' if the header is bad)."""
        with open(self.path(oid), "rb") as fh:
            try:
                return parse_header(fh.readline(80)).obj_type
            except (ValueError, UnicodeDecodeError):
                return "?"

    def read_chunks(self, oid: str, expect: str | None = None) -> Iterator[bytes]:
        path = self.path(oid)
        try:
            fh = open(path, "rb")
        except FileNotFoundError:
            raise ObjectMissing(oid) from None
        with fh:
            # Sequential: Linux doubles its read-ahead, which matters for cold reads.
            os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
            large = os.fstat(fh.fileno()).st_size >= READ_AHEAD_FROM
            source: Readable = ReadAhead(fh) if large else fh
            try:
                for header, chunk in decode(oid, str(path), source, overlap=large):
                    if expect and header.obj_type != expect:
                        raise WrongType(oid, expect, header.obj_type)
                    if chunk:
                        yield chunk
            finally:
                if isinstance(source, ReadAhead):
                    source.close()

    def has(self, oid: str) -> bool:
        return self.path(oid).exists()

    def ids(self) -> Iterator[str]:
        if not self.objects.is_dir():
            return
        for shard in sorted(os.listdir(self.objects)):
            if len(shard) != 2 or not (self.objects / shard).is_dir():
                continue  # a stray file: fsck names it
            for rest in os.listdir(self.objects / shard):
                if is_object_id(shard + rest):
                    yield shard + rest
