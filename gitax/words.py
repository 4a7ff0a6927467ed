"""Counting words: "1 job", "2 jobs"."""

from __future__ import annotations

_IRREGULAR = {"entry": "entries", "urd entry": "urd entries", "is": "are"}


def count(n: int, word: str) -> str:
    """`n` and `word`, plural unless n is 1: count(1, "job") is "1 job"."""
    if n == 1:
        return f"{n} {word}"
    return f"{n} {_IRREGULAR.get(word, word + 's')}"
