"""Lock files the git way: `<file>.lock`, holding who holds it.

A lock names its holder's host, pid, the process's start time and the boot it runs in,
and appears whole (written to a temp file, then linked into place), so that a lock is
stale, and taken over, when its process is gone, when that pid now belongs to another
process (started later, or after a reboot), or when it is empty (left by an older gitax
killed between creating and writing it).
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


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as fh:
            return fh.read().strip()
    except OSError:
        return "-"


def _start_time(pid: int) -> str:
    """When a process started, in clock ticks since boot ('-' where unknown)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return "-"
    # The command name (field 2) may hold spaces and parentheses: count after the last ')'.
    return stat[stat.rfind(b")") + 2 :].split()[19].decode()


_ME: dict[int, str] = {}  # pid -> its holder text (a forked child has a pid of its own)


def holder_text() -> str:
    """What this process writes into a lock: host, pid, start time, boot id."""
    pid = os.getpid()
    if pid not in _ME:
        _ME[pid] = f"{socket.gethostname()} {pid} {_start_time(pid)} {_boot_id()}"
    return _ME[pid]


def holder_is_gone(text: str) -> bool:
    """Is the process a lock names gone (or never written: an empty lock)? Another host's
    holder cannot be checked, so it is taken as alive."""
    parts = text.split()
    if not parts:
        return True
    if len(parts) < 2 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    if process_is_gone(parts[0], parts[1]):
        return True
    if len(parts) >= 4 and parts[3] != "-" and parts[3] != _boot_id():
        return True  # written before a reboot: that pid is someone else now
    started = _start_time(int(parts[1]))
    return len(parts) >= 3 and "-" not in (parts[2], started) and parts[2] != started


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
    me = holder_text().encode()
    while True:
        try:
            _create_whole(lock, me)
            break
        except FileExistsError:
            try:
                holder = lock.read_text()
            except FileNotFoundError:
                continue
            if holder_is_gone(holder):
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
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)


def _create_whole(lock: Path, content: bytes) -> None:
    """Create `lock` holding `content`, or raise FileExistsError; never empty or half."""
    tmp = lock.with_name(f".{lock.name}.{os.getpid()}.{time.monotonic_ns()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        os.write(fd, content)
        os.close(fd)
        os.link(tmp, lock)  # fails if the lock exists, as O_EXCL would
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
