"""A store directory: its format version, object database, job index and work areas."""

from __future__ import annotations

import os
from pathlib import Path

from gitax.errors import GitaxError
from gitax.store import layout
from gitax.store.fsutil import atomic_write, is_shared, share_with_group
from gitax.store.index import DiskJobIndex
from gitax.store.odb import DiskObjectDB
from gitax.store.origin import Origins

STORE_FORMAT = 1
FORMAT_FILE = layout.FORMAT


class StoreError(GitaxError):
    """The store cannot be opened or created."""


def _holds_other_files(root: Path) -> bool:
    """Is `root` a folder with anything in it but what gitax puts in a new store?"""
    try:
        names = set(os.listdir(root))
    except (FileNotFoundError, NotADirectoryError):
        return False
    # What another process making the same store leaves before `format` is in: its empty
    # folders, the lock, and `format` on its way in. (`~/work/thesis` is not empty.)
    folders = {*map(layout.folder, ("object", "index", "work")), layout.TMP}

    def ours(name: str) -> bool:
        if name in folders:
            try:
                with os.scandir(root / name) as entries:
                    return next(entries, None) is None
            except NotADirectoryError:
                return False
        return name == "lock" or name.startswith(f".{FORMAT_FILE}.")

    return not all(ours(n) for n in names)


class StorePermission(StoreError):
    """This user may not write where the store needs to."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"{path}: permission denied; a store shared by several users needs "
            '`shared = "group"` in [gitax] of gitax.toml and a common group'
        )


def format_store_version(version: int) -> bytes:
    """The content of a store's `format` file."""
    return f"gitax-store {version}\n".encode("ascii")


def parse_store_version(data: bytes) -> int:
    """The version in a store's `format` file."""
    parts = data.decode("ascii", errors="replace").split()
    if len(parts) != 2 or parts[0] != "gitax-store" or not parts[1].isdigit():
        raise ValueError("not a gitax store format file")
    return int(parts[1])


class Store:
    """The on-disk store: `objects/`, `index/`, `work/` (materialised jobs), `tmp/`, `failed/`."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.objects = DiskObjectDB(self.root)
        self.index = DiskJobIndex(self.root / layout.folder("index"))
        self.work = self.root / layout.folder("work")
        self.tmp = self.root / layout.TMP
        self.failed = self.root / layout.folder("failed")
        self.origins = Origins(self.root / layout.folder("origin"))
        self.urd = self.root / layout.folder("urd")
        self.builds = self.root / layout.folder("builds")

    def path(self, kind: str, ident: str) -> Path:
        """Where a record of `kind` lives in this store (its id checked: see layout)."""
        return layout.path(self.root, kind, ident)

    @classmethod
    def open(
        cls, root: str | os.PathLike[str], *, create: bool = True, shared: bool = False
    ) -> Store:
        """Open a store, creating it if allowed; refuse one of an unknown format version.
        A store shared with its group (`shared`, or a root already setgid and
        group-writable, as a shared folder's stores inherit) is written group-writable."""
        store = cls(root)
        try:
            # Before anything is made in it: its folders must be born group-writable.
            if shared or is_shared(store.root) or is_shared(store.root.parent):
                store.root.mkdir(parents=True, exist_ok=True)
                share_with_group(store.root)
            store._open(create)
        except PermissionError as e:
            raise StorePermission(e.filename or str(store.root)) from None
        return store

    def _open(self, create: bool) -> None:
        """Read the format file, or make a new store where allowed."""
        fmt = self.root / FORMAT_FILE
        try:
            data = fmt.read_bytes()
        except FileNotFoundError:
            if not create:
                raise StoreError(f"no gitax store at {self.root}; run `gitax init`") from None
            if _holds_other_files(self.root):
                # Adopting it would let gc empty its tmp/ and work/: a store is only ever
                # a folder gitax made.
                raise StoreError(
                    f"{self.root} holds files and is not a gitax store (no `format` file); "
                    "point [gitax] store (or the remote) at a new or empty folder"
                ) from None
            try:
                for sub in (*map(layout.folder, ("object", "index", "work")), layout.TMP):
                    (self.root / sub).mkdir(parents=True, exist_ok=True)
                atomic_write(fmt, format_store_version(STORE_FORMAT))
            except PermissionError:
                raise
            except OSError as e:
                raise StoreError(f"cannot create the store at {self.root}: {e.strerror}") from None
            return
        try:
            version = parse_store_version(data)
        except ValueError:
            raise StoreError(f"{fmt} is not a gitax store format file") from None
        if version != STORE_FORMAT:
            raise StoreError(
                f"store {self.root} has format {version}; this gitax reads format "
                f"{STORE_FORMAT}: upgrade gitax"
            )
