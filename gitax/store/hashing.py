"""Canonical encodings and type-prefixed hashes (pure functions; see docs/format.md)."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from collections.abc import Callable
from typing import Any

HASH_NAME = "sha256"
HEX_LEN = 64

# Values JSON cannot hold are written as {TAG: kind, "v": text}; a user dict holding TAG
# is refused when options are checked, so the encoding stays unambiguous.
TAG = "__gitax__"

Untag = Callable[[str, Any], Any]  # (kind, plain value) -> the object it stands for


def to_jsonable(value: Any) -> Any:
    """Turn an option-like value into plain JSON, tagging datetimes, dates, times,
    timedeltas and jobs (anything with a `tagged()` giving its kind and plain value)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime.timedelta):
        # Whole microseconds, so that equal durations key the same however they were made.
        return {TAG: "timedelta", "v": value // datetime.timedelta(microseconds=1)}
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
    tagged = getattr(value, "tagged", None)
    if tagged is not None:
        kind, plain = tagged()
        return {TAG: kind, "v": to_jsonable(plain)}
    raise TypeError(f"cannot encode {type(value).__name__} canonically")


def from_jsonable(value: Any, untag: Untag | None = None) -> Any:
    """Invert to_jsonable. Jobs (kinds "job" and "jobwithfile") become objects only
    through `untag`, which the jobs layer gives; without it they stay tagged dicts."""
    if isinstance(value, list):
        return [from_jsonable(v, untag) for v in value]
    if isinstance(value, dict):
        kind = value.get(TAG)
        if kind is not None and set(value) == {TAG, "v"}:
            return _untag(kind, value["v"], untag)
        return {k: from_jsonable(v, untag) for k, v in value.items()}
    return value


def _untag(kind: str, plain: Any, untag: Untag | None) -> Any:
    if kind == "timedelta":
        return datetime.timedelta(microseconds=plain)
    if kind in ("job", "jobwithfile"):
        if untag is None:
            return {TAG: kind, "v": plain}
        return untag(kind, from_jsonable(plain, untag))
    parse = {
        "datetime": datetime.datetime.fromisoformat,
        "date": datetime.date.fromisoformat,
        "time": datetime.time.fromisoformat,
    }[kind]
    return parse(plain)


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
