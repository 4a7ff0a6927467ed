"""Where a stored job came from: built here, or pulled from a named remote.

A manifest is immutable (its id is its hash), so the origin of a pulled job is kept beside
the index, in `origin/ab/cdef…` (one line: `pulled <remote name> <url>`). No file means
the job was built here. Loading a pickle runs code, so this is what decides whether a
job's pickles may be loaded (see gitax.jobs.job.Job.load).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from gitax.store import layout
from gitax.store.fsutil import atomic_write


def format_origin(remote: str, url: str) -> bytes:
    """An origin file's content."""
    for part in (remote, url):
        if any(c in part for c in "\n\r\0"):
            raise ValueError("an origin is one line")
    return f"pulled {remote} {url}\n".encode()


def parse_origin(data: bytes) -> tuple[str, str] | None:
    """(remote name, URL) in an origin file, or None if malformed."""
    parts = data.decode("utf-8", "replace").rstrip("\n").split(" ", 2)
    if len(parts) < 3 or parts[0] != "pulled" or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


class Origins:
    """The origins of pulled jobs in a store."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """The origin file of a job key (checked)."""
        return layout.under(self.root, "origin", key)

    def record(self, key: str, remote: str, url: str) -> None:
        """Note that job `key` was pulled from `remote` (before its index entry is written)."""
        atomic_write(self.path(key), format_origin(remote, url))

    def forget(self, key: str) -> None:
        """Note that job `key` was built here (before its index entry is written)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path(key))

    def remote_of(self, key: str) -> tuple[str, str] | None:
        """(name, URL) of the remote a job was pulled from, or None if it was built here;
        ('an unknown remote', '') for a damaged origin file, which trusts nothing."""
        try:
            data = self.path(key).read_bytes()
        except FileNotFoundError:
            return None
        return parse_origin(data) or ("an unknown remote", "")
