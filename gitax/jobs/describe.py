"""Everything stored about a job as plain data, for `gitax show`."""

from __future__ import annotations

import reprlib
from dataclasses import asdict
from typing import Any

from gitax.jobs.job import Job
from gitax.jobs.manifest import parse_tree


def describe_job(job: Job) -> dict[str, Any]:
    """The job's manifest, its files with sizes, and its value's repr, as JSON-able data."""
    m = job.manifest
    objects = job.project.store.objects
    tree = parse_tree(objects.get_bytes(m.files, "tree"))
    workdir = job.project.store.work / job.id
    value = job.load()
    short = reprlib.Repr()
    short.maxstring, short.maxother, short.maxlist, short.maxdict = 200, 200, 10, 10
    return {
        "id": job.id,
        "key": job.key,
        "method": m.method,
        "options": m.options,
        "jobs": m.jobs,
        "sources": m.sources,
        "files": {path: asdict(e) for path, e in sorted(tree.items())},
        "value": short.repr(value),
        "value_type": type(value).__name__,
        "output": m.output,
        "timing": m.timing,
        "env": m.env,
        "git": m.git,
        "workdir": str(workdir) if workdir.is_dir() else None,
    }
