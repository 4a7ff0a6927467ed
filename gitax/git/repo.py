"""The one module that imports dulwich: what git says about the project's repository."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from gitax.errors import GitaxError
from gitax.store.hashing import git_blob_id


def provenance(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The git commit checked out around `path`, whether the work tree differs from it
    (tracked files), and `tracked`: the paths (relative to `path`) git tracks, so that a
    job built from an untracked file can be called dirty; {} outside a git repository."""
    from dulwich.errors import NotGitRepository
    from dulwich.repo import Repo

    try:
        repo = Repo.discover(str(path))
    except NotGitRepository:
        return {}
    try:
        try:
            head: str | None = repo.head().decode("ascii")
        except KeyError:
            head = None  # a repository with no commit yet
        return {"commit": head, "dirty": is_dirty(repo, head), "tracked": _tracked(repo, path)}
    finally:
        repo.close()


def _tracked(repo: Any, path: str | os.PathLike[str]) -> frozenset[str]:
    """The paths in the index below `path`, relative to it."""
    prefix = Path(os.path.realpath(path)).relative_to(os.path.realpath(repo.path)).as_posix()
    start = "" if prefix == "." else prefix + "/"
    names = (os.fsdecode(n) for n in repo.open_index().paths())
    return frozenset(n[len(start) :] for n in names if n.startswith(start))


def head_commit(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The commit checked out around `path` ({} outside git), read from .git's files
    without dulwich: a build record needs it on every build, and a no-op build must stay
    fast (provenance(), which also decides `dirty`, costs ~60 ms). `dirty` is None: not
    checked."""
    start = Path(os.path.abspath(path))
    for folder in (start, *start.parents):
        dotgit = folder / ".git"
        if dotgit.is_dir():
            gitdir = dotgit
        elif dotgit.is_file():  # a worktree or submodule: "gitdir: <path>"
            text = dotgit.read_text().strip()
            if not text.startswith("gitdir:"):
                return {}
            gitdir = (folder / text.removeprefix("gitdir:").strip()).resolve()
        else:
            continue
        return {"commit": _resolve_head(gitdir), "dirty": None}
    return {}


def _resolve_head(gitdir: Path) -> str | None:
    """HEAD's commit id, following one symbolic ref (loose, then packed); None if unborn."""
    try:
        head = (gitdir / "HEAD").read_text().strip()
    except OSError:
        return None
    if not head.startswith("ref:"):
        return head or None
    ref = head.removeprefix("ref:").strip()
    common = gitdir
    with contextlib.suppress(OSError):
        common = (gitdir / (gitdir / "commondir").read_text().strip()).resolve()
    for base in dict.fromkeys((gitdir, common)):
        with contextlib.suppress(OSError):
            return (base / ref).read_text().strip() or None
        with contextlib.suppress(OSError):
            for line in (base / "packed-refs").read_text().splitlines():
                sha, _, name = line.partition(" ")
                if name == ref:
                    return sha
    return None


def is_dirty(repo: Any, head: str | None) -> bool:
    """Do the index or the tracked files of the work tree differ from HEAD? Files whose
    size and mtime match the index are not read, as git does it."""
    from dulwich.index import IndexEntry

    index = repo.open_index()
    if head is None:
        return len(index) > 0
    if any(True for _ in index.changes_from_tree(repo.object_store, repo[head.encode()].tree)):
        return True
    root = repo.path
    for name, entry in index.items():
        if not isinstance(entry, IndexEntry):
            return True  # a merge conflict
        full = os.path.join(root, os.fsdecode(name))
        try:
            st = os.lstat(full)
        except FileNotFoundError:
            return True
        if st.st_size != entry.size:
            return True
        mtime = entry.mtime if isinstance(entry.mtime, tuple) else (int(entry.mtime), 0)
        if (int(st.st_mtime), st.st_mtime_ns % 1_000_000_000) == tuple(mtime):
            continue
        with open(full, "rb") as fh:
            if git_blob_id(fh.read()).encode() != entry.sha:
                return True
    return False


class RevisionError(GitaxError):
    """A git revision or path cannot be read."""


def read_at_revision(path: str | os.PathLike[str], rev: str, filename: str) -> bytes:
    """The content of `filename` (relative to `path`) in git revision `rev`."""
    from dulwich.errors import NotGitRepository
    from dulwich.object_store import tree_lookup_path
    from dulwich.objectspec import parse_commit
    from dulwich.repo import Repo

    try:
        repo = Repo.discover(str(path))
    except NotGitRepository:
        raise RevisionError(
            f"{path} is not in a git repository; gitax checkout --results reads gitax.lock from git"
        ) from None
    try:
        try:
            commit = parse_commit(repo, rev.encode())
        except (KeyError, ValueError):
            raise RevisionError(f"no git revision {rev!r} in {repo.path}") from None
        rel = Path(os.path.realpath(path)).relative_to(os.path.realpath(repo.path)) / filename
        try:
            _, sha = tree_lookup_path(repo.get_object, commit.tree, rel.as_posix().encode())
        except KeyError:
            raise RevisionError(f"{rel.as_posix()} is not in git revision {rev!r}") from None
        data: bytes = repo[sha].as_raw_string()
        return data
    finally:
        repo.close()
