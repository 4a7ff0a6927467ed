"""exax's job specifiers, accepted wherever a JOB is (the CLI and `Job(...)`).

    train-3f2a9c1e0b7d, 3f2a    an id, or a unique hex prefix of one (4+ digits)
    train                       the method's newest job
    JOB~  JOB~N                 N jobs before JOB among its method's jobs (by finish time)
    JOB^  JOB^N                 follow JOB's `previous` input N times
    :LIST:  :LIST:N  :LIST:NAME  a job of an urd list's newest session: the last one, the
                                Nth (negative counts from the end), or the one built as NAME
    :LIST/TIMESTAMP:ENTRY       ... of the session at TIMESTAMP (or `first`, `latest`)
    :LIST~N:  :LIST^N:          ... of the session N later (~) or earlier (^), as exax's

Errors name what exists: the lists, the methods with jobs, a session's jobs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from gitax.errors import GitaxError
from gitax.jobs.keys import job_id
from gitax.jobs.urdlog import Session, UrdError, UrdLists
from gitax.jobs.when import pick_when
from gitax.words import count as counted

if TYPE_CHECKING:
    from gitax.jobs.manifest import Manifest
    from gitax.jobs.project import Project

_TILDES = re.compile(r"^(.*?)((?:[~^]\d*)+)$")
_METHOD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class JobNotFound(GitaxError):
    """No stored job matches an id, prefix or specifier, or more than one does."""


class AmbiguousJob(JobNotFound):
    """More than one stored job matches an id prefix."""


def split_moves(ref: str) -> tuple[str, list[tuple[str, int]]]:
    """'train~~^3' -> ('train', [('~', 1), ('~', 1), ('^', 3)])."""
    m = _TILDES.match(ref)
    if not m:
        return ref, []
    moves = [(part[0], int(part[1:] or 1)) for part in re.findall(r"[~^]\d*", m.group(2))]
    return m.group(1), moves


def is_specifier(ref: str) -> bool:
    """Does `ref` use more than a plain id or prefix (a method, ~, ^ or :LIST:)?"""
    return ref.startswith(":") or split_moves(ref)[1] != [] or bool(_METHOD.match(ref))


class _History:
    """Every stored job's method and finish time, read once per specifier (a method name
    or `~` reads every manifest: specifiers are for people, never a build's path)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._jobs: list[tuple[str, str, str]] | None = None  # (finished, key, method)

    def _all(self) -> list[tuple[str, str, str]]:
        if self._jobs is None:
            from gitax.jobs.job import load_manifest

            found = []
            for key in self.project.store.index.keys():
                try:
                    m = load_manifest(self.project, key)
                except GitaxError:
                    continue  # fsck names broken entries; a specifier just skips them
                found.append((str(m.timing.get("finished", "")), key, m.method))
            self._jobs = sorted(found)
        return self._jobs

    def keys(self, method: str) -> list[str]:
        """The keys of a method's jobs, oldest first."""
        return [key for _, key, m in self._all() if m == method]

    def methods(self) -> list[str]:
        """Every method with a stored job, sorted."""
        return sorted({m for _, _, m in self._all()})


def _back(history: _History, key: str, method: str, count: int, ref: str) -> str:
    """The job `count` before `key` among its method's jobs."""
    keys = history.keys(method)
    at = keys.index(key) if key in keys else len(keys)
    if at - count < 0:
        raise JobNotFound(
            f"{ref!r}: {job_id(method, key)} has {counted(at, 'earlier job')} of {method}; "
            f"the oldest is {job_id(method, keys[0]) if keys else 'none'}"
        )
    return keys[at - count]


def _up(project: Project, manifest: Manifest, count: int, ref: str) -> str:
    """Follow the `previous` input `count` times."""
    from gitax.jobs.job import load_manifest

    for done in range(count):
        prev = manifest.jobs.get("previous")
        if not isinstance(prev, dict):
            raise JobNotFound(
                f"{ref!r}: only {done} `previous` job(s) back from the start "
                f"({job_id(manifest.method, manifest.key)} has no previous input)"
            )
        manifest = load_manifest(project, prev["key"])
    return manifest.key


def resolve_specifier(project: Project, ref: str, plain: Callable[[Project, str], str]) -> str:
    """The key of the job `ref` names; `plain(project, text)` resolves an id or prefix."""
    from gitax.jobs.job import load_manifest

    if ref.startswith(":"):
        return _from_urd(project, ref)
    base, moves = split_moves(ref)
    if not base:
        raise JobNotFound(f"{ref!r}: name a job before ~ or ^ (an id, a method or :LIST:)")
    history = _History(project)
    key = _base(history, base, plain)
    for char, count in moves:
        manifest = load_manifest(project, key)
        if char == "~":
            key = _back(history, key, manifest.method, count, ref)
        else:
            key = _up(project, manifest, count, ref)
    return key


def _base(history: _History, base: str, plain: Callable[[Project, str], str]) -> str:
    """An id or prefix, else a method's newest job."""
    try:
        return plain(history.project, base)
    except AmbiguousJob:
        raise
    except JobNotFound as e:
        if not _METHOD.match(base):
            raise
        looks_like_id = "not a job id" not in str(e)
    keys = history.keys(base)
    if not keys:
        methods = ", ".join(history.methods()) or "none"
        what = (
            "no stored job or method" if looks_like_id else "no method with jobs and not a job id:"
        )
        raise JobNotFound(f"{what} {base!r}; methods with jobs: {methods}") from None
    return keys[-1]


def _from_urd(project: Project, ref: str) -> str:
    """`:LIST[/TIMESTAMP][~N|^N]:[ENTRY]`."""
    path, sep, entry = ref[1:].rpartition(":")
    if not sep:
        raise JobNotFound(f"{ref!r} looks like a partial :LIST:[ENTRY] specifier")
    path, moves = split_moves(path)
    name, _, when = path.partition("/")
    lists = UrdLists(project.store.urd)
    try:
        sessions = lists.sessions(name) if name else []
    except UrdError as e:
        raise JobNotFound(f"{ref!r}: {e}") from None
    if not sessions:
        known = ", ".join(lists.names()) or "none"
        raise JobNotFound(f"{ref!r}: no urd list {name!r} with sessions; lists: {known}")
    at = _session_at(sessions, when, ref)
    at += sum(n if c == "~" else -n for c, n in moves)  # exax: ~ later, ^ earlier
    if not 0 <= at < len(sessions):
        raise JobNotFound(
            f"{ref!r}: list {name!r} has {counted(len(sessions), 'session')}, "
            f"{sessions[0].timestamp} to {sessions[-1].timestamp}"
        )
    return _entry(sessions[at], entry or "-1", ref)


def _session_at(sessions: list[Session], when: str, ref: str) -> int:
    if when in ("", "latest"):
        return len(sessions) - 1
    if when == "first":
        return 0
    from gitax.jobs.urdlog import normalise_timestamp

    try:  # the latest at or before, as LIST@WHEN
        i = pick_when([s.timestamp for s in sessions], when, "<=", normalise_timestamp)
    except GitaxError as e:
        raise JobNotFound(f"{ref!r}: {e}") from None
    if i is None:
        raise JobNotFound(
            f"{ref!r}: no session there; the sessions run from {sessions[0].timestamp} to "
            f"{sessions[-1].timestamp}"
        )
    return i


def _entry(session: Session, entry: str, ref: str) -> str:
    """A job of a session by position (negative from the end) or by name or method."""
    jobs = session.joblist
    if re.fullmatch(r"-?\d+", entry):
        i = int(entry)
        if -len(jobs) <= i < len(jobs):
            return jobs[i].key
    else:
        for wanted in ("name", "method"):
            for j in reversed(jobs):
                if getattr(j, wanted) == entry:
                    return j.key
    has = ", ".join(f"{i}:{j.name}" for i, j in enumerate(jobs)) or "no jobs"
    raise JobNotFound(f"{ref!r}: session {session.ref} has no job {entry!r}; it has {has}")
