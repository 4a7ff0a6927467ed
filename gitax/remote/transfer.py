"""push and pull: one transfer between two stores, in either direction (ends.py). Walk
what the source's jobs and logs need, ask the destination what it has (one listing), copy
only what it lacks, several at once, verified; objects first (what is named before what
names it), then index entries upstream first, then urd and build logs (merged, never
overwritten)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from gitax.errors import GitaxError
from gitax.jobs.buildlog import (
    BuildLogError,
    latest_records,
    log_entries,
    merge_build_logs,
    parse_record,
)
from gitax.jobs.graph import upstream_first, walk
from gitax.jobs.manifest import ManifestError, job_objects
from gitax.jobs.urdlog import log_sessions, session_keys
from gitax.remote.ends import RemoteEnd, StoreEnd
from gitax.remote.transport import Transport
from gitax.remote.urdmerge import MergeResult, merge_logs
from gitax.store.layout import BadId
from gitax.store.objects import ObjectCorrupt, WrongType
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


def _parallel(
    items: list[str],
    work: Callable[[str], int],
    what: str,
    progress: Progress | None,
    before: tuple[int, int, int],
) -> int:
    """Run work(item) on WORKERS threads (hashing, zstd and I/O release the GIL).
    `before` is (done, total, bytes) of the whole transfer, of which this is one phase,
    so that progress counts on across them."""
    done, total, sent = before
    nbytes = 0
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for size in pool.map(work, items):
            done += 1
            nbytes += size
            if progress:
                progress(what, done, total, sent + nbytes)
    return nbytes


LEAF, TREE, REFERRER = 0, 1, 2  # the order objects land in: nothing before what it names


class End(Protocol):
    """Either end of a transfer (ends.StoreEnd, ends.RemoteEnd)."""

    label: str

    def error(self, message: str) -> GitaxError: ...
    def corrupt(self, oid: str, e: ObjectCorrupt) -> Exception: ...
    def has_job(self, key: str) -> bool: ...
    def get_index(self, key: str) -> str | None: ...
    def has_object(self, oid: str) -> bool: ...
    def get_bytes(self, oid: str, expect: str | None = None) -> bytes: ...
    def export(self, oid: str) -> tuple[Path, bool]: ...
    def receive(self, oid: str, path: Path, movable: bool) -> None: ...
    def put_index(self, key: str, manifest_id: str) -> bool: ...
    def list_logs(self, kind: str) -> list[str]: ...
    def read_log(self, kind: str, name: str) -> bytes: ...
    def update_log(self, kind: str, name: str, change: Callable[[bytes], bytes]) -> None: ...
    def close(self) -> None: ...


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
    cleaned = remote.clean_tmp(STALE_TMP)  # what killed pushes left there
    report = transfer(
        StoreEnd(store), RemoteEnd(remote, remote.url, store), keys, lists, builds, progress
    )
    report.cleaned = cleaned
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
    name = remote_name or remote.url
    src = RemoteEnd(remote, name, store)
    dst = StoreEnd(store, origin=(name, identity or remote.url))
    return transfer(src, dst, keys, lists, builds, progress)


def transfer(
    src: End,
    dst: End,
    keys: set[str],
    lists: list[str] | None,
    builds: bool,
    progress: Progress | None = None,
) -> TransferReport:
    """Copy the jobs `keys`, the urd lists `lists` (None: every list `src` has) with the
    jobs they name, and with `builds` every build log, from `src` to `dst`."""
    try:
        return _Transfer(src, dst, progress).run(keys, lists, builds)
    finally:
        src.close()
        dst.close()


class _Transfer:
    """One transfer's state: the objects it needs, by the order they may land in, and
    the jobs it indexes."""

    def __init__(self, src: End, dst: End, progress: Progress | None) -> None:
        self.src, self.dst, self.progress = src, dst, progress
        self.report = TransferReport()
        self.objects: dict[str, int] = {}  # object id -> LEAF, TREE or REFERRER
        self.jobs: dict[str, str] = {}  # job key -> manifest id

    def where(self, what: str) -> str:
        """`what`, said of the source (a remote's errors name the remote)."""
        return f"{self.src.label}: {what}" if self.src.label else what

    def need(self, oids: Iterable[str], kind: int) -> None:
        for oid in oids:
            self.objects[oid] = max(kind, self.objects.get(oid, LEAF))

    def run(self, keys: set[str], lists: list[str] | None, builds: bool) -> TransferReport:
        src = self.src
        names = src.list_logs("urd") if lists is None else lists
        logs = {name: data for name in names if (data := src.read_log("urd", name))}
        sessions = [
            s
            for name, data in logs.items()
            for s in log_sessions(data, self.where(f"urd list {name}"))
        ]
        more_keys, blobs = session_keys(sessions)
        self.need(blobs, LEAF)
        build_logs = {}
        if builds:
            build_logs = {n: src.read_log("builds", n) for n in src.list_logs("builds")}
        roots = set(keys) | more_keys
        for name, data in build_logs.items():
            roots |= self.records(name, data)
        graph = walk(sorted(roots), self.visit)
        lacking = [oid for oid in self.objects if not self.dst.has_object(oid)]
        self.copy(lacking)
        # After every object they refer to; upstream first, so that an indexed job always
        # means its whole upstream is complete (what `visit` relies on).
        for key in upstream_first(graph):
            if self.dst.put_index(key, self.jobs[key]):
                self.report.jobs += 1
        for name, data in logs.items():
            self.merge_urd(name, data)
        for name, data in build_logs.items():
            self.merge_builds(name, data)
        return self.report

    def records(self, name: str, data: bytes) -> set[str]:
        """Need the build records `dst` lacks and the latest ones with what they refer
        to; the keys of the jobs of each script's latest runs."""
        entries = log_entries(data, self.where(f"build log {name}"))
        latest = latest_records(entries)
        keys: set[str] = set()
        for entry in entries:
            if entry.record not in latest and self.dst.has_object(entry.record):
                continue  # there with its blobs already; only the latest name jobs
            if not self.src.has_object(entry.record):
                continue  # its object never reached the source: the line alone travels
            try:
                record = parse_record(self.src.get_bytes(entry.record, "build"))
            except (BuildLogError, WrongType) as e:
                raise self.src.error(f"build record {entry.record}: {e}") from None
            self.need([entry.record], REFERRER)
            self.need(record.object_ids(), LEAF)
            if entry.record in latest:
                keys |= record.keys()
        return keys

    def visit(self, key: str) -> frozenset[str] | None:
        """Need a job's objects; the keys upstream of it. None for a job `dst` indexes
        (complete there, with all its upstream) or `src` lacks."""
        if self.dst.has_job(key):
            return None
        manifest_id = self.src.get_index(key)
        if manifest_id is None:
            self.report.missing.append(key)
            return None
        try:
            needs = job_objects(self.src, key, manifest_id)
        except (ManifestError, BadId) as e:
            raise self.src.error(f"job {key}: {e}") from None
        self.jobs[key] = manifest_id
        self.need([needs.manifest], REFERRER)
        self.need([needs.tree], TREE)
        self.need(needs.blobs, LEAF)
        return needs.upstream

    def copy(self, lacking: list[str]) -> None:
        """Copy objects over, several at once, each kind after the one it names, so an
        interrupted transfer leaves nothing at `dst` that fsck would call damaged."""

        def one(oid: str) -> int:
            path, movable = self.src.export(oid)
            size = path.stat().st_size
            try:
                self.dst.receive(oid, path, movable)
            except ObjectCorrupt as e:
                raise self.src.corrupt(oid, e) from None
            finally:
                if movable and path.exists():
                    path.unlink()
            return size

        total = len(lacking)
        for kind in (LEAF, TREE, REFERRER):
            batch = sorted(oid for oid in lacking if self.objects[oid] == kind)
            before = (self.report.objects, total, self.report.bytes)
            self.report.bytes += _parallel(batch, one, "objects", self.progress, before)
            self.report.objects += len(batch)

    def merge_urd(self, name: str, incoming: bytes) -> None:
        """Merge an urd log into `dst`'s, under its lock."""
        results: list[MergeResult] = []

        def change(old: bytes) -> bytes:
            results.append(merge_logs(old, incoming, self.where(f"urd list {name}")))
            return results[-1].data

        self.dst.update_log("urd", name, change)
        self.report.lists[name] = results[-1].added
        self.report.conflicts += results[-1].conflicts

    def merge_builds(self, name: str, incoming: bytes) -> None:
        """Merge a build log (a union of runs) into `dst`'s, under its lock."""
        added: list[int] = []

        def change(old: bytes) -> bytes:
            data, n = merge_build_logs(old, incoming, self.where(f"build log {name}"))
            added.append(n)
            return data

        self.dst.update_log("builds", name, change)
        self.report.builds[name] = added[-1]
