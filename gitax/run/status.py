"""Status of running jobs: `with status('msg') as update:`, and what `gitax status` reads.

Each job process (and each analysis slice) keeps one small JSON file,
`<store>/status/<pid>.json`, rewritten atomically whenever its phase or status message
changes and removed when it ends. Readers skip files whose process is gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from gitax.store.fsutil import atomic_write

STATUS_DIR = "status"


class Board:
    """This process's status: which job, phase and slice, and a stack of messages."""

    def __init__(self, directory: Path, info: dict[str, Any]) -> None:
        self.path = directory / f"{os.getpid()}.json"
        self.info = dict(info, pid=os.getpid())
        self.stack: list[list[Any]] = []
        self.write()

    def write(self) -> None:
        """Publish the current state (no fsync: it is gone after a crash anyway)."""
        doc = dict(self.info, messages=self.stack)
        with contextlib.suppress(OSError):
            atomic_write(self.path, json.dumps(doc).encode(), durable=False)

    def set_phase(self, phase: str, sliceno: int | None = None) -> None:
        """Enter a phase (and slice)."""
        self.info.update(phase=phase, slice=sliceno, phase_started=time.time())
        self.write()

    def close(self) -> None:
        """Remove this process's status file."""
        with contextlib.suppress(OSError):
            os.unlink(self.path)


_board: Board | None = None


def start(directory: Path, **info: Any) -> Board:
    """Begin publishing status for this process (called in each job and slice process)."""
    global _board
    directory.mkdir(parents=True, exist_ok=True)
    _board = Board(directory, info)
    return _board


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
