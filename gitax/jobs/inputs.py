"""Input files: the data a job read, and whether it changed since.

Input files are not part of a job's key (as in exax: inputs are treated as immutable), but
every job records the sha256 of each file it read. A build that reuses the job, and
`verify`, compare those with the files as they are now, so an edited input is said
aloud instead of silently ignored. Hashing is done only for files whose size or mtime
changed since last seen: a stat cache in the store (`cache/inputs.json`, advisory) keeps
the sha256 of each file by (size, mtime), as git's index does for the work tree.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from gitax.store.fsutil import atomic_write

CACHE = Path("cache") / "inputs.json"


def sha256_file(path: str | os.PathLike[str]) -> tuple[str, int]:
    """(sha256 hex, size) of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


class InputHashes:
    """The sha256 of files, cached by (size, mtime) in a store; save() writes the cache."""

    def __init__(self, store_root: Path) -> None:
        self.path = store_root / CACHE
        self._cache: dict[str, list[Any]] | None = None
        self._dirty = False

    def _load(self) -> dict[str, list[Any]]:
        if self._cache is None:
            self._cache = {}
            with contextlib.suppress(OSError, ValueError):
                doc = json.loads(self.path.read_bytes())
                if isinstance(doc, dict):
                    self._cache = doc
        return self._cache

    def sha256(self, path: Path) -> str | None:
        """The sha256 of a file as it is now, or None if it is gone."""
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        cache = self._load()
        key = os.fspath(path)
        seen = cache.get(key)
        if isinstance(seen, list) and seen[:2] == [st.st_size, st.st_mtime_ns]:
            return str(seen[2])
        try:
            digest, _ = sha256_file(path)
        except (IsADirectoryError, PermissionError):
            return None
        cache[key] = [st.st_size, st.st_mtime_ns, digest]
        self._dirty = True
        return digest

    def changed(self, root: Path, inputs: dict[str, Any]) -> list[str]:
        """The recorded input paths (project-relative, or absolute) whose file differs now."""
        out = []
        for rel, info in sorted(inputs.items()):
            want = info.get("sha256") if isinstance(info, dict) else info
            if self.sha256(root / rel) != want:
                out.append(rel)
        return out

    def save(self) -> None:
        """Keep what was hashed for next time (advisory: a lost cache only costs time)."""
        if self._dirty and self._cache is not None:
            with contextlib.suppress(OSError):
                atomic_write(self.path, json.dumps(self._cache).encode(), durable=False)
            self._dirty = False
