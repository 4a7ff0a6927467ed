"""docs/format.md states formats with examples; check each example against the code."""

from __future__ import annotations

import datetime
from pathlib import Path

from gitax.jobs.keys import job_key
from gitax.jobs.manifest import TreeEntry, format_tree
from gitax.store.hashing import canonical_json, object_id
from gitax.store.index import format_entry
from gitax.store.objects import Header, format_header
from gitax.store.store import STORE_FORMAT, format_store_version

DOC = (Path(__file__).resolve().parent.parent / "docs" / "format.md").read_text()


def test_versions_match() -> None:
    assert f"Store format **{STORE_FORMAT}**" in DOC
    assert repr(format_store_version(STORE_FORMAT).decode())[1:-1] in DOC


def test_object_id_example() -> None:
    assert object_id("blob", b"hello") in DOC


def test_header_example() -> None:
    line = format_header(Header("blob", "zstd")).decode()
    assert line.replace("blob", "<type>").replace("zstd", "<encoding>").strip() in DOC


def test_tree_example() -> None:
    tree = format_tree({"model.json": TreeEntry("0" * 64, 123)}).decode()
    assert tree.replace("0" * 64, "<blob id>") in DOC


def test_tag_example() -> None:
    assert canonical_json(datetime.date(2023, 1, 5)).decode() in DOC


def test_key_example() -> None:
    key = job_key(
        "train",
        [("methods/a_train.py", "ab" * 32)],
        {"lr": 0.5, "when": datetime.date(2023, 1, 5)},
        {"data": "cd" * 32},
    )
    assert key in DOC


def test_index_entry_size() -> None:
    assert f"({len(format_entry('ab' * 32, 'cd' * 32))} bytes)" in DOC


def test_urd_entry_examples() -> None:
    from gitax.jobs.urdlog import JobEntry, Session, format_session, format_truncate

    s = Session(
        "main",
        "2023-01-05",
        "2023-01-05T09:12:44",
        "alice",
        "nightly fit",
        "build.py",
        "ab" * 32,
        (JobEntry("parse", "parse", "parse-62d22d723dbc", "cd" * 32, True),),
        (("import", "2023-01-04"),),
    )
    line = format_session(s).decode().strip()
    assert line.replace("cd" * 32, "cdcd…cd").replace("ab" * 32, "abab…ab") in DOC
    truncate = format_truncate("main", "2023-01-06", "2023-01-07T08:00:00", "bob").decode()
    assert truncate.strip() in DOC


def test_lock_example() -> None:
    from gitax.jobs.resultlock import LockedResult, format_lock, parse_lock

    entry = LockedResult(
        "graph.png",
        "plot_train-f0800a69b803",
        "ef" * 32,
        "graph.png",
        "12" * 32,
        6997,
        (("methods/a_plot_train.py", "c6bcc3413fe3b5b7a005021b3ce38497a6579fc1"),),
    )
    text = format_lock({"graph.png": entry})
    assert text.replace("ef" * 32, "efef…ef").replace("12" * 32, "1212…12") in DOC
    assert parse_lock(text) == {"graph.png": entry}
