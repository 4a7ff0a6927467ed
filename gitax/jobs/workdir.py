"""A job's work folder: plain files that must equal what the store holds.

Downstream jobs and results/ read a job's files from its work folder, so a file changed
there (a write through a results/ link, a process the method left running, a hard link
to a user's file that is later edited) would be read as the job's output. Every file of
a settled or materialised work folder is given one mtime, derived from the manifest, and
a reader checks size and mtime against the tree before it trusts the folder (once per
process). fsck re-hashes everything.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from gitax.jobs.manifest import OUTPUT_FOLDER, Manifest, TreeEntry, check_relpath, parse_tree
from gitax.store.hashing import object_id_of_file

if TYPE_CHECKING:
    from gitax.store.odb import ObjectDB

OUTPUT_DIR = OUTPUT_FOLDER
_FALLBACK = 946684800  # 2000-01-01, for a manifest without a finishing time


def sealed_mtime(manifest: Manifest) -> int:
    """The mtime (whole seconds, exact on any file system) of every file of a job's
    work folder: when the job finished."""
    with contextlib.suppress(KeyError, TypeError, ValueError, OverflowError):
        return max(0, int(datetime.fromisoformat(manifest.timing["finished"]).timestamp()))
    return _FALLBACK


def seal(path: Path, mtime: int) -> None:
    """Give every file below `path` the sealed mtime."""
    ns = mtime * 1_000_000_000
    for dirpath, _, filenames in os.walk(path):
        for f in filenames:
            os.utime(os.path.join(dirpath, f), ns=(ns, ns), follow_symlinks=False)


def intact(path: Path, tree: dict[str, TreeEntry], mtime: int) -> bool:
    """Does every file of the tree look untouched in the work folder at `path`: a regular
    file of the stored size, with the sealed mtime? (Cheap: one stat per file.)"""
    ns = mtime * 1_000_000_000
    root = os.fspath(path)
    for rel, entry in tree.items():
        try:
            st = os.lstat(os.path.join(root, rel))
        except OSError:
            return False
        if not (st.st_mode & 0o170000 == 0o100000 and st.st_size == entry.size):
            return False
        if st.st_mtime_ns != ns:
            return False
    return True


def differences(path: Path, manifest: Manifest, objects: ObjectDB) -> list[str]:
    """Every way the work folder at `path` differs from the stored job, hashing each file
    (what fsck does)."""
    tree = parse_tree(objects.get_bytes(manifest.files, "tree"))
    expected = {rel: e.id for rel, e in tree.items()}
    expected |= {f"{OUTPUT_DIR}/{check_relpath(p)}": oid for p, oid in manifest.output.items()}
    found: list[str] = []
    seen = set()
    for dirpath, _, filenames in os.walk(path):
        for f in filenames:
            full = os.path.join(dirpath, f)
            rel = os.path.relpath(full, path).replace(os.sep, "/")
            seen.add(rel)
            if rel not in expected:
                found.append(f"{rel}: not a file of the job")
            elif os.path.islink(full) or object_id_of_file("blob", full) != expected[rel]:
                found.append(f"{rel}: differs from the stored file")
    found += [f"{rel}: missing" for rel in sorted(set(expected) - seen)]
    return sorted(found)


def own_copy(path: str | os.PathLike[str]) -> None:
    """Make `path` a file of its own if it shares its inode with another name (a hard link
    to a user's file): a later edit there must not change the job's file, and making it
    read-only must not change the user's."""
    if os.lstat(path).st_nlink < 2:
        return
    tmp = f"{path}.gitax-copy"
    shutil.copyfile(path, tmp, follow_symlinks=False)
    shutil.copymode(path, tmp)
    os.replace(tmp, path)
