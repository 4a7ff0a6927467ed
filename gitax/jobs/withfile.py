"""Jobs as option values: a job, or a job and one of its files (exax's JobWithFile).

Both join a job key by the job's id and full key (`<method>-<key>`), never by what the
job contains; a running job (the parent of a subjob) may be named too, before it is
stored.
"""

from __future__ import annotations

import json
import pickle
from typing import IO, Any

from gitax.errors import GitaxError
from gitax.jobs.job import Job
from gitax.jobs.project import current_project

# Jobs running in this process and its parents, by id: what a subjob's options may name
# before the parent is stored (a forked subjob inherits the dict).
running_jobs: dict[str, Any] = {}


class SlicedMismatch(GitaxError, AssertionError):
    """A sliced file read without a slice number, or an unsliced one with one (exax
    raises AssertionError here, so this is one too)."""


def job_of(ref: Any) -> Any:
    """A Job (or the running job) from a Job, a running job, an id or `<method>-<key>`."""
    if isinstance(ref, Job) or hasattr(ref, "withfile"):
        return ref
    text = str(ref)
    if text in running_jobs:
        return running_jobs[text]
    method, _, key = text.rpartition("-")
    if method and len(key) == 64:
        for job in running_jobs.values():
            if job.key == key:
                return job
        return Job.from_key(current_project(), key, method=method)
    return Job(text)


class JobWithFile:
    """A job and the name of one of its files, sliced (`<name>.<sliceno>`) or not."""

    def __init__(self, job: Any, name: str, sliced: bool = False, extra: Any = None) -> None:
        if not isinstance(name, str) or not name or name.startswith("/"):
            raise GitaxError(f"JobWithFile needs a file name relative to the job, not {name!r}")
        self.job = job_of(job)
        self.name, self.sliced, self.extra = name, bool(sliced), extra

    def filename(self, sliceno: int | None = None) -> str:
        """The file's path (slice `sliceno` of it, for a sliced file)."""
        if sliceno is None and self.sliced:
            raise SlicedMismatch(f"{self.name} of {self.job} is sliced: give a sliceno")
        if sliceno is not None and not self.sliced:
            raise SlicedMismatch(f"{self.name} of {self.job} is not sliced: give no sliceno")
        return str(self.job.filename(self.name, sliceno))

    def open(
        self,
        mode: str = "r",
        sliceno: int | None = None,
        encoding: str | None = None,
        errors: str | None = None,
    ) -> IO[Any]:
        """Open the file for reading (text as UTF-8 unless `encoding` says otherwise)."""
        self.filename(sliceno)
        return self.job.open(self.name, mode, sliceno, encoding=encoding, errors=errors)  # type: ignore[no-any-return]

    def load(self, sliceno: int | None = None, encoding: str = "bytes") -> Any:
        """The file, unpickled."""
        if isinstance(self.job, Job):
            self.job.check_trusted()
        with open(self.filename(sliceno), "rb") as fh:
            return pickle.load(fh, encoding=encoding)

    def json_load(self, sliceno: int | None = None) -> Any:
        """The file, parsed as JSON."""
        with open(self.filename(sliceno), "rb") as fh:
            return json.load(fh)

    def tagged(self) -> tuple[str, Any]:
        """How it joins a key: job, file name, sliced, extra."""
        return "jobwithfile", [job_tag(self.job), self.name, self.sliced, self.extra]

    def _fields(self) -> tuple[Any, ...]:
        return (self.job.key, self.name, self.sliced, self.extra)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JobWithFile) and other._fields() == self._fields()

    def __hash__(self) -> int:
        return hash((self.job.key, self.name, self.sliced))

    def __repr__(self) -> str:
        extra = f", extra={self.extra!r}" if self.extra is not None else ""
        return f"JobWithFile({str(self.job)!r}, {self.name!r}, sliced={self.sliced}{extra})"


def job_tag(job: Any) -> str:
    """`<method>-<full key>`: how a job joins the key of a job given it as an option."""
    return f"{job.method}-{job.key}"


def untag_job(kind: str, plain: Any) -> Any:
    """A job, or a JobWithFile, from its tagged form in a manifest or key."""
    try:
        if kind == "job":
            return job_of(plain)
        ref, name, sliced, extra = plain
        return JobWithFile(ref, name, sliced, extra)
    except (TypeError, ValueError) as e:
        raise GitaxError(f"a stored {kind} option value is malformed ({e})") from None


def as_withfile(value: Any) -> JobWithFile | None:
    """A JobWithFile from one, or from (job, name[, sliced[, extra]]); None otherwise."""
    if isinstance(value, JobWithFile):
        return value
    if isinstance(value, (list, tuple)) and 2 <= len(value) <= 4:
        return JobWithFile(*value)
    return None
