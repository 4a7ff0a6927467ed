"""Named crash points for the crash-safety tests: GITAX_FAILPOINT=<name> makes the process
SIGKILL itself when it reaches that point, as a power cut or the OOM killer would.

Unset (always, outside the tests), each point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

_ACTIVE = os.environ.get("GITAX_FAILPOINT", "")


def failpoint(name: str) -> None:
    """Die here, at once and uncleanly, if the tests asked for it."""
    if _ACTIVE and _ACTIVE == name:
        os.kill(os.getpid(), signal.SIGKILL)


def active(name: str) -> bool:
    """Is this point armed? (For points that must first leave a partial write.)"""
    return bool(_ACTIVE) and _ACTIVE == name
