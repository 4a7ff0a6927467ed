"""exax's `accelerator.extras`, under the same names: `from gitax.extras import OptionEnum`.

The file helpers work as exax's do inside a running job (names relative to the job's
folder, `<name>.<sliceno>` for slices) and register what they write with the job.
"""

from __future__ import annotations

import json
import pickle
from typing import Any

from gitax.jobs.job import Job
from gitax.jobs.optiontypes import (
    OptionDefault,
    OptionEnum,
    OptionEnumValue,
    OptionString,
    RequiredOption,
)
from gitax.jobs.withfile import JobWithFile, job_of, running_jobs
from gitax.run.context import DotDict, json_ready

__all__ = [
    "DotDict",
    "JobWithFile",
    "OptionDefault",
    "OptionEnum",
    "OptionEnumValue",
    "OptionString",
    "RequiredOption",
    "json_decode",
    "json_encode",
    "json_load",
    "json_save",
    "pickle_load",
    "pickle_save",
]


def _running() -> Any:
    """The job running in this process (the newest one: a subjob's parent comes first)."""
    if not running_jobs:
        return None
    return list(running_jobs.values())[-1]


def _path(filename: str, jobid: Any, sliceno: int | None) -> str:
    if jobid:
        return str(job_of(jobid).filename(filename, sliceno))
    return filename if sliceno is None else f"{filename}.{sliceno}"


def json_encode(variable: Any, sort_keys: bool = True, as_str: bool = False) -> Any:
    """`variable` as JSON bytes (str with `as_str`); tuples and sets become lists."""
    text = json.dumps(json_ready(variable), indent=4, sort_keys=sort_keys)
    return text if as_str else text.encode("ascii")


def json_decode(s: str | bytes) -> Any:
    """Parse JSON, with objects as DotDicts."""
    return json.loads(s, object_pairs_hook=DotDict)


def json_save(
    variable: Any,
    filename: str = "result.json",
    sliceno: int | None = None,
    sort_keys: bool = True,
    temp: bool = False,
) -> None:
    """Write `variable` as JSON into a file of the running job (or to `filename`)."""
    job = _running()
    if job is not None:
        job.json_save(variable, filename, sliceno, sort_keys=sort_keys, temp=bool(temp))
        return
    with open(_path(filename, None, sliceno), "wb") as fh:
        fh.write(json_encode(variable, sort_keys) + b"\n")


def json_load(filename: str = "result.json", jobid: Any = None, sliceno: int | None = None) -> Any:
    """A JSON file of a job (`jobid`), or of the running job."""
    with open(_path(filename, jobid, sliceno), encoding="utf-8") as fh:
        return json_decode(fh.read())


def pickle_save(
    variable: Any, filename: str = "result.pickle", sliceno: int | None = None, temp: bool = False
) -> None:
    """Pickle `variable` into a file of the running job (or to `filename`)."""
    job = _running()
    if job is not None:
        job.save(variable, filename, sliceno, temp=bool(temp))
        return
    with open(_path(filename, None, sliceno), "wb") as fh:
        pickle.dump(variable, fh, protocol=pickle.HIGHEST_PROTOCOL)


def pickle_load(
    filename: str = "result.pickle",
    jobid: Any = None,
    sliceno: int | None = None,
    encoding: str = "bytes",
) -> Any:
    """A pickled file of a job (`jobid`), of the running job, or at a path."""
    if jobid and isinstance(job_of(jobid), Job):
        job_of(jobid).check_trusted()
    with open(_path(filename, jobid, sliceno), "rb") as fh:
        return pickle.load(fh, encoding=encoding)
