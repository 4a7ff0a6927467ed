"""gc: remove what nothing reaches, and (with workdirs) evict materialised jobs.

Roots: every job named by any line of any urd log (truncated ones too, like git's
reflog), the results of gitax.lock in the work tree, and every job stored within the
grace period. Everything upstream of a root is kept. An object is removed only when no
kept job reaches it and it is older than the grace period. gc holds the store lock
exclusively, so no build or pull runs meanwhile.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from gitax.failpoints import failpoint
from gitax.jobs.manifest import manifest_objects
from gitax.jobs.project import Project
from gitax.jobs.resultlock import read_lock
from gitax.jobs.urdlog import log_sessions, session_keys
from gitax.store.storelock import exclusive

GRACE_DAYS = 14.0


@dataclass
class GcReport:
    """What gc removed (or, dry, would remove)."""

    jobs: list[str] = field(default_factory=list)  # keys
    objects: int = 0
    bytes: int = 0
    workdirs: int = 0
    workdir_bytes: int = 0
    kept_jobs: int = 0
    kept_objects: int = 0


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _roots(project: Project, cutoff: float) -> tuple[set[str], set[str]]:
    """(root job keys, root object ids)."""
    store = project.store
    urd = store.urd
    logs = sorted(urd.rglob("*.urd")) if urd.is_dir() else []
    keys, blobs = session_keys(s for log in logs for s in log_sessions(log.read_bytes(), str(log)))
    keys |= {r.key for r in read_lock(project.root).values()}
    for key in store.index.keys():
        path = store.index.path(key)
        if path.stat().st_mtime >= cutoff:
            keys.add(key)
    return keys, blobs


def gc(
    project: Project, grace_days: float = GRACE_DAYS, workdirs: bool = False, dry_run: bool = False
) -> GcReport:
    """Remove unreachable jobs and objects older than the grace period."""
    store = project.store
    report = GcReport()
    cutoff = time.time() - grace_days * 86400
    with exclusive(store.root):
        root_keys, objects_kept = _roots(project, cutoff)
        kept: set[str] = set()
        todo = [k for k in root_keys if store.index.get(k) is not None]
        while todo:
            key = todo.pop()
            if key in kept:
                continue
            manifest_id = store.index.get(key)
            if manifest_id is None:
                continue
            kept.add(key)
            needed, upstream = manifest_objects(store.objects, manifest_id)
            objects_kept |= needed
            todo += [k for k in upstream if k not in kept]
        report.kept_jobs = len(kept)
        for key in sorted(set(store.index.keys()) - kept):
            report.jobs.append(key)
            if not dry_run:  # the index entry goes first: the job is gone before its parts
                os.unlink(store.index.path(key))
                origin = store.origins.path(key)
                if origin.exists():
                    os.unlink(origin)
        doomed = []
        for oid in store.objects.ids():
            path = store.objects.path(oid)
            if oid in objects_kept:
                report.kept_objects += 1
                continue
            st = path.stat()
            if st.st_mtime >= cutoff:
                continue  # fresh: perhaps a build's, or a pull's, still on its way
            report.objects += 1
            report.bytes += st.st_size
            doomed.append((REMOVAL_ORDER.get(store.objects.type_of(oid), 3), oid, path))
        # Referrers before what they refer to (the reverse of the write order), so a gc
        # stopped half-way never leaves a manifest or tree naming a removed object.
        for _, _, path in sorted(doomed):
            if not dry_run:
                os.unlink(path)
                failpoint("gc.objects")
        if workdirs and store.work.is_dir():
            for wd in sorted(store.work.iterdir()):
                report.workdirs += 1
                report.workdir_bytes += _size(wd)
                if not dry_run:  # out of the way in one rename, then deleted
                    away = store.tmp / f"evict-{wd.name}-{os.getpid()}"
                    store.tmp.mkdir(parents=True, exist_ok=True)
                    os.rename(wd, away)
                    _rmtree(away)
        if not dry_run and store.tmp.is_dir():
            # No build holds the store: what is left in tmp/ belonged to killed ones.
            for leftover in store.tmp.iterdir():
                _rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    return report


REMOVAL_ORDER = {"manifest": 0, "tree": 1, "blob": 2}


def _rmtree(path: Path) -> None:
    def make_writable(func, p, _exc):  # type: ignore[no-untyped-def]
        os.chmod(os.path.dirname(p), 0o755)
        func(p)

    shutil.rmtree(path, onerror=make_writable)
