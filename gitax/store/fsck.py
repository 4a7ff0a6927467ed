"""Checking a store: every object re-hashed, every reference resolved, every log parsed."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gitax.store import layout
from gitax.store.hashing import is_object_id
from gitax.store.index import parse_entry
from gitax.store.lockfile import holder_is_gone
from gitax.store.objects import ObjectError
from gitax.store.store import Store


@dataclass(frozen=True)
class Problem:
    """One thing wrong: where, and what."""

    where: str
    what: str


@dataclass
class FsckReport:
    """What fsck checked and found."""

    objects: int = 0
    jobs: int = 0
    logs: int = 0
    problems: list[Problem] = field(default_factory=list)
    # Locks whose holder is gone: not damage (the next writer takes them over), but said.
    stale_locks: list[Problem] = field(default_factory=list)


def fsck(
    store: Store,
    references: Callable[[bytes, str], tuple[list[str], str | None]],
    check_log: Callable[[Path], list[tuple[int, str]]],
) -> FsckReport:
    """Check a store. `references(content, type)` names the objects a tree or manifest
    refers to and the key a manifest belongs to (raising ValueError when malformed);
    `check_log(path)` returns the bad lines of an urd log. Both come from the layer that
    knows those formats."""
    report = FsckReport()
    objects = store.objects
    present: set[str] = set()
    refs: dict[str, list[str]] = {}
    owner: dict[str, str] = {}  # manifest id -> the key of its job
    for oid in objects.ids():
        report.objects += 1
        try:
            data = b""
            obj_type = objects.type_of(oid)
            chunks = objects.read_chunks(oid)
            if obj_type in REFERRERS:
                data = b"".join(chunks)
            else:
                for _ in chunks:
                    pass
            present.add(oid)
            if obj_type in REFERRERS:
                try:
                    refs[oid], key = references(data, obj_type)
                    if key is not None:
                        owner[oid] = key
                except ValueError as e:
                    report.problems.append(Problem(f"object {oid}", f"malformed {obj_type}: {e}"))
        except ObjectError as e:
            report.problems.append(Problem(f"object {oid}", str(e)))
    for oid, named in refs.items():
        for ref in named:
            if ref not in present:
                report.problems.append(Problem(f"object {oid}", f"refers to missing object {ref}"))
    for key in store.index.keys():
        report.jobs += 1
        path = store.index.path(key)
        if not path.is_file():
            continue  # a folder where an entry should be: one of the strays below
        data = path.read_bytes()
        manifest_id = parse_entry(data, key)
        if manifest_id is None and parse_entry(data) is not None:
            report.problems.append(Problem(str(path), "names the manifest of another job"))
        elif manifest_id is None:
            report.problems.append(Problem(str(path), "damaged index entry"))
        elif manifest_id not in present:
            report.problems.append(Problem(str(path), f"names missing manifest {manifest_id}"))
        elif owner.get(manifest_id, key) != key:
            report.problems.append(
                Problem(str(path), f"names the manifest of another job (key {owner[manifest_id]})")
            )
    report.problems += _strays(store.objects.objects, is_object_id, "not an object")
    report.problems += _strays(store.index.root, is_object_id, "not an index entry")
    report.stale_locks = stale_locks(store.root)
    for kind in ("urd", "builds"):
        for name in layout.list_folder(store.root, kind):
            log = store.path(kind, name)
            report.logs += 1
            for lineno, what in check_log(log):
                report.problems.append(Problem(f"{log}:{lineno}", what))
    return report


def stale_locks(root: Path) -> list[Problem]:
    """Every lock file in the store whose holder is gone (or that is empty)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath == str(root):  # where no lock is taken: fsck has read them already
            dirnames[:] = [d for d in dirnames if d not in _LOCKLESS]
        for name in sorted(filenames):
            if not name.endswith(".lock") or name.startswith("."):
                continue
            path = os.path.join(dirpath, name)
            try:
                with open(path, "rb") as fh:
                    holder = fh.read(300).decode("utf-8", "replace")
            except OSError:
                continue  # released meanwhile
            if holder_is_gone(holder):
                who = " ".join(holder.split()[:2]) or "nobody (empty)"
                found.append(Problem(path, f"stale lock held by {who}, which is gone"))
    return found


# Store folders that hold no lock files (and may hold very many files).
_LOCKLESS = {
    *(layout.folder(k) for k in ("object", "index", "origin", "work", "failed", "project")),
    layout.TMP,
}


def _strays(folder: Path, valid: Callable[[str], bool], what: str) -> list[Problem]:
    """Whatever in a sharded folder cannot be one of its records."""
    found = []
    names = os.listdir(folder) if folder.is_dir() else []
    for shard in sorted(names):
        if len(shard) != 2 or not (folder / shard).is_dir():
            found.append(Problem(str(folder / shard), what))
            continue
        for name in sorted(os.listdir(folder / shard)):
            if name.startswith("."):
                continue  # the temp file of a write a crash cut short: never read
            if not valid(shard + name) or not (folder / shard / name).is_file():
                found.append(Problem(str(folder / shard / name), what))
    return found


REFERRERS = ("tree", "manifest", "build")  # objects that name other objects
