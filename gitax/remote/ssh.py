"""A remote folder on a host reached by ssh (sftp through paramiko; no gitax needed there).

Objects and index entries are uploaded under a temp name and renamed into place with
OpenSSH's posix-rename, so a reader never sees half of one. urd logs are changed under a
lock file created with O_EXCL over sftp (a lock older than LOCK_STALE seconds is taken
over: its writer is gone, since a merge takes well under a second).
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import socket
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from gitax.remote.transport import RemoteError, Transport, is_stale_temp, temp_name
from gitax.store import layout
from gitax.store.index import format_entry, parse_entry
from gitax.store.store import STORE_FORMAT, format_store_version, parse_store_version

LOCK_STALE = 60.0


class SshTransport(Transport):
    """`ssh://[user@]host[:port]/path`: a gitax store laid out in a folder on that host."""

    def __init__(
        self, url: str, identity_file: str | None = None, known_hosts: str | None = None
    ) -> None:
        try:
            import paramiko
        except ImportError:
            raise RemoteError("ssh remotes need paramiko: pip install 'gitax[ssh]'") from None
        self.url = url
        parts = urlsplit(url)
        self.host = parts.hostname or ""
        self.port = parts.port or 22
        self.user = unquote(parts.username) if parts.username else None
        self.root = unquote(parts.path) or "/"
        self.client = paramiko.SSHClient()
        self.client.load_system_host_keys()
        hosts = known_hosts or os.environ.get("GITAX_SSH_KNOWN_HOSTS")
        if hosts:
            self.client.load_host_keys(hosts)
        self.client.set_missing_host_key_policy(paramiko.RejectPolicy())
        key = identity_file or os.environ.get("GITAX_SSH_IDENTITY")
        try:
            self.client.connect(
                self.host, self.port, self.user, key_filename=key, timeout=20, banner_timeout=20
            )
        except paramiko.SSHException as e:
            raise RemoteError(
                f"{url}: {e}; if the host is unknown, add it: "
                f"ssh-keyscan -p {self.port} {self.host} >> ~/.ssh/known_hosts"
            ) from None
        except OSError as e:
            raise RemoteError(f"{url}: cannot connect: {e.strerror or e}") from None
        self._local = threading.local()
        self._init_store()

    # -- sftp channels: one per thread, so transfers run side by side -------------------

    @property
    def sftp(self) -> Any:
        """This thread's sftp channel."""
        channel = getattr(self._local, "sftp", None)
        if channel is None:
            channel = self._local.sftp = self.client.open_sftp()
        return channel

    def _p(self, *parts: str) -> str:
        return posixpath.join(self.root, *parts)

    def _mkdirs(self, path: str) -> None:
        missing = []
        while path not in ("", "/"):
            try:
                self.sftp.stat(path)
                break
            except FileNotFoundError:
                missing.append(path)
                path = posixpath.dirname(path)
        for d in reversed(missing):
            try:
                self.sftp.mkdir(d)
            except OSError:
                self.sftp.stat(d)  # made meanwhile by another writer: fine

    def _init_store(self) -> None:
        fmt = self._p("format")
        try:
            with self.sftp.open(fmt, "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            for sub in (*map(layout.folder, ("object", "index", "urd")), layout.TMP):
                self._mkdirs(self._p(sub))
            self._write_atomic(fmt, format_store_version(STORE_FORMAT))
            return
        try:
            version = parse_store_version(data)
        except ValueError:
            raise RemoteError(f"{self.url}: {fmt} is not a gitax store format file") from None
        if version != STORE_FORMAT:
            raise RemoteError(f"{self.url}: store format {version} is not supported; upgrade gitax")

    def _write_atomic(self, path: str, data: bytes) -> None:
        tmp = self._p(layout.TMP, temp_name("up"))
        with self.sftp.open(tmp, "wb") as fh:
            fh.write(data)
        self.sftp.posix_rename(tmp, path)

    def _list_sharded(self, kind: str) -> set[str]:
        found: set[str] = set()
        top = layout.folder(kind)
        try:
            shards = self.sftp.listdir(self._p(top))
        except FileNotFoundError:
            return found
        for shard in shards:
            if len(shard) == 2:
                found |= {f"{shard}/{n}" for n in self.sftp.listdir(self._p(top, shard))}
        return {i for i in (layout.parse_relpath(kind, f) for f in found) if i is not None}

    # -- Transport ---------------------------------------------------------------------

    def list_objects(self) -> set[str]:
        return self._list_sharded("object")

    def get_object(self, oid: str, dest: Path) -> None:
        try:
            self.sftp.get(layout.posix_join(self.root, "object", oid), str(dest))
        except FileNotFoundError:
            raise RemoteError(f"{self.url}: no object {oid}") from None

    def put_object(self, oid: str, src: Path) -> None:
        target = layout.posix_join(self.root, "object", oid)
        try:
            self.sftp.stat(target)
            return
        except FileNotFoundError:
            pass
        self._mkdirs(posixpath.dirname(target))
        tmp = self._p(layout.TMP, temp_name("up"))
        self.sftp.put(str(src), tmp)
        self.sftp.chmod(tmp, 0o444)
        self.sftp.posix_rename(tmp, target)

    def clean_tmp(self, older_than: float) -> int:
        removed = 0
        try:
            entries = self.sftp.listdir_attr(self._p(layout.TMP))
        except FileNotFoundError:
            return 0
        for entry in entries:
            # The host named in a name is this client's, not the sftp server's: only this
            # client's dead uploads, or old ones, go.
            mtime = float(entry.st_mtime or 0)
            if stat.S_ISREG(entry.st_mode or 0) and is_stale_temp(
                entry.filename, mtime, older_than
            ):
                with contextlib.suppress(FileNotFoundError):
                    self.sftp.remove(self._p(layout.TMP, entry.filename))
                    removed += 1
        return removed

    def list_index(self) -> set[str]:
        return self._list_sharded("index")

    def get_index(self, key: str) -> str | None:
        try:
            with self.sftp.open(layout.posix_join(self.root, "index", key), "rb") as fh:
                data = fh.read(200)
        except FileNotFoundError:
            return None
        manifest_id = parse_entry(data, key)
        if manifest_id is None:
            raise RemoteError(f"{self.url}: index entry {key} is damaged or another job's")
        return manifest_id

    def put_index(self, key: str, manifest_id: str) -> None:
        target = layout.posix_join(self.root, "index", key)
        self._mkdirs(posixpath.dirname(target))
        self._write_atomic(target, format_entry(manifest_id, key))

    def list_logs(self, kind: str) -> list[str]:
        names: list[str] = []

        def walk(rel: str) -> None:
            for entry in self.sftp.listdir_attr(self._p(layout.folder(kind), rel)):
                path = posixpath.join(rel, entry.filename) if rel else entry.filename
                if stat.S_ISDIR(entry.st_mode or 0):
                    walk(path)
                else:
                    name = layout.parse_relpath(kind, path)
                    if name is not None:
                        names.append(name)

        try:
            walk("")
        except FileNotFoundError:
            return []
        return sorted(names)

    def read_log(self, kind: str, name: str) -> bytes:
        try:
            with self.sftp.open(layout.posix_join(self.root, kind, name), "rb") as fh:
                data: bytes = fh.read()
                return data
        except FileNotFoundError:
            return b""

    def update_log(self, kind: str, name: str, change: Callable[[bytes], bytes]) -> None:
        path = layout.posix_join(self.root, kind, name)
        self._mkdirs(posixpath.dirname(path))
        lock = path + ".lock"
        deadline = time.monotonic() + 2 * LOCK_STALE
        while True:
            try:
                with self.sftp.open(lock, "wbx") as fh:  # O_EXCL on the far side
                    fh.write(f"{socket.gethostname()} {os.getpid()}".encode())
                break
            except OSError:
                try:
                    age = time.time() - (self.sftp.stat(lock).st_mtime or 0)
                except FileNotFoundError:
                    continue
                if age > LOCK_STALE:
                    self.sftp.remove(lock)
                    continue
                if time.monotonic() > deadline:
                    raise RemoteError(f"{self.url}: {lock} stays locked; try again later") from None
                time.sleep(0.05)
        try:
            new = change(self.read_log(kind, name))
            self._write_atomic(path, new)
        finally:
            self.sftp.remove(lock)

    def close(self) -> None:
        self.client.close()
