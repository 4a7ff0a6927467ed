"""gitax.lock: format/parse pair, stable order, and hostile input."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitax.jobs.resultlock import (
    LockedResult,
    LockFileError,
    format_lock,
    parse_lock,
    read_lock,
    record,
)


def entry(path: str, *sources: tuple[str, str]) -> LockedResult:
    return LockedResult(path, "m-abcdefabcdef", "ab" * 32, "out.bin", "cd" * 32, 10, sources)


def test_round_trip_and_stable_order(tmp_path: Path) -> None:
    record(tmp_path, entry("z.png", ("b.py", "1" * 40), ("a.py", "2" * 40)))
    record(tmp_path, entry("a.png", ("a.py", "2" * 40)))
    text = (tmp_path / "gitax.lock").read_text()
    assert text.index('path = "a.png"') < text.index('path = "z.png"')
    assert text.index('["a.py"') < text.index('["b.py"')
    results = read_lock(tmp_path)
    assert set(results) == {"a.png", "z.png"}
    record(tmp_path, entry("a.png", ("a.py", "2" * 40)))  # the same again: no change
    assert (tmp_path / "gitax.lock").read_text() == text
    assert parse_lock(format_lock(results)) == results


def test_strings_are_escaped() -> None:
    odd = entry('we"ird ünïcode\ttab.png', ("a.py", "2" * 40))
    assert parse_lock(format_lock({odd.path: odd})) == {odd.path: odd}


@pytest.mark.parametrize(
    "text, message",
    [
        ("version = 2\n", "version 2 is not supported"),
        ("version = [\n", "not valid TOML"),
        (
            'version = 1\n[[result]]\npath = "../escape"\njob = "j"\nkey = "'
            + "ab" * 32
            + '"\nfile = "f"\nblob = "'
            + "cd" * 32
            + '"\nsize = 1\nsources = []\n',
            "result 1 is malformed: unsafe path",
        ),
        (
            'version = 1\n[[result]]\npath = "x"\njob = "j"\nkey = "nothex"\nfile = "f"\n'
            'blob = "b"\nsize = 1\nsources = []\n',
            "bad key or blob id",
        ),
        ('version = 1\n[[result]]\npath = "x"\n', "result 1 is malformed"),
    ],
)
def test_malformed_lock_files_name_the_file(text: str, message: str) -> None:
    with pytest.raises(LockFileError, match=f"gitax.lock: .*{message}|gitax.lock: {message}"):
        parse_lock(text, "gitax.lock")
