"""Ingesting a finished job into the store, in the order that makes it crash safe."""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
from pathlib import Path
from typing import Any

from gitax.failpoints import failpoint
from gitax.jobs.dsinputs import dataset_refs
from gitax.jobs.job import OUTPUT_DIR, Job
from gitax.jobs.manifest import (
    INLINE_VALUE,
    Manifest,
    TreeEntry,
    format_manifest,
    format_tree,
)
from gitax.jobs.project import Project
from gitax.jobs.workdir import own_copy, seal, sealed_mtime
from gitax.run.jobspec import JobSpec
from gitax.store.fsutil import file_mode, made_dir
from gitax.store.hashing import git_blob_id, to_jsonable


def _inputs_for_manifest(jobs: dict[str, Job | list[Job] | None]) -> dict[str, Any]:
    def one(j: Job) -> dict[str, str]:
        return {"id": j.id, "key": j.key}

    return {
        name: [one(j) for j in v] if isinstance(v, list) else (one(v) if v else None)
        for name, v in jobs.items()
    }


def _subjobs(ctl: Path) -> list[dict[str, str]]:
    path = ctl / "subjobs"
    if not path.exists():
        return []
    seen: dict[str, dict[str, str]] = {}
    for line in path.read_text().splitlines():
        jid, key = line.split()
        seen.setdefault(key, {"id": jid, "key": key})
    return list(seen.values())


def ingest(
    project: Project,
    spec: JobSpec,
    jobdir: Path,
    ctl: Path,
    result: dict[str, Any],
    timing: dict[str, Any],
    env: dict[str, Any],
    git: dict[str, Any],
) -> Job:
    """Store a finished job: blobs, tree, manifest, then the index entry (the commit point),
    then move its directory into the workdir."""
    store = project.store
    objects = store.objects
    names: list[str] = result["files"]
    entries = {}
    for name in names:
        path = jobdir / name
        own_copy(path)  # before it is hashed: a hard link's other name may change later
        st = path.stat()
        entries[name] = TreeEntry(
            objects.put_file("blob", path), st.st_size, bool(st.st_mode & 0o111)
        )
        failpoint("ingest.blobs")
    tree_id = objects.put_bytes("tree", format_tree(entries))
    output = {}
    out_dir = jobdir / OUTPUT_DIR
    if out_dir.is_dir():
        for name in sorted(os.listdir(out_dir)):
            output[name] = objects.put_file("blob", out_dir / name)
    value: bytes = result["value"]
    inline = len(value) <= INLINE_VALUE
    value_id = None if inline else objects.put_bytes("blob", value)
    for src in spec.method.sources:
        objects.put_bytes("blob", src.data)
    manifest = Manifest(
        key=spec.key,
        method=spec.method.name,
        id=spec.id,
        options=to_jsonable(spec.options),
        jobs=_inputs_for_manifest(spec.jobs),
        sources={s.relpath: s.object_id for s in spec.method.sources},
        files=tree_id,
        value=value_id,
        output=output,
        timing=timing,
        env=env,
        git=git,
        slices=spec.slices,
        profile=result["profile"],
        subjobs=_subjobs(ctl),
        git_blobs={s.relpath: git_blob_id(s.data) for s in spec.method.sources},
        inputs=result.get("inputs", {}),
        value_inline=base64.b64encode(value).decode("ascii") if inline else None,
        datasets=result.get("datasets") or {},
        dataset_inputs=dataset_refs(spec.datasets),
    )
    manifest_id = objects.put_bytes("manifest", format_manifest(manifest))
    failpoint("ingest.manifest")
    store.origins.forget(spec.key)  # built here: whatever a pull once noted is moot
    store.index.put(spec.key, manifest_id)  # the commit point
    failpoint("ingest.indexed")
    settle_workdir(jobdir, set(names), store.path("work", spec.id), sealed_mtime(manifest))
    return Job.from_key(project, spec.key, manifest)


def settle_workdir(jobdir: Path, keep: set[str], final: Path, mtime: int) -> None:
    """Make the run directory look exactly like a materialised job (its own files, read
    only, sealed) and move it into place."""
    for dirpath, dirnames, filenames in os.walk(jobdir, topdown=False):
        rel_dir = os.path.relpath(dirpath, jobdir)
        if rel_dir == OUTPUT_DIR:
            continue
        for f in filenames:
            rel = f if rel_dir == "." else f"{rel_dir}/{f}"
            path = os.path.join(dirpath, f)
            if rel in keep and not os.path.islink(path):
                os.chmod(path, file_mode(0o555 if os.stat(path).st_mode & 0o111 else 0o444))
            else:
                os.unlink(path)  # not stored, so it would vanish on eviction anyway
        for d in dirnames:
            path = os.path.join(dirpath, d)
            if os.path.islink(path):
                os.unlink(path)
                continue
            with contextlib.suppress(OSError):
                os.rmdir(path)  # only empty ones
    seal(jobdir, mtime)
    made_dir(final.parent)
    if final.exists():
        shutil.rmtree(final)
    os.rename(jobdir, final)
