"""gitax.lock: the project's results, the jobs that made them, and the sources behind them.

A committed TOML file, written by `job.link_result()` (see docs/format.md, "gitax.lock").
Results are sorted by path and sources by path, so that a rebuild changes few lines.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitax.config import toml_string
from gitax.errors import GitaxError
from gitax.jobs.manifest import check_relpath
from gitax.store.fsutil import atomic_write
from gitax.store.hashing import is_object_id
from gitax.store.lockfile import locked

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

LOCK_FILE = "gitax.lock"
LOCK_FORMAT = 1


class LockFileError(GitaxError):
    """gitax.lock is malformed."""


@dataclass(frozen=True)
class LockedResult:
    """One result: `results/<path>` is file `file` of job `job`."""

    path: str
    job: str
    key: str
    file: str
    blob: str  # the object id of the file's content
    size: int
    sources: tuple[tuple[str, str], ...]  # (project path, git blob id), of it and upstream
    inputs: tuple[tuple[str, str], ...] = ()  # (input file, sha256) read by it and upstream


def format_lock(results: dict[str, LockedResult]) -> str:
    """gitax.lock's text."""
    out = [
        "# gitax.lock: the results of this project and what made them.",
        "# Written by gitax (job.link_result); commit it with the code.",
        f"version = {LOCK_FORMAT}",
    ]
    for path in sorted(results):
        r = results[path]
        out += [
            "",
            "[[result]]",
            f"path = {toml_string(r.path)}",
            f"job = {toml_string(r.job)}",
            f"key = {toml_string(r.key)}",
            f"file = {toml_string(r.file)}",
            f"blob = {toml_string(r.blob)}",
            f"size = {r.size}",
            "sources = [",
            *(f"  [{toml_string(p)}, {toml_string(g)}]," for p, g in sorted(set(r.sources))),
            "]",
        ]
        if r.inputs:  # written only when there are some: older lock files read the same
            out += [
                "inputs = [",
                *(f"  [{toml_string(p)}, {toml_string(h)}]," for p, h in sorted(set(r.inputs))),
                "]",
            ]
    return "\n".join(out) + "\n"


def parse_lock(text: str, source: str = LOCK_FILE) -> dict[str, LockedResult]:
    """Parse gitax.lock; every problem names the file."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise LockFileError(f"{source}: not valid TOML: {e}") from None
    if doc.get("version") != LOCK_FORMAT:
        raise LockFileError(f"{source}: version {doc.get('version')!r} is not supported")
    results: dict[str, LockedResult] = {}
    for n, r in enumerate(doc.get("result", []), 1):
        try:
            entry = LockedResult(
                path=check_relpath(str(r["path"])),
                job=str(r["job"]),
                key=str(r["key"]),
                file=check_relpath(str(r["file"])),
                blob=str(r["blob"]),
                size=int(r["size"]),
                sources=tuple((check_relpath(str(p)), str(g)) for p, g in r["sources"]),
                inputs=tuple((str(p), str(h)) for p, h in r.get("inputs", [])),
            )
        except (KeyError, TypeError, ValueError, GitaxError) as e:
            raise LockFileError(f"{source}: result {n} is malformed: {e}") from None
        if not (is_object_id(entry.key) and is_object_id(entry.blob)):
            raise LockFileError(f"{source}: result {n} ({entry.path}) has a bad key or blob id")
        results[entry.path] = entry
    return results


def read_lock(root: Path) -> dict[str, LockedResult]:
    """The project's gitax.lock, or nothing if there is none."""
    path = root / LOCK_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    return parse_lock(text, str(path))


def record(root: Path, result: LockedResult) -> None:
    """Add or replace one result in gitax.lock, under its lock, atomically."""
    path = root / LOCK_FILE
    with locked(path):
        results = read_lock(root)
        results[result.path] = result
        atomic_write(path, format_lock(results).encode())


def upstream_inputs(jobs: list[Any]) -> tuple[tuple[str, str], ...]:
    """(input file, sha256) of every input file these jobs read."""
    found = set()
    for job in jobs:
        found |= {(p, str(i.get("sha256"))) for p, i in job.manifest.inputs.items()}
    return tuple(sorted(found))


def upstream_sources(jobs: list[Any]) -> tuple[tuple[str, str], ...]:
    """(path, git blob id) of every source of these jobs' manifests."""
    from gitax.jobs.methods import is_standard_source

    found = set()
    for job in jobs:
        found |= {(p, g) for p, g in job.manifest.git_blobs.items() if not is_standard_source(p)}
    return tuple(sorted(found))
