"""Tracebacks as a user wants them: their own frames, not gitax's."""

from __future__ import annotations

import traceback
from pathlib import Path

GITAX_DIR = str(Path(__file__).resolve().parent.parent)


def _is_gitax(filename: str) -> bool:
    return filename.startswith(GITAX_DIR + "/")


def user_traceback(error: BaseException) -> str:
    """The traceback of `error` without the frames of gitax's own code (kept when there
    is nothing else to show: then the fault is gitax's). Chained exceptions keep their
    causes, each trimmed the same way."""
    te = traceback.TracebackException.from_exception(error)
    todo: list[traceback.TracebackException] = [te]
    while todo:
        one = todo.pop()
        kept = [f for f in one.stack if not _is_gitax(f.filename)]
        if kept:
            one.stack = traceback.StackSummary.from_list(kept)
        todo += [c for c in (one.__cause__, one.__context__) if c is not None]
    return "".join(te.format())
