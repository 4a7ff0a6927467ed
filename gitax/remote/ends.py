"""The two ends of a transfer: a local store, or a remote reached through a Transport.
push is a transfer from a store to a remote, pull one from a remote to a store; both are
the same walk and copy (transfer.py) over this one interface."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from gitax.errors import GitaxError
from gitax.jobs.buildlog import BuildLogs
from gitax.jobs.urdlog import UrdLists
from gitax.remote.transport import RemoteError, Transport
from gitax.store.lockfile import locked
from gitax.store.objects import ObjectCorrupt
from gitax.store.odb import DiskObjectDB
from gitax.store.reflog import rewrite
from gitax.store.store import Store


class StoreEnd:
    """A local store. As the receiving end of a pull it records where each job came from
    (`origin`: the remote's name and identity), which trust is later decided by."""

    label = ""  # errors about a local store need no prefix

    def __init__(self, store: Store, origin: tuple[str, str] | None = None) -> None:
        self.store, self.origin = store, origin

    def error(self, message: str) -> GitaxError:
        """An error about what this end holds."""
        return GitaxError(message)

    def corrupt(self, oid: str, e: ObjectCorrupt) -> Exception:
        """This store's copy of an object did not verify: fsck says more."""
        return e

    def has_job(self, key: str) -> bool:
        """Is the job indexed here (and so, complete with all its upstream)?"""
        return self.store.index.get(key) is not None

    def get_index(self, key: str) -> str | None:
        """The manifest id of a job, or None."""
        return self.store.index.get(key)

    def has_object(self, oid: str) -> bool:
        """Is the object here?"""
        return self.store.objects.has(oid)

    def get_bytes(self, oid: str, expect: str | None = None) -> bytes:
        """An object's content, verified."""
        return self.store.objects.get_bytes(oid, expect)

    def export(self, oid: str) -> tuple[Path, bool]:
        """(a file holding the object in stored form, whether the receiver may move it).
        Read whole first: a corrupt object is never spread."""
        for _ in self.store.objects.read_chunks(oid):
            pass
        return self.store.objects.path(oid), False

    def receive(self, oid: str, path: Path, movable: bool) -> None:
        """Store an object from a file in stored form, once it verifies."""
        if not movable:
            self.store.tmp.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix="recv-", dir=self.store.tmp)
            os.close(fd)
            shutil.copyfile(path, tmp)
            path = Path(tmp)
        try:
            self.store.objects.adopt(oid, path)
        finally:
            if path.exists():
                path.unlink()

    def put_index(self, key: str, manifest_id: str) -> bool:
        """Index a job whose objects are all here; False if a build here stored it
        meanwhile (its work folder and origin are then the local ones)."""
        # One job, one writer: under the job's lock, as a build runs it.
        with locked(self.store.path("lock", key), timeout=None):
            if self.store.index.get(key) is not None:
                return False
            if self.origin is not None:
                self.store.origins.record(key, *self.origin)
            self.store.index.put(key, manifest_id)
        return True

    def _log(self, kind: str, name: str) -> Path:
        if kind == "urd":
            return UrdLists(self.store.urd).path(name)
        return BuildLogs(self.store.builds).path(name)

    def list_logs(self, kind: str) -> list[str]:
        """The urd lists ("urd") or build scripts ("builds") with a log here."""
        if kind == "urd":
            return UrdLists(self.store.urd).names()
        return BuildLogs(self.store.builds).names()

    def read_log(self, kind: str, name: str) -> bytes:
        """A log's bytes (b'' if there is none)."""
        path = self._log(kind, name)
        return path.read_bytes() if path.exists() else b""

    def update_log(self, kind: str, name: str, change: Callable[[bytes], bytes]) -> None:
        """Replace a log with change(log), under its lock."""
        rewrite(self._log(kind, name), change)

    def close(self) -> None:
        """Nothing to let go of."""


class RemoteEnd:
    """A remote. What a transfer must read from it before landing anything (build
    records, manifests, trees) is fetched verified into a staging folder in the local
    store's tmp/, and read from the local store instead when that has it already."""

    def __init__(self, transport: Transport, name: str, local: Store) -> None:
        self.transport, self.local = transport, local
        self.label = f"remote {name}"  # what every error about it starts with
        self._objects: set[str] | None = None
        self._index: set[str] | None = None
        self._staging: DiskObjectDB | None = None

    def error(self, message: str) -> GitaxError:
        """An error about what the remote holds."""
        return RemoteError(f"{self.label}: {message}")

    def has_job(self, key: str) -> bool:
        """Is the job indexed there (listed once, when first asked)?"""
        if self._index is None:
            self._index = self.transport.list_index()
        return key in self._index

    def get_index(self, key: str) -> str | None:
        """The manifest id of a job there, or None."""
        return self.transport.get_index(key)

    def has_object(self, oid: str) -> bool:
        """Is the object there (listed once, when first asked)?"""
        if self._objects is None:
            self._objects = self.transport.list_objects()
        return oid in self._objects

    def _stage(self) -> DiskObjectDB:
        if self._staging is None:
            self.local.tmp.mkdir(parents=True, exist_ok=True)
            staged = tempfile.mkdtemp(prefix="pull-staged-", dir=self.local.tmp)
            self._staging = DiskObjectDB(staged)
        return self._staging

    def _fetch(self, oid: str) -> Path:
        """The remote's copy of an object in a temp file of the local store."""
        self.local.tmp.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix="pull-", dir=self.local.tmp)
        os.close(fd)
        try:
            self.transport.get_object(oid, Path(tmp))
        except BaseException:
            os.unlink(tmp)
            raise
        return Path(tmp)

    def corrupt(self, oid: str, e: ObjectCorrupt) -> RemoteError:
        """The remote's copy of an object did not verify."""
        return RemoteError(
            f"{self.label}: its copy of object {oid} is corrupt ({e.reason}); nothing of it "
            "was stored here: push it again from a store that has it whole"
        )

    def _staged(self, oid: str) -> bool:
        return self._staging is not None and self._staging.has(oid)

    def get_bytes(self, oid: str, expect: str | None = None) -> bytes:
        """An object's content: staged, stored locally, or fetched and staged."""
        if not self._staged(oid):
            if self.local.objects.has(oid):
                return self.local.objects.get_bytes(oid, expect)
            tmp = self._fetch(oid)
            try:
                self._stage().adopt(oid, tmp)
            except ObjectCorrupt as e:
                raise self.corrupt(oid, e) from None
            finally:
                if tmp.exists():
                    tmp.unlink()
        return self._stage().get_bytes(oid, expect)

    def export(self, oid: str) -> tuple[Path, bool]:
        """(a file holding the object in stored form, whether the receiver may move it)."""
        if self._staged(oid):
            return self._stage().path(oid), True
        return self._fetch(oid), True

    def receive(self, oid: str, path: Path, movable: bool) -> None:
        """Send an object to the remote."""
        self.transport.put_object(oid, path)

    def put_index(self, key: str, manifest_id: str) -> bool:
        """Index a job whose objects are all there."""
        self.transport.put_index(key, manifest_id)
        return True

    def list_logs(self, kind: str) -> list[str]:
        """The urd lists ("urd") or build scripts ("builds") with a log there."""
        return self.transport.list_urd() if kind == "urd" else self.transport.list_logs(kind)

    def read_log(self, kind: str, name: str) -> bytes:
        """A log's bytes (b'' if there is none)."""
        if kind == "urd":
            return self.transport.read_urd(name)
        return self.transport.read_log(kind, name)

    def update_log(self, kind: str, name: str, change: Callable[[bytes], bytes]) -> None:
        """Replace a log with change(log), with no other writer in between."""
        if kind == "urd":
            self.transport.update_urd(name, change)
        else:
            self.transport.update_log(kind, name, change)

    def close(self) -> None:
        """Drop whatever is still staged (the transfer stopped before it could land)."""
        if self._staging is not None:
            shutil.rmtree(self._staging.root, ignore_errors=True)
