"""Job keys: the hash that names a job before it runs (see docs/format.md, "Job keys")."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from gitax.store.hashing import canonical_json

KEY_FORMAT = 1
KEY_PREFIX = b"gitax-job-key\0"
ID_HEX = 12

InputKeys = dict[str, "str | list[str] | None"]


def key_document(
    method: str,
    sources: Iterable[tuple[str, str]],
    options: dict[str, Any],
    jobs: InputKeys,
    slices: int | None = None,
    datasets: InputKeys | None = None,
) -> dict[str, Any]:
    """The structure a job key hashes: everything that can change what a job computes.
    `slices` joins only for methods with analysis(), whose results depend on it, and
    `datasets` (`<job key>/<name>` each) only for methods that declare them."""
    doc = {
        "format": KEY_FORMAT,
        "method": method,
        "sources": dict(sources),
        "options": options,
        "jobs": jobs,
    }
    if slices is not None:
        doc["slices"] = slices
    if datasets is not None:
        doc["datasets"] = datasets
    return doc


def job_key(
    method: str,
    sources: Iterable[tuple[str, str]],
    options: dict[str, Any],
    jobs: InputKeys,
    slices: int | None = None,
    datasets: InputKeys | None = None,
) -> str:
    """sha256 over a type prefix and the canonical key document."""
    doc = key_document(method, sources, options, jobs, slices, datasets)
    return hashlib.sha256(KEY_PREFIX + canonical_json(doc)).hexdigest()


def job_id(method: str, key: str) -> str:
    """The printable name of a job: `<method>-<first 12 hex digits of its key>`."""
    return f"{method}-{key[:ID_HEX]}"
