"""Are the results in gitax.lock up to date with the code in the work tree, or the index?

Fast by construction: it reads gitax.lock and, with --staged, the git index; it hashes
only the source files the lock names (and, for the work tree, the result files), and
runs no job.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitax.errors import GitaxError
from gitax.jobs.inputs import InputHashes
from gitax.jobs.resultlock import LOCK_FILE, LockedResult, parse_lock, read_lock
from gitax.store.hashing import git_blob_id, object_id_of_file


@dataclass(frozen=True)
class Stale:
    """One result that the code (or its file) no longer matches."""

    result: str
    reason: str
    changed: tuple[str, ...] = ()
    fix: str = "run `gitax build`"


@dataclass
class VerifyReport:
    """What verify found."""

    checked: list[str] = field(default_factory=list)
    stale: list[Stale] = field(default_factory=list)


def _file_blob(path: Path) -> str | None:
    try:
        return git_blob_id(path.read_bytes())
    except (FileNotFoundError, IsADirectoryError):
        return None


def _object_id_of_file(path: Path) -> str | None:
    try:
        return object_id_of_file("blob", path)
    except (FileNotFoundError, IsADirectoryError):
        return None


def _index_to_commit(repo: Any) -> Any:
    """The index git is about to commit: `$GIT_INDEX_FILE` when git set it for the hook
    (`commit -a`, `commit PATH` and `commit --amend -a` commit a temporary index, not
    .git/index), else the repository's own."""
    from dulwich.index import Index

    override = os.environ.get("GIT_INDEX_FILE")
    if not override:
        return repo.open_index()
    path = Path(override)
    if not path.is_absolute():  # relative to where git runs hooks: the work tree's top
        path = Path(repo.path) / path
    return Index(str(path), read=True)


def _staged(project_root: Path) -> tuple[dict[str, LockedResult], Callable[[str], str | None]]:
    """The staged gitax.lock, and the staged blob id of a project path."""
    from dulwich.errors import NotGitRepository
    from dulwich.index import IndexEntry
    from dulwich.repo import Repo

    try:
        repo = Repo.discover(str(project_root))
    except NotGitRepository:
        raise GitaxError(
            f"{project_root} is not in a git repository; --staged checks the git index"
        ) from None
    try:
        index = _index_to_commit(repo)
        prefix = Path(os.path.realpath(project_root)).relative_to(os.path.realpath(repo.path))
        staged: dict[str, str] = {}
        for name, entry in index.items():
            if isinstance(entry, IndexEntry):
                staged[os.fsdecode(name)] = entry.sha.decode("ascii")

        def blob_of(path: str) -> str | None:
            return staged.get((prefix / path).as_posix())

        lock_sha = blob_of(LOCK_FILE)
        if lock_sha is None:
            return {}, blob_of
        text = repo[lock_sha.encode()].as_raw_string().decode("utf-8")
        return parse_lock(text, f"{LOCK_FILE} (staged)"), blob_of
    finally:
        repo.close()


def _file_bytes(root: Path) -> Callable[[str], bytes | None]:
    def read(path: str) -> bytes | None:
        try:
            return (root / path).read_bytes()
        except OSError:
            return None

    return read


def _staged_bytes(
    project_root: Path, blob_of: Callable[[str], str | None]
) -> Callable[[str], bytes | None]:
    def read(path: str) -> bytes | None:
        from dulwich.repo import Repo

        sha = blob_of(path)
        if sha is None:
            return None
        with Repo.discover(str(project_root)) as repo:
            return bytes(repo[sha.encode()].as_raw_string())

    return read


def _not_equivalent(
    project_root: Path,
    entry: LockedResult,
    changed: tuple[str, ...],
    read: Callable[[str], bytes | None],
) -> tuple[str, ...]:
    """The changed sources, less method files whose equivalent_hashes (still holding)
    name the source the result was built from: the edit was declared cosmetic."""
    from gitax.jobs.equivalence import equivalence_of

    declared = {}
    for path in changed:
        data = read(path) if path.endswith(".py") else None
        eq = equivalence_of(data) if data is not None else None
        if eq is not None and eq.holds:
            declared[path] = eq.hashes
    if not declared:
        return changed
    built_from = _built_from(project_root, entry)
    return tuple(p for p in changed if built_from.get(p) not in declared.get(p, ()))


def _built_from(project_root: Path, entry: LockedResult) -> dict[str, str]:
    """path -> source hash of what the result's jobs were built from (from the store)."""
    from gitax.jobs.job import Job, JobNotFound
    from gitax.jobs.project import Project

    try:
        project = Project.find(project_root)
        found: dict[str, str] = {}
        for job in Job.from_key(project, entry.key).upstream():
            found.update(job.manifest.sources)
        return found
    except (GitaxError, OSError, JobNotFound):
        return {}  # no store to ask: the result stays stale, as without the declaration


def verify(
    project_root: Path,
    results_dir: Path,
    staged: bool = False,
    names: list[str] | None = None,
    store_root: Path | None = None,
) -> VerifyReport:
    """Check every result of gitax.lock (or those named) against the code, and (in the
    work tree) against the input files its jobs read; `store_root` holds the cache of
    input hashes."""
    if staged:
        results, blob_of = _staged(project_root)
    else:
        results = read_lock(project_root)

        def blob_of(path: str) -> str | None:
            return _file_blob(project_root / path)

    chosen = sorted(results)
    if names:
        wanted = [n.removeprefix("results/") for n in names]
        unknown = [n for n in wanted if n not in results]
        if unknown:
            raise GitaxError(
                f"{unknown[0]} is not a result in gitax.lock; results: "
                f"{', '.join(sorted(results)) or 'none'}"
            )
        chosen = sorted(set(wanted))
    report = VerifyReport()
    hashes = InputHashes(store_root or project_root / ".gitax")
    for name in chosen:
        entry = results[name]
        report.checked.append(name)
        changed = tuple(sorted(p for p, blob in entry.sources if blob_of(p) != blob))
        if changed:
            read = _staged_bytes(project_root, blob_of) if staged else _file_bytes(project_root)
            changed = _not_equivalent(project_root, entry, changed, read)
        unadded = [p for p in changed if staged and blob_of(p) is None]
        unadded = [p for p in unadded if (project_root / p).is_file()]
        if unadded:  # built from a file that is there but not in the commit
            report.stale.append(
                Stale(
                    name,
                    f"{', '.join(unadded)} {'is' if len(unadded) == 1 else 'are'} built from "
                    "but not added to git",
                    tuple(unadded),
                    f"run `git add {' '.join(unadded)}`",
                )
            )
        elif changed:
            where = "staged" if staged else "in the work tree"
            gone = [p for p in changed if blob_of(p) is None]
            what = ", ".join(changed[:3]) + (
                f" and {len(changed) - 3} more" if len(changed) > 3 else ""
            )
            verb = "is gone" if gone and len(changed) == 1 else "changed"
            report.stale.append(Stale(name, f"{what} {verb} ({where}) since it was built", changed))
        elif not staged and not os.path.exists(results_dir / name):  # dangling links too
            report.stale.append(
                Stale(
                    name,
                    f"the file is missing (built by {entry.job})",
                    fix="run `gitax checkout --results` to restore it from the store, or "
                    "`gitax build`",
                )
            )
        elif not staged and _object_id_of_file(results_dir / name) != entry.blob:
            report.stale.append(
                Stale(
                    name,
                    f"the file no longer matches {entry.job}'s output",
                    fix="run `gitax build`, or `gitax checkout --results` to restore it from "
                    "the store",
                )
            )
        elif not staged and entry.inputs:
            edited = hashes.changed(project_root, dict(entry.inputs))
            if edited:
                report.stale.append(
                    Stale(
                        name,
                        f"input {', '.join(edited)} changed since it was read",
                        tuple(edited),
                        "inputs are not in the key, so a build reuses its jobs: restore the "
                        "file, or name it in the method's depend_extra to re-run them",
                    )
                )
    hashes.save()
    return report
