"""One small interface for every remote: a path, ssh, or S3-compatible object storage.

A remote holds the same things as a store, in the same layout: `objects/ab/cdef…` (stored
form, byte for byte), `index/ab/cdef…` (job key -> manifest id), `urd/<list>.urd`,
`builds/<script>.log`: every path from gitax.store.layout.
Objects and index entries are written under a temp name and renamed (or, on S3, put
whole), so a reader never sees half of one.
"""

from __future__ import annotations

import abc
import contextlib
import os
import secrets
import socket
import time
from collections.abc import Callable
from pathlib import Path

from gitax.config import RemoteConfig
from gitax.errors import GitaxError
from gitax.jobs.urdlog import check_list_name
from gitax.store.lockfile import process_is_gone


class RemoteError(GitaxError):
    """A remote cannot be reached, or refuses an operation."""


class Transport(abc.ABC):
    """What push and pull need from a remote."""

    url: str

    @abc.abstractmethod
    def list_objects(self) -> set[str]:
        """Every object id on the remote (one listing, not a probe per object)."""

    @abc.abstractmethod
    def get_object(self, oid: str, dest: Path) -> None:
        """Download an object's stored form into the local file `dest`."""

    @abc.abstractmethod
    def put_object(self, oid: str, src: Path) -> None:
        """Upload an object's stored form from `src`, atomically."""

    @abc.abstractmethod
    def list_index(self) -> set[str]:
        """Every job key the remote has."""

    @abc.abstractmethod
    def get_index(self, key: str) -> str | None:
        """The manifest id of a job key, or None."""

    @abc.abstractmethod
    def put_index(self, key: str, manifest_id: str) -> None:
        """Record a job key, atomically (after its objects)."""

    @abc.abstractmethod
    def list_logs(self, kind: str) -> list[str]:
        """The names of the logs of a kind ('urd' lists, 'builds' logs) on the remote."""

    @abc.abstractmethod
    def read_log(self, kind: str, name: str) -> bytes:
        """A log (b'' if none); the name is checked by the layout."""

    @abc.abstractmethod
    def update_log(self, kind: str, name: str, change: Callable[[bytes], bytes]) -> None:
        """Replace a log with change(log), with no other writer in between."""

    def list_urd(self) -> list[str]:
        """The names of the urd lists on the remote."""
        return self.list_logs("urd")

    def read_urd(self, name: str) -> bytes:
        """An urd list's log (b'' if none)."""
        return self.read_log("urd", check_list_name(name))

    def update_urd(self, name: str, change: Callable[[bytes], bytes]) -> None:
        """Replace an urd log with change(log), with no other writer in between."""
        self.update_log("urd", check_list_name(name), change)

    def clean_tmp(self, older_than: float) -> int:
        """Remove temp files a killed transfer left behind: those whose writer (named in
        the file's name) was a process of this host that is gone, and any untouched for
        `older_than` seconds; how many went. Remotes that write whole objects (S3,
        memory) leave none."""
        return 0

    def close(self) -> None:
        """Release connections (a path or memory remote holds none)."""
        return None


def _host() -> str:
    """This host's name as it stands in a temp file's name (no `-` or `/` in it)."""
    return socket.gethostname().replace("-", "_").replace("/", "_")


def temp_name(prefix: str) -> str:
    """A remote temp file's name, `<prefix>-<host>.<pid>-<random>`: a later transfer can
    tell a dead writer's leftover from a live writer's upload."""
    return f"{prefix}-{_host()}.{os.getpid()}-{secrets.token_hex(6)}"


def is_stale_temp(name: str, mtime: float, older_than: float) -> bool:
    """Did a killed transfer leave this temp file (see temp_name)?"""
    if time.time() - mtime > older_than:
        return True
    parts = name.split("-")
    if len(parts) != 3 or "." not in parts[1]:
        return False
    host, _, pid = parts[1].rpartition(".")
    return host == _host() and process_is_gone(socket.gethostname(), pid)


def check_url(name: str, url: str) -> str:
    """The kind of a remote URL ('path', 'ssh', 's3'), without connecting to anything."""
    from urllib.parse import urlsplit

    if url.startswith("ssh://"):
        parts = urlsplit(url)
        if not parts.hostname or not parts.path.strip("/"):
            raise RemoteError(f"remote {name!r}: write ssh://[user@]host[:port]/path, not {url}")
        return "ssh"
    if url.startswith("s3://"):
        if not urlsplit(url).netloc:
            raise RemoteError(f"remote {name!r}: write s3://bucket[/prefix], not {url}")
        return "s3"
    if "://" in url and not url.startswith("file://"):
        raise RemoteError(f"remote {name!r}: {url} is not a path, file://, ssh:// or s3:// URL")
    return "path"


def open_transport(remote: RemoteConfig, create: bool = False) -> Transport:
    """The transport for a remote's URL; `create` makes a store at a path that has none
    (`created` then says so)."""
    url = remote.url
    kind = check_url(remote.name, url)
    if kind == "ssh":
        from gitax.remote.ssh import SshTransport

        return SshTransport(url)
    if kind == "s3":
        from gitax.remote.s3 import S3Transport

        return S3Transport(url, remote.endpoint_url)
    from gitax.remote.pathfs import PathTransport

    return PathTransport(url.removeprefix("file://"), create)


@contextlib.contextmanager
def opened(remote: RemoteConfig, create: bool = False):  # type: ignore[no-untyped-def]
    """A transport for the block, closed after it."""
    transport = open_transport(remote, create)
    try:
        yield transport
    finally:
        transport.close()
