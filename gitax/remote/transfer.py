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
from gitax.remote.transport import RemoteError, Transport
from gitax.remote.urdmerge import MergeResult, merge_logs
from gitax.store.layout import BadId
from gitax.store.lockfile import locked
from gitax.store.objects import ObjectCorrupt, WrongType
from gitax.store.odb import DiskObjectDB
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
        walking = {start}  # a job given its running parent as an option closes a cycle
        while stack:
            node, pending = stack[-1]
            while pending and (
                pending[-1] in done or pending[-1] in walking or pending[-1] not in upstream_of
            ):
                pending.pop()
            if pending:
                child = pending.pop()
                walking.add(child)
                stack.append((child, sorted(upstream_of[child])))
            else:
                stack.pop()
                walking.discard(node)
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
    items: list[str],
    work: Callable[[str], int],
    what: str,
    progress: Progress | None,
    before: tuple[int, int, int] | None = None,
) -> int:
    """Run work(item) on WORKERS threads (hashing, zstd and I/O release the GIL).
    `before` is (done, total, bytes) of the whole transfer when this is one of its
    phases, so that progress counts on across them."""
    done, total, sent = before or (0, len(items), 0)
    nbytes = 0
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for size in pool.map(work, items):
            done += 1
            nbytes += size
            if progress:
                progress(what, done, total, sent + nbytes)
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
        before = (report.objects, len(lacking), report.bytes)
        report.bytes += _parallel(phase, send, "objects", progress, before)
        report.objects += len(phase)
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
    rx = _Receiver(store, remote, remote_name or remote.url)
    try:
        return _pull(rx, report, keys | more_keys, blobs, logs, build_logs, progress, identity)
    finally:
        rx.close()


class _Receiver:
    """The receiving end of a pull: what the store has, what the remote has (each listed
    once, when first needed), and fetching verified objects into either the store or a
    staging folder. Build records, manifests and trees are read as soon as they arrive,
    to learn what else to fetch, but land in the store only after everything they name
    (an interrupted pull leaves no referrer without its objects): until then they wait,
    verified, in `tmp/pull-staged-*`."""

    def __init__(self, store: Store, remote: Transport, name: str) -> None:
        self.store, self.remote, self.name = store, remote, name
        self.label = f"remote {name}"  # what every error about it starts with
        self._listed: set[str] | None = None
        self._on_remote: set[str] | None = None
        store.tmp.mkdir(parents=True, exist_ok=True)
        self.staging = DiskObjectDB(tempfile.mkdtemp(prefix="pull-staged-", dir=store.tmp))

    def close(self) -> None:
        """Drop whatever is still staged (the pull stopped before it could land)."""
        shutil.rmtree(self.staging.root, ignore_errors=True)

    def have_it(self, oid: str) -> bool:
        """Is the object here, stored or staged?"""
        if self._listed is None:  # listed once, and only when something may need fetching
            self._listed = set(self.store.objects.ids())
        return oid in self._listed

    def on_remote(self, oid: str) -> bool:
        """Does the remote have the object?"""
        if self._on_remote is None:
            self._on_remote = self.remote.list_objects()
        return oid in self._on_remote

    def get_bytes(self, oid: str, expect: str | None = None) -> bytes:
        """An object's content, staged or stored."""
        db = self.staging if self.staging.has(oid) else self.store.objects
        return db.get_bytes(oid, expect)

    def fetch(self, oid: str, stage: bool = False) -> int:
        """Copy an object from the remote, verify it and keep it (staged, or stored);
        its size."""
        fd, tmp = tempfile.mkstemp(prefix="pull-", dir=self.store.tmp)
        os.close(fd)
        try:
            self.remote.get_object(oid, Path(tmp))
            size = os.path.getsize(tmp)
            try:
                (self.staging if stage else self.store.objects).adopt(oid, tmp)
            except ObjectCorrupt as e:  # the remote's copy, not the local store, is bad
                raise RemoteError(
                    f"{self.label}: its copy of object {oid} is corrupt ({e.reason}); "
                    "nothing of it was stored here: push it again from a store that has "
                    "it whole"
                ) from None
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        if self._listed is not None:
            self._listed.add(oid)
        return size

    def land_staged(self) -> None:
        """Move the staged objects into the store: trees, then what names them."""
        staged = list(self.staging.ids())
        for phase in _phases(staged, self.staging.type_of)[1:]:
            for oid in phase:
                self.store.objects.adopt(oid, self.staging.path(oid))


def _pull(
    rx: _Receiver,
    report: TransferReport,
    todo: set[str],
    blobs: set[str],
    logs: dict[str, bytes],
    build_logs: dict[str, bytes],
    progress: Progress | None,
    identity: str,
) -> TransferReport:
    """Walk what the logs and keys need, fetch it, then land it in order."""
    store, remote, label = rx.store, rx.remote, rx.label
    jobs: dict[str, str] = {}
    upstream_of: dict[str, set[str]] = {}
    lacking: set[str] = {b for b in blobs if not store.objects.has(b)}
    for name, data in build_logs.items():
        entries = log_entries(data, f"{label}: build log {name}")
        latest = latest_records(entries)
        for entry in entries:
            if rx.have_it(entry.record):
                if entry.record not in latest:
                    continue  # here with its blobs already; only the latest name jobs
            elif not rx.on_remote(entry.record):
                continue  # its object never reached the remote: the line alone travels
            else:
                report.bytes += rx.fetch(entry.record, stage=True)
                report.objects += 1
            try:
                record = parse_record(rx.get_bytes(entry.record, "build"))
            except (BuildLogError, WrongType) as e:
                raise RemoteError(f"{label}: build record {entry.record}: {e}") from None
            lacking |= {o for o in record.object_ids() if not rx.have_it(o)}
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
        if not rx.have_it(manifest_id):
            report.bytes += rx.fetch(manifest_id, stage=True)
            report.objects += 1
        try:
            m = indexed_manifest(rx, key, manifest_id)
            if not rx.have_it(m.files):
                report.bytes += rx.fetch(m.files, stage=True)
                report.objects += 1
            needed, upstream = manifest_objects(rx, key, manifest_id)
        except (ManifestError, BadId) as e:
            raise RemoteError(f"{label}: job {key}: {e}") from None
        lacking |= {o for o in needed if not rx.have_it(o)}
        upstream_of[key] = upstream
        todo |= upstream - set(jobs)
    report.bytes += _parallel(sorted(lacking), rx.fetch, "objects", progress)
    report.objects += len(lacking)
    rx.land_staged()
    # After every object is here and verified; upstream jobs first, so that an indexed
    # job always means its whole upstream is complete (what the skip above relies on).
    for key in upstream_first(upstream_of):
        # One job, one writer: under the job's lock, as a build runs it, and not over a
        # job a build here stored meanwhile (its work folder and origin are the local one).
        with locked(store.path("lock", key), timeout=None):
            if store.index.get(key) is not None:
                continue
            store.origins.record(key, rx.name, identity or remote.url)
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
