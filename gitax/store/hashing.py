"""Canonical encodings and type-prefixed hashes (pure functions; see docs/format.md)."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from typing import Any

HASH_NAME = "sha256"
HEX_LEN = 64

# Values JSON cannot hold are written as {TAG: kind, "v": text}; a user dict holding TAG
# is refused when options are checked, so the encoding stays unambiguous.
TAG = "__gitax__"


def to_jsonable(value: Any) -> Any:
    """Turn an option-like value into plain JSON, tagging datetimes, dates and times."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime.datetime):
        return {TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, datetime.date):
        return {TAG: "date", "v": value.isoformat()}
    if isinstance(value, datetime.time):
        return {TAG: "time", "v": value.isoformat()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    raise TypeError(f"cannot encode {type(value).__name__} canonically")


def from_jsonable(value: Any) -> Any:
    """Invert to_jsonable."""
    if isinstance(value, list):
        return [from_jsonable(v) for v in value]
    if isinstance(value, dict):
        kind = value.get(TAG)
        if kind is not None and set(value) == {TAG, "v"}:
            parse = {
                "datetime": datetime.datetime.fromisoformat,
                "date": datetime.date.fromisoformat,
                "time": datetime.time.fromisoformat,
            }[kind]
            return parse(value["v"])
        return {k: from_jsonable(v) for k, v in value.items()}
    return value


def canonical_json(value: Any) -> bytes:
    """The one byte string for a value: sorted keys, no spaces, UTF-8, datetimes tagged."""
    return json.dumps(
        to_jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def object_hasher(obj_type: str) -> Any:
    """A running hash for an object of `obj_type`: sha256 over b'<type>\\0' + content."""
    h = hashlib.sha256()
    h.update(obj_type.encode("ascii") + b"\0")
    return h


def object_id(obj_type: str, content: bytes) -> str:
    """The id of an object: hex sha256 of its type, a NUL, and its content."""
    h = object_hasher(obj_type)
    h.update(content)
    return h.hexdigest()


def object_id_of_file(obj_type: str, path: str | os.PathLike[str]) -> str:
    """The id a file's content would have as an object of `obj_type`, read in chunks."""
    h = object_hasher(obj_type)
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return str(h.hexdigest())


def git_blob_id(data: bytes) -> str:
    """The id git gives a file's content: sha1 of b'blob <size>\\0' + content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def is_object_id(text: str) -> bool:
    """Is `text` a well-formed object id (64 lower-case hex digits)?"""
    return len(text) == HEX_LEN and all(c in "0123456789abcdef" for c in text)
