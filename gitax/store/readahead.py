"""Reading a large file ahead in a thread, so a cold read from disk overlaps the hashing
and decompressing of what came before (file reads, hashlib and zstd release the GIL)."""

from __future__ import annotations

import queue
import threading
from typing import IO

BLOCK = 1 << 20
DEPTH = 4  # blocks read ahead: memory stays at a few MiB whatever the file's size


class ReadAhead:
    """A read-only file object over `fh`, filled by a reader thread. `read(n)` returns up
    to n bytes (fewer at a block's end, b"" only at the end of the file), which is all
    that object decoding and zstd's stream reader ask of a file. Close it to stop the
    thread early."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self._blocks: queue.Queue[bytes | BaseException] = queue.Queue(DEPTH)
        self._stop = threading.Event()
        self._buf = b""
        self._pos = 0
        self._eof = False
        self._thread = threading.Thread(target=self._fill, name="gitax-readahead", daemon=True)
        self._thread.start()

    def _fill(self) -> None:
        try:
            while not self._stop.is_set():
                block = self._fh.read(BLOCK)
                self._put(block)
                if not block:
                    return
        except BaseException as e:  # handed to the reader, who raises it
            self._put(e)

    def _put(self, item: bytes | BaseException) -> None:
        while not self._stop.is_set():
            try:
                self._blocks.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _next_block(self) -> bool:
        if self._eof:
            return False
        item = self._blocks.get()
        if isinstance(item, BaseException):
            self._eof = True
            raise item
        if not item:
            self._eof = True
            return False
        self._buf, self._pos = item, 0
        return True

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes (a whole block when size < 0)."""
        if self._pos >= len(self._buf) and not self._next_block():
            return b""
        if self._pos == 0 and (size < 0 or size >= len(self._buf)):
            self._pos = len(self._buf)
            return self._buf  # the common case: a whole block, not copied
        end = len(self._buf) if size < 0 else self._pos + size
        piece = self._buf[self._pos : end]
        self._pos += len(piece)
        return piece

    def readline(self, limit: int = -1) -> bytes:
        """A line from the current block (object headers are short and come first)."""
        if self._pos >= len(self._buf) and not self._next_block():
            return b""
        end = self._buf.find(b"\n", self._pos, None if limit < 0 else self._pos + limit)
        stop = (end + 1) if end >= 0 else (len(self._buf) if limit < 0 else self._pos + limit)
        piece = self._buf[self._pos : stop]
        self._pos += len(piece)
        return piece

    def close(self) -> None:
        """Stop the reader thread and wait for it."""
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
