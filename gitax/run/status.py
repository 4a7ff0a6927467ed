"""Status of running jobs: `with status('msg') as update:`, and what `gitax status` reads.

Each job process (and each analysis slice) keeps one small JSON file,
`<store>/status/<pid>.json`, rewritten whenever its phase or status message changes and
removed when it ends. Readers skip files whose process is gone.

The file is opened once and rewritten in place with one pwrite, padded with spaces to
its longest length so far: a reader sees the old or the new document (a rare torn read
fails to parse and is skipped, like a file that is being removed). A temp file and a
rename per update cost a job several milliseconds on slow file systems.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

STATUS_DIR = "status"
PUBLISH_AFTER = 0.2  # seconds


class Board:
    """This process's status: which job, phase and slice, and a stack of messages."""

    def __init__(self, directory: Path, info: dict[str, Any]) -> None:
        self.path = directory / f"{os.getpid()}.json"
        self.info = dict(info, pid=os.getpid())
        self.stack: list[list[Any]] = []
        self.size = 0
        self.fd: int | None = None
        self.published = False  # the file is made only once the job has run PUBLISH_AFTER

    def publish(self) -> None:
        """Make the status file and write it: from now on every change is written."""
        if self.published:
            return
        self.published = True
        with contextlib.suppress(OSError):
            self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        self.write()

    def write(self) -> None:
        """Publish the current state (no fsync: it means nothing after a crash)."""
        if self.fd is None:
            return
        data = json.dumps(dict(self.info, messages=self.stack)).encode()
        self.size = max(self.size, len(data))
        with contextlib.suppress(OSError):
            os.pwrite(self.fd, data.ljust(self.size), 0)

    def set_phase(self, phase: str, sliceno: int | None = None) -> None:
        """Enter a phase (and slice)."""
        self.info.update(phase=phase, slice=sliceno, phase_started=time.time())
        self.write()

    def close(self) -> None:
        """Remove this process's status file."""
        signal.setitimer(signal.ITIMER_REAL, 0)
        if not self.published:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


_board: Board | None = None


def start(directory: Path, **info: Any) -> Board:
    """Begin publishing status for this process (called in each job and slice process)."""
    global _board
    if not directory.is_dir():
        directory.mkdir(parents=True, exist_ok=True)
    if _board is not None and _board.info["pid"] == os.getpid():
        _board.close()
    _board = board = Board(directory, info)
    # A job that ends within PUBLISH_AFTER is never worth a status file (making one costs a
    # job ~0.5 ms); a longer one is published by a timer signal, which also interrupts
    # sleeps and slow system calls. Timers do not survive fork, so each slice sets its own.
    signal.signal(signal.SIGALRM, lambda signum, frame: board.publish())
    signal.setitimer(signal.ITIMER_REAL, PUBLISH_AFTER)
    return board


def current() -> Board | None:
    """This process's board, if it runs a job."""
    return _board


@contextlib.contextmanager
def status(message: str) -> Iterator[Callable[[str], None]]:
    """Show `message` as what this job is doing while the block runs; the yielded function
    replaces it. Nested blocks stack; outside a job this only keeps the promise."""
    board = _board
    entry = [message, time.time()]
    if board is not None:
        board.stack.append(entry)
        board.write()

    def update(new_message: str) -> None:
        entry[0] = new_message
        if board is not None:
            board.write()

    try:
        yield update
    finally:
        if board is not None and entry in board.stack:
            board.stack.remove(entry)
            board.write()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's job on a shared store
    return True


def running(directory: Path, project: str | None = None) -> list[dict[str, Any]]:
    """Every live job process's status (of one project if given), oldest first."""
    found = []
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    for name in names:
        if not name.endswith(".json") or not name[:-5].isdigit():
            continue
        try:
            doc = json.loads((directory / name).read_bytes())
        except (OSError, ValueError):
            continue  # being replaced or removed right now
        if not isinstance(doc, dict) or not _alive(int(name[:-5])):
            continue
        if project is None or doc.get("project") == project:
            found.append(doc)
    return sorted(found, key=lambda d: (d.get("job_started", 0), d.get("slice") or -1))
