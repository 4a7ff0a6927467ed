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


def describe_job(job: Job) -> dict[str, Any]:
    """The job's manifest, its files with sizes, and its value's repr, as JSON-able data."""
    m = job.manifest
    objects = job.project.store.objects
    tree = parse_tree(objects.get_bytes(m.files, "tree"))
    workdir = job.project.store.path("work", job.id)
    short = reprlib.Repr()
    short.maxstring, short.maxother, short.maxlist, short.maxdict = 200, 200, 10, 10
    try:
        value: Any = job.load()
        value_text, value_type = short.repr(value), type(value).__name__
    except Exception as e:
        # A value whose class lives in a method module cannot be unpickled here; say so.
        value_text, value_type = f"<cannot unpickle here: {type(e).__name__}: {e}>", "unknown"
    return {
        "id": job.id,
        "key": job.key,
        "method": m.method,
        "options": m.options,
        "jobs": m.jobs,
        "sources": m.sources,
        "source_hash": source_hash(m.method, m.sources),
        "files": {path: asdict(e) for path, e in sorted(tree.items())},
        "value": value_text,
        "value_type": value_type,
        "output": m.output,
        "timing": m.timing,
        "env": m.env,
        "git": m.git,
        "slices": m.slices,
        "profile": m.profile,
        "subjobs": m.subjobs,
        "workdir": str(workdir) if workdir.is_dir() else None,
    }
