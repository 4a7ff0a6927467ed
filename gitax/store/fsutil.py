"""Atomic file writes: temp file in the same directory, fsync, rename, fsync the directory."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from gitax.failpoints import failpoint

_UMASK: int | None = None


def umask() -> int:
    """The process's umask (read once; changed only through share_with_group)."""
    global _UMASK
    if _UMASK is None:
        try:  # Linux says it without changing it
            with open("/proc/self/status") as fh:
                line = next(x for x in fh if x.startswith("Umask:"))
            _UMASK = int(line.split()[1], 8)
        except (OSError, StopIteration, ValueError):
            _UMASK = os.umask(0o022)
            os.umask(_UMASK)
    return _UMASK


def file_mode(mode: int = 0o666) -> int:
    """`mode` less the umask: what open() would give a new file (mkstemp gives 0600)."""
    return mode & ~umask()


def share_with_group(root: str | os.PathLike[str]) -> None:
    """Make this process write a shared store as git's sharedRepository=group does: the
    umask lets the group write, and the store's root is setgid (Linux passes that, and
    the root's group, to every folder made below it)."""
    global _UMASK
    _UMASK = umask() & ~0o070
    os.umask(_UMASK)
    st = os.stat(root)
    if st.st_mode & 0o2070 != 0o2070 and st.st_uid == os.geteuid():
        os.chmod(root, (st.st_mode & 0o7777) | 0o2070)


def is_shared(root: str | os.PathLike[str]) -> bool:
    """Is a store shared with its group (its root setgid and group-writable)?"""
    try:
        return os.stat(root).st_mode & 0o2020 == 0o2020
    except FileNotFoundError:
        return False


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Make a rename or create inside `path` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_MADE: set[str] = set()


def made_dir(path: str | os.PathLike[str]) -> None:
    """mkdir -p, remembered per process: a store's folders are not removed under a
    running build (gc takes the store lock), and each mkdir costs a system call."""
    key = os.fspath(path)
    if key not in _MADE:
        os.makedirs(key, exist_ok=True)
        _MADE.add(key)


def unique_dir(parent: Path, prefix: str) -> Path:
    """Make a new directory `<prefix><random>` in `parent` with the usual permissions
    (0777 less the umask: it may become a workdir others read), unlike mkdtemp's 0700."""
    while True:
        path = parent / f"{prefix}{os.urandom(5).hex()}"
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue


def ensure_dir(path: str | os.PathLike[str]) -> None:
    """Create a directory (and missing parents) so that the new entries survive a crash."""
    target = Path(path)
    if target.is_dir():
        return
    ensure_dir(target.parent)
    try:
        target.mkdir()
    except FileExistsError:
        return  # made by a concurrent writer, who syncs it
    fsync_dir(target.parent)


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str], *, durable: bool = True) -> Iterator[IO[bytes]]:
    """Yield a binary file that replaces `path` in one rename when the block ends cleanly."""
    target = Path(path)
    if durable:
        ensure_dir(target.parent)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        try:  # the file it replaces keeps its mode; a new one gets the umask's
            os.fchmod(fd, os.stat(target).st_mode & 0o7777)
        except FileNotFoundError:
            os.fchmod(fd, file_mode())
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if durable:
        fsync_dir(target.parent)


def atomic_write(
    path: str | os.PathLike[str], data: bytes, *, durable: bool = True, crash_point: str = ""
) -> None:
    """Replace `path` with `data` so that readers see the old or the new content, never half."""
    with atomic_writer(path, durable=durable) as fh:
        fh.write(data)
        if crash_point:
            fh.flush()
            failpoint(crash_point)


def atomic_symlink(target: str, link: str | os.PathLike[str]) -> None:
    """Point `link` at `target`, replacing whatever `link` was, in one rename."""
    link_path = Path(link)
    link_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = link_path.parent / f".{link_path.name}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    os.symlink(target, tmp)
    os.replace(tmp, link_path)
