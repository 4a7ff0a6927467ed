"""The upstream graph of a job: input jobs down to input files and source files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gitax.errors import GitaxError
from gitax.jobs.graph import walk
from gitax.jobs.job import Job
from gitax.jobs.project import Project
from gitax.jobs.resultlock import LockedResult, read_lock


def lineage(job: Job) -> dict[str, Any]:
    """{"root": id, "nodes": {id: node}}: every job upstream of `job`, each once, with its
    sources (git blob ids), input files (sha256) and the jobs it was built from: input
    jobs (by parameter), subjobs and jobs given as option values."""
    jobs = {job.key: job}
    edges: dict[str, list[tuple[str, str]]] = {}  # key -> (parameter, upstream key)

    def upstream_of(key: str) -> set[str]:
        edges[key] = jobs.setdefault(key, Job.from_key(job.project, key)).manifest.upstream_edges()
        return {k for _, k in edges[key]}

    nodes: dict[str, Any] = {}
    for key in walk([job.key], upstream_of):
        j, m = jobs[key], jobs[key].manifest
        nodes[j.id] = {
            "id": j.id,
            "method": m.method,
            "commit": m.git.get("commit"),
            "options": m.options,
            "sources": [
                {"path": p, "git": m.git_blobs.get(p), "object": oid}
                for p, oid in sorted(m.sources.items())
            ],
            "inputs": [dict(path=p, **info) for p, info in sorted(m.inputs.items())],
            "jobs": [{"param": param, "id": jobs[k].id} for param, k in edges[key]],
        }
    return {"root": job.id, "nodes": nodes}


def resolve_result(project: Project, arg: str, cwd: str) -> LockedResult | None:
    """The gitax.lock entry a path names (`results/graph.png`, or `graph.png`), if any."""
    results = read_lock(project.root)
    if arg in results:
        return results[arg]
    full = Path(os.path.abspath(os.path.join(cwd, arg)))
    folder = Path(os.path.abspath(project.config.results))
    if full.is_relative_to(folder):
        rel = full.relative_to(folder).as_posix()
        if rel in results:
            return results[rel]
        raise GitaxError(
            f"{arg} is not a result in gitax.lock; results: {', '.join(results) or 'none'}"
        )
    return None
