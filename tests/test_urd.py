"""urd lists: the log format, replay (update, truncate), and the urd API in real builds."""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

import pytest
from conftest import ProjectDir

from gitax.jobs.urdlog import (
    JobEntry,
    Session,
    UrdError,
    UrdLists,
    check_list_name,
    format_session,
    format_truncate,
    normalise_timestamp,
    parse_line,
)
from gitax.run.build import run_build
from gitax.store.lockfile import LockTimeout, locked
from gitax.store.reflog import append_line, read_lines

KEY = "ab" * 32


def session(ts: str, *ids: str, lst: str = "main", caption: str = "") -> Session:
    jobs = tuple(JobEntry(i.split("-")[0], i.split("-")[0], i, KEY, True) for i in ids)
    return Session(lst, ts, "2026-01-01T00:00:00", "alice", caption, "build.py", "", jobs)


def test_session_line_is_one_canonical_json_line_and_round_trips() -> None:
    s = session("2023-01-05", "parse-aaaaaaaaaaaa", caption="line one\nline two")
    line = format_session(s)
    assert line.endswith(b"\n") and line.count(b"\n") == 1  # the newline is escaped
    assert json.loads(line)["caption"] == "line one\nline two"
    assert line.startswith(b'{"caption":"line one\\nline two","deps":[],"joblist":[["parse",')
    assert parse_line(line[:-1]) == s


def test_truncate_line() -> None:
    line = format_truncate("main", "2023-01-05", "2026-01-01T00:00:00", "bob")
    assert parse_line(line[:-1]) == ("truncate", "2023-01-05")


@pytest.mark.parametrize("name", ["", "../x", "a/../b", ".hidden", "a b", "a//b", "x.lock", "/abs"])
def test_bad_list_names_are_refused(name: str) -> None:
    with pytest.raises(UrdError, match="not a valid urd list name"):
        check_list_name(name)


def test_good_list_names() -> None:
    for name in ["main", "nightly/eu", "import-2023.v2", "a_b"]:
        assert check_list_name(name) == name


def test_timestamps_normalise() -> None:
    assert normalise_timestamp("2023-01-05") == "2023-01-05"
    assert normalise_timestamp(datetime.date(2023, 1, 5)) == "2023-01-05"
    assert normalise_timestamp("2023-01-05 10:30") == "2023-01-05T10:30:00"
    aware = datetime.datetime(
        2023, 1, 5, 12, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
    )
    assert normalise_timestamp(aware) == "2023-01-05T10:00:00"
    now = datetime.datetime(2026, 1, 1, 8, 0, 0, 5)
    assert normalise_timestamp(None, now) == "2026-01-01T08:00:00.000005"
    with pytest.raises(UrdError, match="not a date or datetime"):
        normalise_timestamp("yesterday")
    with pytest.raises(UrdError):
        normalise_timestamp(3.5)


def test_sessions_are_ordered_by_timestamp_not_by_recording(tmp_path: Path) -> None:
    lists = UrdLists(tmp_path)
    lists.record(session("2023-01-07", "a-000000000001"))
    lists.record(session("2023-01-05", "a-000000000002"))
    lists.record(session("2023-01-06", "a-000000000003"))
    assert [s.timestamp for s in lists.sessions("main")] == [
        "2023-01-05",
        "2023-01-06",
        "2023-01-07",
    ]
    assert lists.latest("main").timestamp == "2023-01-07"
    assert lists.first("main").timestamp == "2023-01-05"
    assert lists.get("main", datetime.date(2023, 1, 6)).joblist[0].id == "a-000000000003"
    assert lists.since("main", "2023-01-05") == ["2023-01-06", "2023-01-07"]
    assert lists.resolve("main~1").timestamp == "2023-01-06"
    assert lists.resolve("main@2023-01-05").timestamp == "2023-01-05"
    with pytest.raises(UrdError, match="has only 3 sessions"):
        lists.resolve("main~3")
    with pytest.raises(UrdError, match="no session at 2023-01-08"):
        lists.get("main", "2023-01-08")


def test_same_timestamp_same_jobs_is_a_noop_other_jobs_need_update(tmp_path: Path) -> None:
    lists = UrdLists(tmp_path)
    assert lists.record(session("2023-01-05", "a-000000000001"))
    assert not lists.record(session("2023-01-05", "a-000000000001"))
    assert len(read_lines(lists.path("main"))) == 1
    with pytest.raises(UrdError, match="pass update=True"):
        lists.record(session("2023-01-05", "b-000000000002"))
    assert lists.record(session("2023-01-05", "b-000000000002"), update=True)
    assert lists.latest("main").joblist[0].id == "b-000000000002"
    assert len(read_lines(lists.path("main"))) == 2  # the log keeps both


def test_truncate_hides_later_sessions_but_the_log_keeps_them(tmp_path: Path) -> None:
    lists = UrdLists(tmp_path)
    for day in (5, 6, 7):
        lists.record(session(f"2023-01-0{day}", f"a-00000000000{day}"))
    lists.truncate("main", "2023-01-06", "bob", "2026-01-01T00:00:00")
    assert [s.timestamp for s in lists.sessions("main")] == ["2023-01-05"]
    assert len(read_lines(lists.path("main"))) == 4
    lists.record(session("2023-01-08", "a-000000000008"))  # sessions after a truncate count
    assert [s.timestamp for s in lists.sessions("main")] == ["2023-01-05", "2023-01-08"]
    assert (lists.path("main")).read_text().count("\n") == 5  # readable with cat


def test_nested_list_names_and_listing(tmp_path: Path) -> None:
    lists = UrdLists(tmp_path)
    lists.record(session("2023-01-05", "a-000000000001", lst="nightly/eu"))
    lists.record(session("2023-01-05", "a-000000000001", lst="nightly"))
    assert lists.names() == ["nightly", "nightly/eu"]
    assert (tmp_path / "nightly" / "eu.urd").is_file()


def test_a_torn_last_line_is_ignored_and_repaired(tmp_path: Path) -> None:
    log = tmp_path / "x.urd"
    append_line(log, b"one\n")
    with open(log, "ab") as fh:
        fh.write(b'{"half')  # a crash in the middle of an append
    assert [line for _, line in read_lines(log)] == [b"one"]
    append_line(log, b"two\n")
    assert log.read_bytes() == b"one\ntwo\n"


def test_malformed_log_names_file_and_line(tmp_path: Path) -> None:
    lists = UrdLists(tmp_path)
    lists.record(session("2023-01-05", "a-000000000001"))
    with open(lists.path("main"), "ab") as fh:
        fh.write(b"not json\n")
    lists._cache.clear()
    with pytest.raises(UrdError, match=r"main.urd:2: malformed urd entry"):
        lists.sessions("main")


def test_append_refuses_more_than_one_line(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        append_line(tmp_path / "x", b"a\nb\n")


def test_lock_is_exclusive_and_stale_locks_are_taken_over(tmp_path: Path) -> None:
    target = tmp_path / "f"
    with locked(target):
        with pytest.raises(LockTimeout, match="is locked by"):
            with locked(target, timeout=0.1):
                pass
    import socket

    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    (tmp_path / "f.lock").write_text(f"{socket.gethostname()} {dead}")
    with locked(target, timeout=2):  # the holder is gone: taken over at once
        pass
    assert not (tmp_path / "f.lock").exists()


# ---- the urd API in real builds ------------------------------------------------------------


@pytest.fixture
def twojobs(proj: ProjectDir) -> ProjectDir:
    proj.method("a", "options = dict(x=0)\ndef synthesis():\n    return options.x\n")
    proj.method("b", "jobs = ('src',)\ndef synthesis():\n    return jobs.src.load() + 1\n")
    return proj


def test_begin_finish_records_a_session_with_its_joblist(twojobs: ProjectDir) -> None:
    twojobs.build_script(
        """
        def main(urd):
            urd.begin("main", "2023-01-05", caption="first")
            a = urd.build("a", x=1)
            urd.build("b", src=a, name="second")
            assert urd.joblist.get("second").load() == 2
            assert urd.joblist.get("a") == a and urd.joblist[-1].method == "b"
            urd.finish("main")
        """
    )
    run_build(twojobs.project())
    lists = UrdLists(twojobs.project().store.root / "urd")
    s = lists.latest("main")
    assert (s.timestamp, s.caption, s.script) == ("2023-01-05", "first", "build.py")
    assert [(j.name, j.method, j.built) for j in s.joblist] == [
        ("a", "a", True),
        ("second", "b", True),
    ]
    assert s.script_blob and twojobs.project().store.objects.has(s.script_blob)
    run_build(twojobs.project())  # same timestamp, same jobs: a no-op
    assert len(read_lines(lists.path("main"))) == 1


def test_reads_are_recorded_as_deps_and_peek_is_not(twojobs: ProjectDir) -> None:
    twojobs.build_script(
        """
        def main(urd):
            urd.begin("import", "2023-01-05")
            urd.build("a", x=1)
            urd.finish("import")
            urd.begin("import", "2023-01-06")
            urd.build("a", x=2)
            urd.finish("import")
            urd.begin("process", "2023-01-07")
            first = urd.first("import")
            urd.peek_latest("import")
            urd.build("b", src=first.joblist.get("a"))
            assert urd.since("import", "2023-01-05") == ["2023-01-06"]
            urd.finish("process")
        """
    )
    run_build(twojobs.project())
    lists = UrdLists(twojobs.project().store.root / "urd")
    assert lists.latest("process").deps == (("import", "2023-01-05"),)


def test_a_failed_build_records_nothing(twojobs: ProjectDir) -> None:
    twojobs.build_script(
        """
        def main(urd):
            urd.begin("main", "2023-01-05")
            urd.build("a", x=1)
            raise RuntimeError("stop")
        """
    )
    with pytest.raises(Exception, match="stop"):
        run_build(twojobs.project())
    assert UrdLists(twojobs.project().store.root / "urd").names() == []


def test_unfinished_or_mismatched_sessions_are_errors(twojobs: ProjectDir) -> None:
    twojobs.build_script("def main(urd):\n    urd.begin('main')\n    urd.build('a')\n")
    with pytest.raises(Exception, match=r"urd.begin\('main'\) was never finished"):
        run_build(twojobs.project())
    twojobs.build_script("def main(urd):\n    urd.begin('main')\n    urd.finish('other')\n")
    with pytest.raises(UrdError, match=r"no session of that list is open \('main' is\)"):
        run_build(twojobs.project())
    twojobs.build_script("def main(urd):\n    urd.begin('main')\n    urd.abort()\n")
    run_build(twojobs.project())
    assert UrdLists(twojobs.project().store.root / "urd").names() == []


def test_truncate_from_a_build_script(twojobs: ProjectDir) -> None:
    twojobs.build_script(
        """
        def main(urd):
            for day in (5, 6, 7):
                urd.begin("main", "2023-01-0%d" % day)
                urd.build("a", x=day)
                urd.finish("main")
            urd.truncate("main", "2023-01-06")
            assert urd.latest("main").timestamp == "2023-01-05"
        """
    )
    run_build(twojobs.project())


def test_concurrent_finishes_at_one_timestamp_cannot_both_win(tmp_path: Path) -> None:
    """Two processes finish a session at the same timestamp with different jobs: the
    check and the append happen under one lock, so exactly one is recorded."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(8)
    results = ctx.Queue()

    def finish(n: int) -> None:
        barrier.wait()
        jobs = (JobEntry("a", "a", f"a-00000000000{n}", f"{n:064x}", True),)
        mine = Session("main", "2023-01-05", "2026-01-01T00:00:00", "alice", joblist=jobs)
        try:
            results.put("recorded" if UrdLists(tmp_path).record(mine) else "no-op")
        except UrdError:
            results.put("refused")

    procs = [ctx.Process(target=finish, args=(n,)) for n in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    outcomes = sorted(results.get(timeout=5) for _ in procs)
    assert outcomes == ["recorded"] + ["refused"] * 7
    assert len(read_lines(UrdLists(tmp_path).path("main"))) == 1
