"""push and pull: the two directions of one transfer. Ask the other side what it has (one
listing), send only what it lacks, several at once, verified; objects first, then index
entries, then urd lists (merged, never overwritten)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from gitax.jobs.buildlog import (
    BuildLogError,
    BuildLogs,
    latest_records,
    latest_roots,
    log_entries,
    merge_build_logs,
    parse_record,
)
from gitax.jobs.manifest import ManifestError, indexed_manifest, manifest_objects
from gitax.jobs.urdlog import UrdLists, log_sessions, session_keys
from gitax.remote.merge import MergeResult, merge_logs
from gitax.remote.transport import RemoteError, Transport
from gitax.store.layout import BadId
from gitax.store.lockfile import locked
from gitax.store.objects import ObjectCorrupt, WrongType
from gitax.store.odb import DiskObjectDB, ObjectDB
from gitax.store.reflog import rewrite
from gitax.store.store import Store

WORKERS = 8
STALE_TMP = 3600.0  # seconds untouched: a remote temp file older than this is a killed push's
Progress = Callable[[str, int, int, int], None]  # (what, done, total, bytes so far)


@dataclass
class TransferReport:
    """What a push or pull moved."""

    objects: int = 0
    bytes: int = 0
    jobs: int = 0
    lists: dict[str, int] = field(default_factory=dict)  # list -> lines added
    builds: dict[str, int] = field(default_factory=dict)  # build script -> runs added
    conflicts: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # job keys the source lacks
    cleaned: int = 0  # stale temp files removed from the remote
    created: bool = False  # the push made a new store at the remote's path


def upstream_first(upstream_of: dict[str, set[str]]) -> list[str]:
    """The jobs in an order where each comes after every job upstream of it (an
    iterative post-order walk; job chains can be thousands long)."""
    order: list[str] = []
    done: set[str] = set()
    for start in sorted(upstream_of):
        if start in done:
            continue
        stack = [(start, sorted(upstream_of[start]))]
        while stack:
            node, pending = stack[-1]
            while pending and (pending[-1] in done or pending[-1] not in upstream_of):
                pending.pop()
            if pending:
                child = pending.pop()
                stack.append((child, sorted(upstream_of[child])))
            else:
                stack.pop()
                if node not in done:
                    done.add(node)
                    order.append(node)
    return order


def _merge(
    update: Callable[[str, Callable[[bytes], bytes]], None],
    name: str,
    incoming: bytes,
    report: TransferReport,
    where: str = "",
) -> None:
    """Merge `incoming` into an urd log through `update` (which holds the log's lock);
    `where` names the other side for errors in its lines."""
    results: list[MergeResult] = []

    def change(old: bytes) -> bytes:
        results.append(merge_logs(old, incoming, f"{where}: urd list {name}"))
        return results[-1].data

    update(name, change)
    report.lists[name] = results[-1].added
    report.conflicts += results[-1].conflicts


def _merge_builds(
    update: Callable[[str, str, Callable[[bytes], bytes]], None],
    name: str,
    incoming: bytes,
    report: TransferReport,
    where: str,
) -> None:
    """Merge a build log (a union of runs) through `update` (which holds its lock)."""
    added: list[int] = []

    def change(old: bytes) -> bytes:
        data, n = merge_build_logs(old, incoming, f"{where}: build log {name}")
        added.append(n)
        return data

    update("builds", name, change)
    report.builds[name] = added[-1]


def _parallel(
    items: list[str], work: Callable[[str], int], what: str, progress: Progress | None
) -> int:
    """Run work(item) on WORKERS threads (hashing, zstd and I/O release the GIL)."""
    total, done, nbytes = len(items), 0, 0
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for size in pool.map(work, items):
            done += 1
            nbytes += size
            if progress:
                progress(what, done, total, nbytes)
    return nbytes


_PHASE = {"blob": 0, "tree": 1}  # then manifests and build records, which name both


def _phases(oids: list[str], type_of: Callable[[str], str]) -> list[list[str]]:
    """The objects in the order they may land: blobs, then trees, then the rest."""
    phases: list[list[str]] = [[], [], []]
    for oid in oids:
        phases[_PHASE.get(type_of(oid), 2)].append(oid)
    return phases


def push(
    store: Store,
    remote: Transport,
    keys: set[str],
    lists: list[str],
    progress: Progress | None = None,
    builds: bool = False,
) -> TransferReport:
    """Send the jobs `keys` (and everything upstream) and the urd lists `lists`; with
    `builds`, every build record and the jobs of each script's latest runs."""
    report = TransferReport()
    report.cleaned = remote.clean_tmp(STALE_TMP)  # what killed pushes left there
    urd = UrdLists(store.urd)
    logs = {name: urd.path(name).read_bytes() for name in lists if urd.path(name).exists()}
    more_keys, blobs = session_keys(
        s for name, data in logs.items() for s in log_sessions(data, f"urd list {name}")
    )
    build_logs: dict[str, bytes] = {}
    records: set[str] = set()  # stored build records: those the remote lacks go, with their blobs
    if builds:
        local = BuildLogs(store.builds)
        build_logs = {name: local.path(name).read_bytes() for name in local.names()}
        records, build_keys, latest = latest_roots(store.objects, local)
        blobs |= latest
        more_keys |= build_keys
    # A job the remote indexes is complete there, and so is everything upstream of it
    # (objects go first, index entries upstream-first): no need to walk it.
    remote_keys = remote.list_index()
    todo = (set(keys) | more_keys) - remote_keys
    objects: set[str] = set(blobs)
    jobs: dict[str, str] = {}
    upstream_of: dict[str, set[str]] = {}
    while todo:
        key = todo.pop()
        if key in jobs:
            continue
        manifest_id = store.index.get(key)
        if manifest_id is None:
            report.missing.append(key)
            continue
        jobs[key] = manifest_id
        needed, upstream = manifest_objects(store.objects, key, manifest_id)
        objects |= needed
        upstream_of[key] = upstream - remote_keys
        todo |= upstream_of[key] - set(jobs)
    on_remote = remote.list_objects() if objects or records else set()
    for rid in records - on_remote:  # a record read only when it has to travel
        objects |= {rid, *parse_record(store.objects.get_bytes(rid, "build")).object_ids()}
    lacking = sorted(objects - on_remote)

    def send(oid: str) -> int:
        for _ in store.objects.read_chunks(oid):  # never spread a corrupt object
            pass
        path = store.objects.path(oid)
        remote.put_object(oid, path)
        return path.stat().st_size

    # Upstream first per kind: a tree or manifest never lands before what it names, so an
    # interrupted push leaves nothing on the remote that fsck would call damaged.
    for phase in _phases(lacking, store.objects.type_of):
        report.bytes += _parallel(phase, send, "objects", progress)
    report.objects = len(lacking)
    for key in upstream_first(upstream_of):  # after every object they refer to
        remote.put_index(key, jobs[key])
        report.jobs += 1
    for name, data in logs.items():
        _merge(remote.update_urd, name, data, report, f"remote {remote.url}")
    for name, data in build_logs.items():
        _merge_builds(remote.update_log, name, data, report, f"remote {remote.url}")
    return report


def pull(
    store: Store,
    remote: Transport,
    keys: set[str],
    lists: list[str] | None,
    progress: Progress | None = None,
    remote_name: str = "",
    builds: bool = False,
    identity: str = "",
) -> TransferReport:
    """Fetch the jobs `keys`, those of the urd lists `lists` (None: all the remote has),
    and merge those lists into the local ones; with `builds`, every build record and the
    jobs of each script's latest runs too. `identity` (RemoteConfig.identity) is what the
    origin of each job records, and what trust is later decided by."""
    report = TransferReport()
    label = f"remote {remote_name or remote.url}"
    names = remote.list_urd() if lists is None else lists
    logs = {name: remote.read_urd(name) for name in names}
    more_keys, blobs = session_keys(
        s for name, data in logs.items() for s in log_sessions(data, f"{label}: urd list {name}")
    )
    build_logs: dict[str, bytes] = {}
    if builds:
        build_logs = {n: remote.read_log("builds", n) for n in remote.list_logs("builds")}
    listed: set[str] | None = None
    on_remote: set[str] | None = None

    def remote_ids() -> set[str]:
        nonlocal on_remote
        if on_remote is None:
            on_remote = remote.list_objects()
        return on_remote

    def have_it(oid: str) -> bool:
        nonlocal listed
        if listed is None:  # listed once, and only when something may need fetching
            listed = set(store.objects.ids())
        return oid in listed

    store.tmp.mkdir(parents=True, exist_ok=True)
    # Build records, manifests and trees are read as soon as they arrive, to learn what
    # else to fetch, but land in the store only after everything they name (an
    # interrupted pull leaves no referrer without its objects): until then they wait,
    # verified, in a staging folder of their own.
    staging = DiskObjectDB(tempfile.mkdtemp(prefix="pull-staged-", dir=store.tmp))
    reader = _Staged(staging, store.objects)

    def fetch(oid: str, stage: bool = False) -> int:
        fd, tmp = tempfile.mkstemp(prefix="pull-", dir=store.tmp)
        os.close(fd)
        try:
            remote.get_object(oid, Path(tmp))
            size = os.path.getsize(tmp)
            try:
                (staging if stage else store.objects).adopt(oid, tmp)  # verified first
            except ObjectCorrupt as e:  # the remote's copy, not the local store, is bad
                raise RemoteError(
                    f"{label}: its copy of object {oid} is corrupt ({e.reason}); nothing "
                    "of it was stored here: push it again from a store that has it whole"
                ) from None
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        if listed is not None:
            listed.add(oid)
        return size

    try:
        return _pull_jobs(
            store, remote, report, label, keys, more_keys, blobs, logs, build_logs,
            remote_name, identity, progress, fetch, have_it, remote_ids, staging, reader,
        )  # fmt: skip
    finally:
        shutil.rmtree(staging.root, ignore_errors=True)


class _Staged:
    """Reads objects from a pull's staging folder, else from the store."""

    def __init__(self, staging: DiskObjectDB, store: ObjectDB) -> None:
        self.staging, self.store = staging, store

    def get_bytes(self, oid: str, expect: str | None = None) -> bytes:
        """An object's content, staged or stored."""
        db = self.staging if self.staging.has(oid) else self.store
        return db.get_bytes(oid, expect)


def _pull_jobs(
    store: Store,
    remote: Transport,
    report: TransferReport,
    label: str,
    keys: set[str],
    more_keys: set[str],
    blobs: set[str],
    logs: dict[str, bytes],
    build_logs: dict[str, bytes],
    remote_name: str,
    identity: str,
    progress: Progress | None,
    fetch: Callable[..., int],
    have_it: Callable[[str], bool],
    remote_ids: Callable[[], set[str]],
    staging: DiskObjectDB,
    reader: _Staged,
) -> TransferReport:
    """The body of pull, once the logs are read: walk, fetch, then land in order."""

    todo = set(keys) | more_keys
    jobs: dict[str, str] = {}
    upstream_of: dict[str, set[str]] = {}
    lacking: set[str] = {b for b in blobs if not store.objects.has(b)}
    for name, data in build_logs.items():
        entries = log_entries(data, f"{label}: build log {name}")
        latest = latest_records(entries)
        for entry in entries:
            if have_it(entry.record):
                if entry.record not in latest:
                    continue  # here with its blobs already; only the latest name jobs
            elif entry.record not in remote_ids():
                continue  # its object never reached the remote: the line alone travels
            else:
                report.bytes += fetch(entry.record, stage=True)
                report.objects += 1
            try:
                record = parse_record(reader.get_bytes(entry.record, "build"))
            except (BuildLogError, WrongType) as e:
                raise RemoteError(f"{label}: build record {entry.record}: {e}") from None
            lacking |= {o for o in record.object_ids() if not have_it(o)}
            if entry.record in latest:
                todo |= record.keys()
    while todo:
        key = todo.pop()
        if key in jobs:
            continue
        if store.index.get(key) is not None:
            jobs[key] = ""  # complete here already, and so is everything upstream of it
            continue
        manifest_id = remote.get_index(key)
        if manifest_id is None:
            report.missing.append(key)
            continue
        jobs[key] = manifest_id
        # The manifest and tree are needed now, to learn what else to fetch.
        if not have_it(manifest_id):
            report.bytes += fetch(manifest_id, stage=True)
            report.objects += 1
        try:
            m = indexed_manifest(reader, key, manifest_id)
            if not have_it(m.files):
                report.bytes += fetch(m.files, stage=True)
                report.objects += 1
            needed, upstream = manifest_objects(reader, key, manifest_id)
        except (ManifestError, BadId) as e:
            raise RemoteError(f"{label}: job {key}: {e}") from None
        lacking |= {o for o in needed if not have_it(o)}
        upstream_of[key] = upstream
        todo |= upstream - set(jobs)
    report.bytes += _parallel(sorted(lacking), fetch, "objects", progress)
    report.objects += len(lacking)
    staged = list(staging.ids())
    for phase in _phases(staged, staging.type_of)[1:]:  # trees, then what names them
        for oid in phase:
            store.objects.adopt(oid, staging.path(oid))
    # After every object is here and verified; upstream jobs first, so that an indexed
    # job always means its whole upstream is complete (what the skip above relies on).
    for key in upstream_first(upstream_of):
        # One job, one writer: under the job's lock, as a build runs it, and not over a
        # job a build here stored meanwhile (its work folder and origin are the local one).
        with locked(store.path("lock", key), timeout=None):
            if store.index.get(key) is not None:
                continue
            store.origins.record(key, remote_name or remote.url, identity or remote.url)
            store.index.put(key, jobs[key])
        report.jobs += 1
    urd = UrdLists(store.urd)
    for name, data in logs.items():
        _merge(lambda n, change: rewrite(urd.path(n), change), name, data, report, label)
    for name, data in build_logs.items():
        _merge_builds(
            lambda kind, n, change: rewrite(store.path(kind, n), change), name, data, report, label
        )
    return report
