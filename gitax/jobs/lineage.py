"""The upstream graph of a job: input jobs down to input files and source files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gitax.errors import GitaxError
from gitax.jobs.job import Job
from gitax.jobs.project import Project
from gitax.jobs.resultlock import LockedResult, read_lock


def lineage(job: Job) -> dict[str, Any]:
    """{"root": id, "nodes": {id: node}}: every job upstream of `job`, each once, with its
    sources (git blob ids), input files (sha256) and input jobs (by parameter)."""
    nodes: dict[str, Any] = {}
    todo = [job]
    while todo:
        j = todo.pop()
        if j.id in nodes:
            continue
        m = j.manifest
        edges = []
        for param, r in m.input_refs():
            edges.append({"param": param, "id": r["id"]})
            todo.append(Job.from_key(j.project, r["key"], method=r["id"].rsplit("-", 1)[0]))
        for s in m.subjobs:
            edges.append({"param": "(subjob)", "id": s["id"]})
            todo.append(Job.from_key(j.project, s["key"], method=s["id"].rsplit("-", 1)[0]))
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
            "jobs": edges,
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
