"""A remote in memory: the reference behaviour, and the conformance suite's first subject."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from gitax.remote.transport import RemoteError, Transport
from gitax.store import layout


class MemoryTransport(Transport):
    """Objects, index and urd logs in dicts."""

    def __init__(self) -> None:
        self.url = "memory://"
        self.objects: dict[str, bytes] = {}
        self.index: dict[str, str] = {}
        self.logs: dict[str, dict[str, bytes]] = {"urd": {}, "builds": {}}
        self.urd = self.logs["urd"]
        self._lock = threading.Lock()

    def list_objects(self) -> set[str]:
        return set(self.objects)

    def get_object(self, oid: str, dest: Path) -> None:
        layout.check("object", oid)
        if oid not in self.objects:
            raise RemoteError(f"{self.url}: no object {oid}")
        dest.write_bytes(self.objects[oid])

    def put_object(self, oid: str, src: Path) -> None:
        layout.check("object", oid)
        self.objects.setdefault(oid, src.read_bytes())

    def list_index(self) -> set[str]:
        return set(self.index)

    def get_index(self, key: str) -> str | None:
        return self.index.get(layout.check("index", key))

    def put_index(self, key: str, manifest_id: str) -> None:
        self.index[layout.check("index", key)] = manifest_id

    def list_logs(self, kind: str) -> list[str]:
        return sorted(self.logs[kind])

    def read_log(self, kind: str, name: str) -> bytes:
        return self.logs[kind].get(layout.check(kind, name), b"")

    def update_log(self, kind: str, name: str, change: Callable[[bytes], bytes]) -> None:
        layout.check(kind, name)
        with self._lock:
            self.logs[kind][name] = change(self.logs[kind].get(name, b""))
