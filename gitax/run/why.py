"""Why a job must run: how it differs from the newest stored job of the same method."""

from __future__ import annotations

import contextlib
from pathlib import Path

from gitax.jobs.job import load_manifest
from gitax.jobs.manifest import Manifest
from gitax.jobs.project import Project
from gitax.jobs.withfile import untag_job
from gitax.run.jobspec import JobSpec
from gitax.store import layout
from gitax.store.hashing import from_jsonable, is_object_id, to_jsonable


def note_latest(store_root: Path, method: str, key: str) -> None:
    """Remember the newest stored job of a method. Advisory (only `why` reads it), so a
    plain overwrite will do: a torn one reads as "new method", never as a wrong reason."""
    path = layout.path(store_root, "latest", method)
    try:
        path.write_bytes(key.encode() + b"\n")
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(key.encode() + b"\n")


def _latest(project: Project, method: str) -> Manifest | None:
    path = project.store.path("latest", method)
    with contextlib.suppress(OSError, ValueError):
        key = path.read_text().strip()
        if is_object_id(key):
            return load_manifest(project, key)
    return None


def why(project: Project, spec: JobSpec, old: Manifest | None = None) -> list[str]:
    """Short reasons, e.g. 'option lr: 0.1 -> 0.2', 'source changed: methods/a_train.py',
    against `old` or else the newest stored job of the method."""
    if old is None:
        try:
            old = _latest(project, spec.method.name)
        except Exception:
            old = None
    if old is None:
        return ["new method"]
    reasons = []
    new_sources = {s.relpath: s.blob_id for s in spec.method.sources}
    own = spec.method.sources[0].relpath
    for path in sorted(set(old.sources) | set(new_sources)):
        a, b = old.sources.get(path), new_sources.get(path)
        if path == own and a in spec.method.equivalent_sources:
            continue  # declared equivalent (equivalent_hashes): not a reason
        if a != b:
            what = "added" if a is None else "removed" if b is None else "changed"
            reasons.append(f"source {what}: {path}")
    old_opts, new_opts = from_jsonable(old.options, untag_job), spec.options
    for name in sorted(set(old_opts) | set(new_opts)):
        if to_jsonable(old_opts.get(name)) != to_jsonable(new_opts.get(name)):
            reasons.append(f"option {name}: {old_opts.get(name)!r} -> {new_opts.get(name)!r}")
    old_ids = old.input_ids()
    for name, value in spec.jobs.items():
        new_ids = [j.id for j in value] if isinstance(value, list) else (value and value.id)
        if old_ids.get(name) != new_ids:
            reasons.append(f"input {name}: {old_ids.get(name)} -> {new_ids}")
    if old.slices != spec.slices:
        reasons.append(f"slices: {old.slices} -> {spec.slices}")
    return reasons or ["not stored (its parameters match no stored job)"]
