"""urd logs merged in any order show the same sessions; conflicts are reported only
where a side had a copy of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitax.jobs.urdlog import JobEntry, Session, UrdLists, format_session
from gitax.remote.urdmerge import merge_logs


def _line(jid: str, recorded: str) -> bytes:
    key = (jid[-1] * 64)[:64]
    s = Session(
        "main",
        "2023-01-05",
        recorded,
        "u",
        joblist=(JobEntry("a", "a", f"a-{key[:12]}", key, True),),
    )
    return format_session(s)


@pytest.mark.parametrize("recorded_b", ["2023-01-05T10:00:00.000002", "2023-01-05T10:00:00.000001"])
def test_either_merge_order_shows_the_same_session(tmp_path: Path, recorded_b: str) -> None:
    a = _line("a-1", "2023-01-05T10:00:00.000001")
    b = _line("a-2", recorded_b)  # later, or recorded at the very same microsecond
    ab = merge_logs(a, b)
    ba = merge_logs(b, a)
    assert ab.conflicts == ba.conflicts == ["main@2023-01-05"]
    shown = [
        UrdLists(tmp_path / n).sessions("main")
        for n, data in (("ab", ab.data), ("ba", ba.data))
        if (tmp_path / n).mkdir() or (tmp_path / n / "main.urd").write_bytes(data)
    ]
    assert shown[0] == shown[1] and len(shown[0]) == 1
    if recorded_b > "2023-01-05T10:00:00.000001":
        assert shown[0][0].recorded == recorded_b  # the later one, whatever the file order


def test_a_store_with_no_copy_of_its_own_reports_no_conflict() -> None:
    a = _line("a-1", "2023-01-05T10:00:00.000001")
    b = _line("a-2", "2023-01-05T10:00:00.000002")
    both = merge_logs(a, b).data
    assert merge_logs(b"", both).conflicts == []
    assert merge_logs(both, a + b).conflicts == []  # nothing new
