"""The one module that imports dulwich: what git says about the project's repository."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gitax.errors import GitaxError


def provenance(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The git commit checked out around `path`, or {} outside a git repository."""
    from dulwich.errors import NotGitRepository
    from dulwich.repo import Repo

    try:
        repo = Repo.discover(str(path))
    except NotGitRepository:
        return {}
    try:
        head = repo.head().decode("ascii")
    except KeyError:
        head = None  # a repository with no commit yet
    finally:
        repo.close()
    return {"commit": head}


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
