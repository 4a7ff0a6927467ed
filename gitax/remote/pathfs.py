"""A remote that is a folder: a shared disk, NFS, a mounted bucket. It is laid out as a
store (and can be used as one)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from gitax.remote.transport import RemoteError, Transport, is_stale_temp, temp_name
from gitax.store import layout
from gitax.store.fsutil import file_mode, fsync_dir
from gitax.store.index import DiskJobIndex, IndexCorrupt
from gitax.store.odb import DiskObjectDB
from gitax.store.reflog import rewrite
from gitax.store.store import FORMAT_FILE, Store, StoreError
from gitax.store.storelock import shared


class PathTransport(Transport):
    """A gitax store at a path."""

    def __init__(self, path: str, create: bool = False) -> None:
        self.url = path
        root = os.path.expanduser(path)
        # A path that is not a store is more often a typo or a disk not mounted than a
        # wish for a new remote: only a push (saying so) or `remote add --init` makes one.
        self.created = not os.path.exists(os.path.join(root, FORMAT_FILE))
        if self.created and not create:
            raise RemoteError(
                f"remote {path}: no gitax store there (a typo, or a disk not mounted?); "
                "`gitax push` or `gitax remote add --init` makes one"
            )
        try:
            self.store = Store.open(root)
        except StoreError as e:
            raise RemoteError(f"remote {path}: {e}") from None
        # Held while this transport is open, as a build holds its store: a gc of the
        # remote store never runs beside a push or pull (it would drop what arrives).
        self._held = contextlib.ExitStack()
        self._held.enter_context(shared(self.store.root))
        self.odb: DiskObjectDB = self.store.objects
        self.index: DiskJobIndex = self.store.index

    def close(self) -> None:
        self._held.close()

    def list_objects(self) -> set[str]:
        return set(self.odb.ids())

    def get_object(self, oid: str, dest: Path) -> None:
        try:
            shutil.copyfile(self.odb.path(oid), dest)
        except FileNotFoundError:
            raise RemoteError(f"{self.url}: no object {oid}") from None

    def put_object(self, oid: str, src: Path) -> None:
        target = self.odb.path(oid)
        if target.exists():
            return
        self.store.tmp.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=temp_name("recv"), dir=self.store.tmp)
        try:
            with open(src, "rb") as fh, os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(fh, out, 1 << 20)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, file_mode(0o444))
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)
            fsync_dir(target.parent)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def clean_tmp(self, older_than: float) -> int:
        removed = 0
        try:
            entries = list(os.scandir(self.store.tmp))
        except FileNotFoundError:
            return 0
        for entry in entries:
            with contextlib.suppress(FileNotFoundError):
                if not entry.is_file(follow_symlinks=False):
                    continue
                if is_stale_temp(entry.name, entry.stat().st_mtime, older_than):
                    os.unlink(entry.path)
                    removed += 1
        return removed

    def list_index(self) -> set[str]:
        return set(self.index.keys())

    def get_index(self, key: str) -> str | None:
        try:
            return self.index.get(key)
        except IndexCorrupt:
            raise RemoteError(
                f"{self.url}: index entry {key} is damaged or another job's"
            ) from None

    def put_index(self, key: str, manifest_id: str) -> None:
        self.index.put(key, manifest_id)

    def list_logs(self, kind: str) -> list[str]:
        return layout.list_folder(self.store.root, kind)

    def read_log(self, kind: str, name: str) -> bytes:
        try:
            return self.store.path(kind, name).read_bytes()
        except FileNotFoundError:
            return b""

    def update_log(self, kind: str, name: str, change: Callable[[bytes], bytes]) -> None:
        rewrite(self.store.path(kind, name), change)
