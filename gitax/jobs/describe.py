"""Everything stored about a job as plain data, for `gitax show`."""

from __future__ import annotations

import reprlib
from dataclasses import asdict
from typing import Any

from gitax.jobs.job import Job
from gitax.jobs.manifest import parse_tree


def source_hash(method: str, sources: dict[str, str]) -> str:
    """The hash of the method's own file (`a_<method>.py`) among a job's sources: what
    equivalent_hashes lists."""
    own = [oid for path, oid in sources.items() if path.rsplit("/", 1)[-1] == f"a_{method}.py"]
    return own[0] if own else ""


def file_sizes(job: Job) -> dict[str, dict[str, Any]]:
    """The job's files, sorted, each with its object id, size and exec bit."""
    tree = parse_tree(job.project.store.objects.get_bytes(job.manifest.files, "tree"))
    return {path: asdict(e) for path, e in sorted(tree.items())}


def describe_job(job: Job) -> dict[str, Any]:
    """Everything in the job's manifest, its files with sizes, and its value's repr, as
    JSON-able data."""
    m = job.manifest
    workdir = job.project.store.path("work", job.id)
    short = reprlib.Repr()
    short.maxstring, short.maxother, short.maxlist, short.maxdict = 200, 200, 10, 10
    try:
        value: Any = job.load()
        value_text, value_type = short.repr(value), type(value).__name__
    except Exception as e:
        # A value whose class lives in a method module cannot be unpickled here; say so.
        value_text, value_type = f"<cannot unpickle here: {type(e).__name__}: {e}>", "unknown"
    # Every field of the manifest under its own name, then what show adds: the files
    # listed with sizes (the tree's id as `tree`), the value's repr (its blob as
    # `value_blob`), the source hash and the work folder.
    return {
        **asdict(m),
        "tree": m.files,
        "files": file_sizes(job),
        "value_blob": m.value,
        "value": value_text,
        "value_type": value_type,
        "source_hash": source_hash(m.method, m.sources),
        "workdir": str(workdir) if workdir.is_dir() else None,
    }
