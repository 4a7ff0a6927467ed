"""Lock files the git way: `<file>.lock` created with O_EXCL, holding host and pid.

A lock whose process is gone (same host) is stale and taken over.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from gitax.errors import GitaxError


class LockTimeout(GitaxError):
    """Another live process holds a lock for too long."""

    def __init__(self, path: str, holder: str) -> None:
        self.path, self.holder = path, holder
        super().__init__(f"{path} is locked by {holder or 'another process'}; try again later")


def _holder_is_dead(text: str) -> bool:
    host, _, pid = text.strip().rpartition(" ")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@contextlib.contextmanager
def locked(path: str | os.PathLike[str], timeout: float = 30.0) -> Iterator[None]:
    """Hold `<path>.lock` for the block: one writer at a time, stale locks taken over."""
    lock = Path(f"{os.fspath(path)}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    me = f"{socket.gethostname()} {os.getpid()}".encode()
    while True:
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            break
        except FileExistsError:
            try:
                holder = lock.read_text()
            except FileNotFoundError:
                continue
            if _holder_is_dead(holder):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(lock)
                continue
            if time.monotonic() > deadline:
                raise LockTimeout(str(lock), holder.strip()) from None
            time.sleep(0.02)
    try:
        os.write(fd, me)
        os.close(fd)
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
