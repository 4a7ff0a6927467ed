"""Append-only text logs (like git's reflogs): one line per entry, appended under a lock.

A crash in the middle of an append can leave a last line without its newline; readers
ignore it, and the next append (under the lock) cuts it off before writing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from gitax.failpoints import active, failpoint
from gitax.store.fsutil import atomic_write, ensure_dir, fsync_dir
from gitax.store.lockfile import locked


def append_line(
    path: str | os.PathLike[str],
    line: bytes,
    check: Callable[[list[tuple[int, bytes]]], bool] | None = None,
) -> bool:
    """Append one complete line (it must end with the only newline it holds), durably.
    `check`, if given, sees the current lines under the lock (so nobody appends between
    the check and the append) and may raise, or return False to append nothing."""
    if not line.endswith(b"\n") or b"\n" in line[:-1]:
        raise ValueError("a log entry is exactly one line")
    target = Path(path)
    ensure_dir(target.parent)
    with locked(target):
        if check is not None and not check(read_lines(target)):
            return False
        created = not target.exists()
        fd = os.open(target, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            size = os.fstat(fd).st_size
            if size:
                last = os.pread(fd, 1, size - 1)
                if last != b"\n":  # a torn append: drop the partial line
                    data = os.pread(fd, size, 0)
                    os.ftruncate(fd, data.rfind(b"\n") + 1)
            os.lseek(fd, 0, os.SEEK_END)
            if active("urd.append"):  # a crash half-way through the write
                os.write(fd, line[: len(line) // 2])
                os.fsync(fd)
                failpoint("urd.append")
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            fsync_dir(target.parent)
    return True


def rewrite(path: str | os.PathLike[str], change: Callable[[bytes], bytes]) -> None:
    """Replace a log with change(its bytes), under its lock, atomically (for merges)."""
    target = Path(path)
    ensure_dir(target.parent)
    with locked(target):
        try:
            old = target.read_bytes()
        except FileNotFoundError:
            old = b""
        new = change(old)
        if new != old:
            atomic_write(target, new)


def complete_lines(data: bytes) -> list[bytes]:
    """A log's complete lines, without newlines: a torn last line is left out."""
    return data[: data.rfind(b"\n") + 1].split(b"\n")[:-1]


def read_lines(path: str | os.PathLike[str]) -> list[tuple[int, bytes]]:
    """(line number, line without newline) for every complete line; [] if no log."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return []
    return list(enumerate(complete_lines(data), 1))
