"""Trees and manifests: format/parse pairs and hostile paths."""

from __future__ import annotations

import dataclasses

import pytest

from gitax.jobs.manifest import (
    Manifest,
    ManifestError,
    TreeEntry,
    format_manifest,
    format_tree,
    parse_manifest,
    parse_tree,
)

OID = "ab" * 32


def test_tree_round_trip_and_exact_bytes() -> None:
    entries = {"b.txt": TreeEntry(OID, 3), "a/x.bin": TreeEntry(OID, 0, True)}
    data = format_tree(entries)
    assert data == (
        b'{"files":{"a/x.bin":{"exec":true,"id":"' + OID.encode() + b'","size":0},'
        b'"b.txt":{"exec":false,"id":"' + OID.encode() + b'","size":3}},"format":1}'
    )
    assert parse_tree(data) == entries


@pytest.mark.parametrize(
    "path", ["../etc/passwd", "/abs", "a/../../b", "a//b", "./a", "a\nb", "", "a\\b", "x/.."]
)
def test_hostile_tree_paths_are_refused(path: str) -> None:
    data = b'{"format":1,"files":{%s:{"id":"%s","size":1}}}' % (
        ('"' + path.replace("\\", "\\\\").replace("\n", "\\n") + '"').encode(),
        OID.encode(),
    )
    with pytest.raises(ManifestError):
        parse_tree(data)
    with pytest.raises(ManifestError):
        format_tree({path: TreeEntry(OID, 1)})


def test_manifest_round_trip() -> None:
    m = Manifest(
        key="cd" * 32,
        method="train",
        id="train-cdcdcdcdcdcd",
        options={"lr": 0.5},
        jobs={"data": {"id": "clean-abababababab", "key": OID}},
        sources={"methods/a_train.py": OID},
        files=OID,
        value=OID,
        output={"synthesis": OID},
        timing={"wall": 1.5},
        env={"python": "3.11.7"},
        git={"commit": None},
    )
    assert parse_manifest(format_manifest(m)) == m
    assert b"value_inline" not in format_manifest(m)  # the same bytes as before it existed
    small = dataclasses.replace(m, value=None, value_inline="gAROLg==")
    assert parse_manifest(format_manifest(small)) == small


@pytest.mark.parametrize(
    "data, message",
    [
        (b"not json", "malformed"),
        (b"[]", "not an object"),
        (b'{"format":2}', "format 2 is not supported"),
        (b'{"format":1,"key":"x"}', "missing"),
    ],
)
def test_malformed_manifests_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        parse_manifest(data)


def _doc(**changes: object) -> bytes:
    import json

    doc = {
        "format": 1,
        "key": "cd" * 32,
        "method": "train",
        "id": "train-cdcdcdcdcdcd",
        "options": {},
        "jobs": {},
        "sources": {},
        "files": OID,
        "value": None,
    }
    doc.update(changes)
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"method": "../evil", "id": "../evil-cdcdcdcdcdcd"}, "bad method"),
        ({"key": "zz"}, "bad method .* or key"),
        ({"id": "other-cdcdcdcdcdcd"}, "does not match its key"),
        ({"files": "not-an-id"}, "bad object id"),
        ({"sources": {"../x.py": OID}}, "unsafe path"),
        ({"value": OID, "value_inline": "gAQ="}, "both inline and in a blob"),
        ({"value_inline": "not base64!"}, "not base64"),
        ({"value_inline": 7}, "not base64"),
    ],
)
def test_hostile_manifests_are_refused(changes: dict, message: str) -> None:
    assert parse_manifest(_doc()).method == "train"
    with pytest.raises(ManifestError, match=message):
        parse_manifest(_doc(**changes))
