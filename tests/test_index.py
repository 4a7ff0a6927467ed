"""The job index: one suite for memory and disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitax.store.index import (
    DiskJobIndex,
    IndexCorrupt,
    JobIndex,
    MemoryJobIndex,
    format_entry,
    parse_entry,
)

KEY = "3f2a" + "0" * 60
MANIFEST = "ab" * 32


@pytest.fixture(params=["memory", "disk"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> JobIndex:
    return MemoryJobIndex() if request.param == "memory" else DiskJobIndex(tmp_path / "index")


def test_put_get(index: JobIndex) -> None:
    assert index.get(KEY) is None
    index.put(KEY, MANIFEST)
    assert index.get(KEY) == MANIFEST
    assert list(index.keys()) == [KEY]


def test_prefix_lookup(index: JobIndex) -> None:
    other = "3f2b" + "1" * 60
    index.put(KEY, MANIFEST)
    index.put(other, MANIFEST)
    assert index.keys_with_prefix("3f2a") == [KEY]
    assert index.keys_with_prefix("3f2") == sorted([KEY, other])
    assert index.keys_with_prefix("ffff") == []


def test_put_refuses_a_non_object_id(index: JobIndex) -> None:
    with pytest.raises(ValueError):
        index.put(KEY, "not-an-id")


def test_entry_format_names_the_manifest_and_its_own_key() -> None:
    assert format_entry(MANIFEST, KEY) == f"{MANIFEST} {KEY}\n".encode()
    assert parse_entry(format_entry(MANIFEST, KEY), KEY) == MANIFEST
    assert parse_entry(format_entry(MANIFEST, KEY), "ef" * 32) is None  # another key's
    assert parse_entry(MANIFEST.encode() + b"\n", KEY) == MANIFEST  # written before keys
    assert parse_entry(format_entry(MANIFEST, KEY)[:-1]) is None  # no newline: a torn write
    assert parse_entry(b"zz\n") is None


def test_damaged_disk_entry_is_an_error_naming_the_file(tmp_path: Path) -> None:
    index = DiskJobIndex(tmp_path)
    index.put(KEY, MANIFEST)
    path = tmp_path / KEY[:2] / KEY[2:]
    path.write_bytes(b"half")
    with pytest.raises(IndexCorrupt, match=str(path)):
        index.get(KEY)
