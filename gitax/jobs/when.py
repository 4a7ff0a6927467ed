"""Picking a session or a build run by when it happened, as exax's urd does: `LIST@WHEN`
means the latest at or before WHEN, which may be partial (`2024`, `2024-01`,
`2024-01-05T10`); `<`, `<=`, `>`, `>=` before WHEN choose the comparison."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from gitax.errors import GitaxError

OPERATORS = ("<=", ">=", "<", ">")  # the two-character ones first
_PARTIAL = re.compile(r"\d{4}(-\d\d(-\d\d([T ]\d\d(:\d\d(:\d\d(\.\d{1,6})?)?)?)?)?)?")


class WhenError(GitaxError):
    """A timestamp that is neither a date, a datetime, nor the start of one."""


def split_operator(spec: str, default: str) -> tuple[str, str]:
    """(operator, timestamp text) of `<=2024-01`; `default` when there is none."""
    for op in OPERATORS:
        if spec.startswith(op):
            return op, spec[len(op) :]
    return default, spec


def check_when(text: str, normalise: Callable[[Any], str]) -> str:
    """A full timestamp normalised (UTC, ISO), or a partial one as written."""
    text = text.strip()
    if _PARTIAL.fullmatch(text):
        text = text.replace(" ", "T")
        full = len(text) == 10 or len(text) >= 19
        return normalise(text) if full else text
    try:
        return normalise(text)  # an offset, or a datetime object's text
    except GitaxError:
        raise WhenError(
            f"{text!r} is not a date or time: write 2024-01-05, 2024-01-05T10:30, or a part "
            "of one (2024-01)"
        ) from None


def matches(stamp: str, op: str, when: str) -> bool:
    """Does the timestamp `stamp` satisfy `op when`? With `<=`, a stamp within a partial
    `when` counts (2024-01-31 is at or before 2024-01), as in exax."""
    if op == "=":
        return stamp == when
    if op == "<=":
        return stamp[: len(when)] <= when
    if op == "<":
        return stamp < when
    if op == ">=":
        return stamp >= when
    return stamp > when


def pick(stamps: Sequence[str], op: str, when: str) -> int | None:
    """The index into `stamps` (oldest first) of the one `op when` picks: the latest of
    those before (`<`, `<=`), the earliest of those after (`>`, `>=`), the equal one."""
    found = [i for i, s in enumerate(stamps) if matches(s, op, when)]
    if not found:
        return None
    return found[0] if op.startswith(">") else found[-1]


def pick_when(
    stamps: Sequence[str], spec: str, default: str, normalise: Callable[[Any], str]
) -> int | None:
    """The index into `stamps` that `spec` (`2024-01`, `<=2024-01-05T10`, …) picks, with
    `default` as the operator when it names none; WhenError for text that is no time."""
    op, text = split_operator(spec, default)
    return pick(stamps, op, check_when(text, normalise))
