"""Lock files the git way: `<file>.lock` created with O_EXCL, holding host and pid.

A lock whose process is gone (same host) is stale and taken over.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from gitax.errors import GitaxError
from gitax.store.fsutil import made_dir


class LockTimeout(GitaxError):
    """Another live process holds a lock for too long."""

    def __init__(self, path: str, holder: str) -> None:
        self.path, self.holder = path, holder
        super().__init__(f"{path} is locked by {holder or 'another process'}; try again later")


def _holder_is_dead(text: str) -> bool:
    host, _, pid = text.strip().rpartition(" ")
    return process_is_gone(host, pid)


def process_is_gone(host: str, pid: str) -> bool:
    """Is `pid` a process of this host that no longer runs? (Another host's: unknown, so no.)"""
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
def locked(
    path: str | os.PathLike[str],
    timeout: float | None = 30.0,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold `<path>.lock` for the block: one writer at a time, stale locks taken over.
    timeout None waits as long as the holder lives; on_wait(holder) is called once if
    the lock is busy."""
    lock = Path(f"{os.fspath(path)}.lock")
    made_dir(lock.parent)
    deadline = None if timeout is None else time.monotonic() + timeout
    told = False
    me = f"{socket.gethostname()} {os.getpid()}".encode()
    while True:
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
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
            if deadline is not None and time.monotonic() > deadline:
                raise LockTimeout(str(lock), holder.strip()) from None
            if on_wait is not None and not told:
                on_wait(holder.strip())
                told = True
            time.sleep(0.02 if timeout is not None else 0.2)
    try:
        os.write(fd, me)
        os.close(fd)
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
