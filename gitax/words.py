"""Counting words: "1 job", "2 jobs"."""

from __future__ import annotations


def count(n: int, word: str) -> str:
    """`n` and `word`, plural unless n is 1: count(1, "job") is "1 job", count(2, "urd
    entry") is "2 urd entries"."""
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word[:-1] + 'ies' if word.endswith('y') else word + 's'}"
