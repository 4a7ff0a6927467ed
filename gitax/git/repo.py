"""The one module that imports dulwich: what git says about the project's repository."""

from __future__ import annotations

import os
from typing import Any


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
