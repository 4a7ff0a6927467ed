"""The job index: job key -> manifest object id, answered without opening any object."""

from __future__ import annotations

import abc
import os
from collections.abc import Iterator
from pathlib import Path

from gitax.errors import GitaxError
from gitax.store import layout
from gitax.store.fsutil import atomic_write
from gitax.store.hashing import is_object_id


class IndexCorrupt(GitaxError):
    """An index entry does not hold a manifest id, or holds another job's."""

    def __init__(self, path: str, another: bool = False) -> None:
        self.path = path
        what = "names another job's manifest" if another else "is damaged"
        super().__init__(f"job index entry {path} {what}; run `gitax fsck`")


def format_entry(manifest_id: str, key: str) -> bytes:
    """An index file's content: the manifest id, a space, the job's key and a newline."""
    if not is_object_id(manifest_id) or not is_object_id(key):
        raise ValueError(f"not an object id: {manifest_id!r} / {key!r}")
    return f"{manifest_id} {key}\n".encode("ascii")


def parse_entry(data: bytes, key: str | None = None) -> str | None:
    """The manifest id in an index file, or None if the bytes are not an entry, or are
    the entry of a key other than `key` (a swapped or misplaced file: reusing it would
    serve another job). Entries written before the key was added hold the id alone."""
    text = data.decode("ascii", errors="replace")
    if not text.endswith("\n"):
        return None
    manifest_id, _, own = text[:-1].partition(" ")
    if not is_object_id(manifest_id) or (own and not is_object_id(own)):
        return None
    if own and key is not None and own != key:
        return None
    return manifest_id


class JobIndex(abc.ABC):
    """Which job keys are stored, and the manifest of each."""

    @abc.abstractmethod
    def get(self, key: str) -> str | None:
        """The manifest id stored for `key`, or None."""

    @abc.abstractmethod
    def put(self, key: str, manifest_id: str) -> None:
        """Record `key` -> `manifest_id` atomically (the manifest must be stored first)."""

    @abc.abstractmethod
    def keys_with_prefix(self, prefix: str) -> list[str]:
        """Every stored key starting with `prefix` (at least two hex digits)."""

    @abc.abstractmethod
    def keys(self) -> Iterator[str]:
        """Every stored key."""


class MemoryJobIndex(JobIndex):
    """The index in a dict."""

    def __init__(self) -> None:
        self._entries: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self._entries.get(layout.check("index", key))

    def put(self, key: str, manifest_id: str) -> None:
        format_entry(manifest_id, layout.check("index", key))
        self._entries[key] = manifest_id

    def keys_with_prefix(self, prefix: str) -> list[str]:
        return sorted(k for k in self._entries if k.startswith(prefix))

    def keys(self) -> Iterator[str]:
        return iter(sorted(self._entries))


class DiskJobIndex(JobIndex):
    """One small file per key, `index/ab/cdef…`, holding the manifest id: one open per lookup."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._root = os.fspath(root)

    def path(self, key: str) -> Path:
        """The entry file of a key (checked: a bad key is BadId, never a path)."""
        return layout.under(self.root, "index", key)

    def get(self, key: str) -> str | None:
        # A plain string path, checked by the layout: the lookup of every urd.build, where
        # a Path would parse (and intern) its parts each time.
        path = os.path.join(self._root, layout.below("index", key))
        try:
            with open(path, "rb") as fh:
                data = fh.read(200)
        except FileNotFoundError:
            return None
        manifest_id = parse_entry(data, key)
        if manifest_id is None:
            raise IndexCorrupt(str(path), another=parse_entry(data) is not None)
        return manifest_id

    def put(self, key: str, manifest_id: str) -> None:
        atomic_write(self.path(key), format_entry(manifest_id, key), crash_point="index.write")

    def keys_with_prefix(self, prefix: str) -> list[str]:
        if len(prefix) < 2 or not all(c in "0123456789abcdef" for c in prefix):
            return []
        shard = self.root / prefix[:2]
        try:
            names = os.listdir(shard)
        except FileNotFoundError:
            return []
        rest = prefix[2:]
        return sorted(prefix[:2] + n for n in names if n.startswith(rest) and not n.startswith("."))

    def keys(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for shard in sorted(os.listdir(self.root)):
            if len(shard) == 2 and (self.root / shard).is_dir():
                for name in sorted(os.listdir(self.root / shard)):
                    if is_object_id(shard + name):
                        yield shard + name
