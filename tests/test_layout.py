"""The store's layout: one owner of every path, and ids checked before they form one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gitax.store import layout
from gitax.store.index import DiskJobIndex, MemoryJobIndex
from gitax.store.store import Store

KEY = "0123456789abcdef" * 4
HOSTILE = [
    "....",
    "..../../pwned",
    "../" + "a" * 61,
    "/" + "a" * 63,
    "a" * 63,
    "A" * 64,
    "a" * 62 + "\n",
    "",
    None,
    12,
]


def test_each_kind_has_one_path() -> None:
    root = Path("/s")
    assert layout.path(root, "object", KEY) == root / "objects" / KEY[:2] / KEY[2:]
    assert layout.relpath("index", KEY) == f"index/{KEY[:2]}/{KEY[2:]}"
    assert layout.relpath("origin", KEY) == f"origin/{KEY[:2]}/{KEY[2:]}"
    assert layout.relpath("lock", KEY) == f"locks/{KEY}"
    assert layout.relpath("urd", "nightly/eu") == "urd/nightly/eu.urd"
    assert layout.relpath("builds", "build_daily") == "builds/build_daily.log"
    assert layout.relpath("work", "train-0123456789ab") == "work/train-0123456789ab"
    assert layout.relpath("failed", "train-0123456789ab") == "failed/train-0123456789ab"
    assert layout.relpath("latest", "train") == "latest/train"
    assert layout.posix_join("/srv/g", "object", KEY) == f"/srv/g/objects/{KEY[:2]}/{KEY[2:]}"


@pytest.mark.parametrize("kind", ["object", "index", "origin", "lock"])
@pytest.mark.parametrize("bad", HOSTILE)
def test_hostile_keys_never_form_a_path(kind: str, bad: object) -> None:
    with pytest.raises(layout.BadId, match=f"not a valid {kind} id"):
        layout.path(Path("/s"), kind, bad)


@pytest.mark.parametrize(
    "kind, bad",
    [
        ("urd", "../x"),
        ("urd", "a/../b"),
        ("urd", ".hidden"),
        ("urd", "/abs"),
        ("urd", "x.lock"),
        ("builds", "../../etc/passwd"),
        ("work", "train-../../x"),
        ("work", "../train-0123456789ab"),
        ("failed", "a-0123456789ab/.."),
        ("latest", "../x"),
    ],
)
def test_hostile_names_never_form_a_path(kind: str, bad: str) -> None:
    with pytest.raises(layout.BadId):
        layout.relpath(kind, bad)


def test_listings_leave_out_what_cannot_be_a_record(tmp_path: Path) -> None:
    (tmp_path / "index" / KEY[:2]).mkdir(parents=True)
    (tmp_path / "index" / KEY[:2] / KEY[2:]).write_text("x")
    (tmp_path / "index" / KEY[:2] / "short").write_text("x")
    (tmp_path / "index" / "..x").mkdir()
    (tmp_path / "urd" / "a").mkdir(parents=True)
    (tmp_path / "urd" / "a" / "b.urd").write_text("")
    (tmp_path / "urd" / ".hidden.urd").write_text("")
    (tmp_path / "urd" / "main.urd.lock").write_text("")
    assert layout.list_folder(tmp_path, "index") == [KEY]
    assert layout.list_folder(tmp_path, "urd") == ["a/b"]
    assert layout.parse_relpath("urd", "../../x.urd") is None
    assert layout.parse_relpath("object", "../" + "a" * 62) is None
    assert layout.parse_relpath("object", f"{KEY[:2]}/{KEY[2:]}") == KEY


@pytest.mark.parametrize("index_kind", ["memory", "disk"])
def test_the_index_refuses_a_hostile_key_before_touching_disk(
    index_kind: str, tmp_path: Path
) -> None:
    (tmp_path / "pwned").write_text("ab" * 32 + "\n")  # what a traversal would find
    index = MemoryJobIndex() if index_kind == "memory" else DiskJobIndex(tmp_path / "s" / "index")
    with pytest.raises(layout.BadId):
        index.get("..../../../pwned")
    with pytest.raises(layout.BadId):
        index.put("..../../../pwned2", "ab" * 32)
    assert not (tmp_path / "pwned2").exists()
    assert index.keys_with_prefix("../") == []


def test_the_store_names_its_records_through_the_layout(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s")
    assert store.path("work", "m-0123456789ab") == store.work / "m-0123456789ab"
    with pytest.raises(layout.BadId):
        store.origins.record("..../../x", "team", "/x")
    assert not (tmp_path / "x").exists()


def test_no_module_but_the_layout_builds_store_paths() -> None:
    """`key[:2] / key[2:]` or `/ "objects"` outside layout.py is a path built by hand."""
    root = Path(__file__).resolve().parent.parent / "gitax"
    folders = "|".join(re.escape(f) for f, *_ in layout.KINDS.values())
    by_hand = re.compile(rf'\[:2\]\s*[/,]|/ "({folders})"|_p\("({folders})"')
    offenders = [
        f"{p.relative_to(root)}:{n}"
        for p in root.rglob("*.py")
        if p.name != "layout.py"
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if by_hand.search(line)
    ]
    assert offenders == []
