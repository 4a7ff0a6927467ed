"""A job's output: each phase prints into its own pipe, which the build process copies
to OUTPUT/<phase> in the run folder and to the live stream.

A running job that reads its own output (`job.output()`) first asks the build process,
over a socket, to copy everything already in the pipes; the answer comes after that copy,
so what the finished phases printed is all on disk.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

from gitax.errors import GitaxError
from gitax.jobs.job import OUTPUT_DIR
from gitax.run.jobspec import RESULT


def redirect_output(fd: int) -> None:
    """Send this process's stdout and stderr (fds 1 and 2) to `fd`."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)


_devnull: int | None = None


def end_output(fd: int) -> None:
    """Finish a phase's output: point fds 1 and 2 at /dev/null and close the phase's pipe,
    so the build process sees the end of that phase's output."""
    global _devnull
    if _devnull is None:
        _devnull = os.open(os.devnull, os.O_WRONLY)
    redirect_output(_devnull)
    os.close(fd)


SYNC = "sync"  # the socket a running job asks on: "copy what is in the pipes now"


class Pump:
    """Copies every phase's pipe to OUTPUT/<phase> and to the live stream, slice lines
    prefixed with their slice number; keeps what comes on the result pipe."""

    def __init__(self, jobdir: Path, live: IO[bytes] | None, job: str) -> None:
        self.jobdir, self.live, self.job = jobdir, live, job
        self.files: dict[str, IO[bytes]] = {}
        self.line_start: dict[str, bool] = {}
        self.result = bytearray()  # the job process's pickled result (one copy in memory)

    def feed(self, name: str, chunk: bytes) -> None:
        """Take what a phase printed (or a piece of the result)."""
        if name == RESULT:
            self.result += chunk
            return
        out = self.files.get(name)
        if out is None:  # created on the first byte: no empty output files
            try:
                (self.jobdir / OUTPUT_DIR).mkdir(exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                raise GitaxError(
                    f"job {self.job} failed: it made a file named {OUTPUT_DIR}, where gitax "
                    "keeps what it prints; name it otherwise"
                ) from None
            # Unbuffered: the running job reads these files (job.output()).
            out = self.files[name] = open(self.jobdir / OUTPUT_DIR / name, "ab", buffering=0)
        out.write(chunk)
        if self.live is None:
            return
        if name.isdigit():
            prefix = f"[{name}] ".encode()
            lines = chunk.split(b"\n")
            text = b"\n".join(
                (prefix + line if (i > 0 or self.line_start.get(name, True)) and line else line)
                for i, line in enumerate(lines)
            )
            self.line_start[name] = chunk.endswith(b"\n")
            chunk = text
        self.live.write(chunk)
        self.live.flush()

    def close(self) -> None:
        """Close the output files."""
        for out in self.files.values():
            out.close()


def pump(
    fds: dict[str, int],
    into: Pump,
    tick: Callable[[], None] | None,
    exited: tuple[int, Callable[[], None]] | None = None,
    sync: socket.socket | None = None,
    interval: float = 1.0,
) -> None:
    """Copy the pipes until each is closed. `exited` is a pidfd of the job process and
    what to do when it exits: a process it left running holds the pipes open, so its end
    is the job's end, not theirs. A byte on `sync` is answered, once every pipe has been
    read dry, with a byte back."""
    open_pipes = len(fds)
    with selectors.DefaultSelector() as sel:
        for name, fd in fds.items():
            sel.register(fd, selectors.EVENT_READ, name)
        if exited is not None:
            sel.register(exited[0], selectors.EVENT_READ, None)
        if sync is not None:
            sel.register(sync, selectors.EVENT_READ, SYNC)
        while open_pipes:
            for key, _ in sel.select(timeout=interval):
                if key.data is None and exited is not None:
                    sel.unregister(key.fd)
                    exited[1]()
                    exited = None
                elif key.data == SYNC:
                    asked = _receive(key.fileobj)  # type: ignore[arg-type]
                    if not asked:
                        sel.unregister(key.fd)
                        continue
                    for name, fd in fds.items():
                        if fd in sel.get_map():
                            open_pipes -= _read_dry(fd, name, into, sel)
                    with contextlib.suppress(OSError):
                        key.fileobj.sendall(b"k" * len(asked))  # type: ignore[union-attr]
                    break  # the pipes were read dry: the other events are stale, select again
                elif not _read(key.fd, key.data, into, sel):
                    open_pipes -= 1
            if tick is not None:
                tick()


def _receive(sock: socket.socket) -> bytes:
    try:
        return sock.recv(64)
    except OSError:
        return b""


def _read(fd: int, name: str, into: Pump, sel: selectors.BaseSelector) -> bool:
    """Copy one chunk of a pipe; False (and stop watching it) when it is closed."""
    chunk = os.read(fd, 65536)
    if chunk:
        into.feed(name, chunk)
        return True
    sel.unregister(fd)
    return False


def _read_dry(fd: int, name: str, into: Pump, sel: selectors.BaseSelector) -> int:
    """Copy all that is in a pipe now; 1 if it was closed, else 0."""
    with selectors.DefaultSelector() as one:
        one.register(fd, selectors.EVENT_READ)
        while one.select(timeout=0):
            if not _read(fd, name, into, sel):
                return 1
    return 0


def ask_sync(sock: socket.socket | None) -> None:
    """In the job process: wait until the build process has copied everything this
    process has printed so far into OUTPUT/."""
    if sock is None:
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    with contextlib.suppress(OSError):
        sock.sendall(b"s")
        sock.recv(1)
