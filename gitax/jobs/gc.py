"""gc: remove what nothing reaches, and (with workdirs) evict materialised jobs.

Roots: every job named by any line of any urd log (truncated ones too, like git's
reflog), the jobs of each build script's latest run and latest successful run (and every
build record, which is small), the results of gitax.lock in the work tree, and every job
stored within the grace period. Everything upstream of a root is kept. An object is
removed only when no kept job reaches it and it is older than the grace period; a removed
job's work folder goes with it, and so do the folders of failed runs. gc holds
the store lock exclusively, so no build or pull runs meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from gitax.failpoints import failpoint
from gitax.jobs.buildlog import BuildLogs, record_objects
from gitax.jobs.graph import walk
from gitax.jobs.job import load_manifest
from gitax.jobs.keys import job_id
from gitax.jobs.manifest import job_objects
from gitax.jobs.project import Project, projects
from gitax.jobs.resultlock import read_lock
from gitax.jobs.urdlog import log_sessions, session_keys
from gitax.store.store import Store
from gitax.store.storelock import exclusive, reading

GRACE_DAYS = 14.0


@dataclass
class GcReport:
    """What gc removed (or, dry, would remove)."""

    jobs: list[str] = field(default_factory=list)  # keys
    job_ids: list[str] = field(default_factory=list)  # the same jobs, by id
    objects: int = 0
    bytes: int = 0
    workdirs: int = 0  # folders of removed jobs, and with --workdirs every evicted one
    workdir_bytes: int = 0
    failed: int = 0  # kept failed runs (failed/<id>)
    failed_bytes: int = 0
    kept_jobs: int = 0
    kept_objects: int = 0
    kept_workdirs: int = 0  # with --workdirs: the folders results/ links into


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _roots(project: Project, cutoff: float, listed: list[str]) -> tuple[set[str], set[str]]:
    """(root job keys, root object ids): what urd lists and build records name, the
    results of every project using the store, and the jobs in `listed` indexed lately."""
    store = project.store
    urd = store.urd
    logs = sorted(urd.rglob("*.urd")) if urd.is_dir() else []
    keys, blobs = session_keys(s for log in logs for s in log_sessions(log.read_bytes(), str(log)))
    for root in {Path(os.path.realpath(project.root)), *projects(store)}:
        keys |= {r.key for r in read_lock(root).values()}
    records, build_keys = record_objects(store.objects, BuildLogs(store.builds))
    keys |= build_keys
    blobs |= records
    for key in listed:
        with contextlib.suppress(FileNotFoundError):
            if store.index.path(key).stat().st_mtime >= cutoff:
                keys.add(key)
    return keys, blobs


def gc(
    project: Project, grace_days: float = GRACE_DAYS, workdirs: bool = False, dry_run: bool = False
) -> GcReport:
    """Remove unreachable jobs and objects older than the grace period."""
    store = project.store
    report = GcReport()
    cutoff = time.time() - grace_days * 86400
    with (reading if dry_run else exclusive)(store.root):
        # Listed once: a job indexed after this (by a push into this store that did not
        # wait for gc) is not a candidate, whatever its age.
        listed = list(store.index.keys())
        root_keys, objects_kept = _roots(project, cutoff, listed)

        def keep(key: str) -> frozenset[str] | None:
            manifest_id = store.index.get(key)
            if manifest_id is None:
                return None  # named by a log, but not (or no longer) stored
            needs = job_objects(store.objects, key, manifest_id)
            objects_kept.update(needs.ids())
            return needs.upstream

        kept = set(walk(sorted(root_keys), keep))
        report.kept_jobs = len(kept)
        kept_prefixes = {k[:12] for k in kept}  # a job id is <method>-<key[:12]>
        gone: set[str] = set()  # the work folders of removed jobs
        for key in sorted(set(listed) - kept):
            jid = job_id(_method(project, key), key)
            report.jobs.append(key)
            report.job_ids.append(jid)
            wd = store.path("work", jid)
            if wd.is_dir() and key[:12] not in kept_prefixes:
                gone.add(jid)
                report.workdirs += 1
                report.workdir_bytes += _size(wd)
            if not dry_run:  # the index entry goes first: the job is gone before its parts
                os.unlink(store.index.path(key))
                origin = store.origins.path(key)
                if origin.exists():
                    os.unlink(origin)
                if jid in gone:
                    _evict(store, wd)
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
            linked = {r.job for r in read_lock(project.root).values()}
            for wd in sorted(store.work.iterdir()):
                if wd.name in linked:  # results/ links into it: it must stay readable
                    report.kept_workdirs += 1
                    continue
                if wd.name in gone:
                    continue  # a removed job's, counted above
                report.workdirs += 1
                report.workdir_bytes += _size(wd)
                if not dry_run:
                    _evict(store, wd)
        if store.failed.is_dir():
            # Kept only for a look at what went wrong: nothing refers to them, and no build
            # runs beside gc, so every one goes, whatever its age.
            for run in sorted(store.failed.iterdir()):
                report.failed += 1
                report.failed_bytes += _size(run)
                if not dry_run:
                    _evict(store, run)
        if not dry_run and store.tmp.is_dir():
            # No build holds the store: what is left in tmp/ belonged to killed ones.
            for leftover in store.tmp.iterdir():
                _rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    return report


def _method(project: Project, key: str) -> str:
    return load_manifest(project, key).method


def _evict(store: Store, folder: Path) -> None:
    """Remove a folder: out of the way in one rename (so nothing sees half of it), then
    deleted."""
    store.tmp.mkdir(parents=True, exist_ok=True)
    away = store.tmp / f"evict-{folder.name}-{os.getpid()}"
    os.rename(folder, away)
    _rmtree(away)


REMOVAL_ORDER = {"build": 0, "manifest": 0, "tree": 1, "blob": 2}


def _rmtree(path: Path) -> None:
    def make_writable(func, p, _exc):  # type: ignore[no-untyped-def]
        os.chmod(os.path.dirname(p), 0o755)
        func(p)

    shutil.rmtree(path, onerror=make_writable)
