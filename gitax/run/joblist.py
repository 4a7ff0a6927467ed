"""What build scripts see of jobs and sessions: a JobList (jobs in build order, found by
name) and an UrdItem (a session with its jobs as Job objects)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

from gitax.jobs.job import Job
from gitax.jobs.urdlog import Session


class JobList(Sequence[Job]):
    """Jobs in build order, with lookups by name: `joblist.get('train')`, `joblist[-1]`."""

    def __init__(self, items: list[tuple[str, Job]] | None = None) -> None:
        self._items: list[tuple[str, Job]] = list(items or [])

    def append(self, name: str, job: Job) -> None:
        """Add a job under a name (the method's, unless `name=` was given)."""
        self._items.append((name, job))

    @overload
    def __getitem__(self, index: int) -> Job: ...

    @overload
    def __getitem__(self, index: slice) -> list[Job]: ...

    def __getitem__(self, index: int | slice) -> Job | list[Job]:
        if isinstance(index, slice):
            return [job for _, job in self._items[index]]
        return self._items[index][1]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Job]:
        return (job for _, job in self._items)

    def get(self, name: str, default: Job | None = None) -> Job | None:
        """The last job built under this name (or of this method)."""
        for item_name, job in reversed(self._items):
            if item_name == name:
                return job
        for _, job in reversed(self._items):
            if job.method == name:
                return job
        return default

    def names(self) -> list[str]:
        """The names, in build order."""
        return [name for name, _ in self._items]

    def __repr__(self) -> str:
        return f"JobList({[str(j) for j in self]})"


@dataclass
class UrdItem:
    """A session as build scripts see it: its jobs as Job objects. One that `finish`
    returns says, as exax's does, whether it was `new`, `changed` (replaced another at
    its timestamp) or `is_ghost` (a session it read is gone since); it also compares
    equal to exax's {'new': ..., 'changed': ..., 'is_ghost': ...}. An empty one (no
    such session) is false, with no jobs."""

    session: Session
    joblist: JobList
    new: bool = False
    changed: bool = False
    is_ghost: bool = False

    def flags(self) -> dict[str, bool]:
        """exax's answer to finish: new, changed, is_ghost."""
        return {"new": self.new, "changed": self.changed, "is_ghost": self.is_ghost}

    def __eq__(self, other: object) -> bool:
        if isinstance(other, dict):
            return self.flags() == other
        if not isinstance(other, UrdItem):
            return NotImplemented
        return (self.session, list(self.joblist)) == (other.session, list(other.joblist))

    def __bool__(self) -> bool:
        return bool(self.session.timestamp)

    def __getitem__(self, name: str) -> bool:
        return self.flags()[name]

    @property
    def timestamp(self) -> str:
        """When the session says it was (its ordering key)."""
        return self.session.timestamp

    @property
    def caption(self) -> str:
        """The session's caption."""
        return self.session.caption

    @property
    def user(self) -> str:
        """Who recorded the session."""
        return self.session.user

    @property
    def deps(self) -> tuple[tuple[str, str], ...]:
        """The (list, timestamp) items the session read."""
        return self.session.deps
