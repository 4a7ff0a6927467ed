"""The store lock: builds and pulls hold it shared; gc holds it exclusively.

`flock` on `<store>/lock`: the kernel drops it when a process dies, so a killed build
never leaves it held, and gc can never remove an object a running build may still need.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from gitax.errors import GitaxError


class StoreBusy(GitaxError):
    """gc needs the store to itself, and a build or pull is using it."""

    def __init__(self, root: Path) -> None:
        super().__init__(f"a build or pull is using {root}; run gc when it has finished")


@contextlib.contextmanager
def _flock(root: Path, mode: int, reader: bool = False) -> Iterator[None]:
    if reader and not root.is_dir():
        yield  # no store yet (a dry run makes none): nothing to keep gc away from
        return
    root.mkdir(parents=True, exist_ok=True)
    # 0666 less the umask: flock needs only a read-only open, so every user who may read
    # the store can take it.
    try:
        fd = os.open(root / "lock", os.O_RDONLY | os.O_CREAT, 0o666)
    except OSError as e:
        if not reader or e.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
        # A store this user may read but not write (another's, or a read-only mount):
        # their build can only reuse, which writes nothing gc could lose.
        yield
        return
    try:
        try:
            fcntl.flock(fd, mode)
        except BlockingIOError:
            raise StoreBusy(root) from None
        yield
    finally:
        os.close(fd)  # releases the lock


def shared(root: Path) -> contextlib.AbstractContextManager[None]:
    """Hold the store for a build or pull (many at once; waits while gc runs)."""
    return _flock(root, fcntl.LOCK_SH, reader=True)


def reading(root: Path) -> contextlib.AbstractContextManager[None]:
    """Hold the store for reading only (gc --dry-run): as a build does, and also where
    this user may not write."""
    return _flock(root, fcntl.LOCK_SH, reader=True)


def exclusive(root: Path) -> contextlib.AbstractContextManager[None]:
    """Hold the store alone, for gc; StoreBusy at once if anyone else holds it."""
    return _flock(root, fcntl.LOCK_EX | fcntl.LOCK_NB)
