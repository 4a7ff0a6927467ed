"""What a phase cost: wall time, CPU time and peak memory."""

from __future__ import annotations

import contextlib
import resource
import time
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def measured(into: dict[str, Any], name: str) -> Iterator[None]:
    """Record wall time, CPU time and peak RSS of this process over the block."""
    t0, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    try:
        yield
    finally:
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        into[name] = {
            "wall": round(time.perf_counter() - t0, 6),
            "cpu": round(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime, 6),
            "maxrss_kib": r1.ru_maxrss,
        }
