"""Set-up shared by every forked job and slice process: dying with the parent, signals,
and saying how a process ended."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from typing import Any

_prctl: Any = None


def load_prctl() -> None:
    """Find libc's prctl once, in the build process: importing ctypes and opening libc
    after every fork would cost each job several milliseconds."""
    global _prctl
    if _prctl is None and sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            _prctl = ctypes.CDLL(None, use_errno=True).prctl


def die_with_parent() -> None:
    """Ask Linux to kill this process if its parent dies (even by SIGKILL)."""
    if _prctl is not None:
        _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def prepare_child() -> None:
    """Signal set-up for every forked job or slice process."""
    die_with_parent()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)  # only the build process reports status
    signal.signal(signal.SIGINT, signal.default_int_handler)


def describe_exit(status_code: int) -> str:
    """A process's wait status in words."""
    if os.WIFSIGNALED(status_code):
        sig = os.WTERMSIG(status_code)
        hint = " (out of memory?)" if sig == signal.SIGKILL else ""
        return f"killed by {signal.Signals(sig).name}{hint}"
    return f"exited with status {os.WEXITSTATUS(status_code)}"
