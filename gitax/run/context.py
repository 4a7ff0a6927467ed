"""The `job` object a running method receives, and the dot-accessible parameter dicts."""

from __future__ import annotations

import fnmatch
import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from gitax.errors import GitaxError
from gitax.jobs.job import OUTPUT_DIR, JobIdentity, open_utf8, output_phases, slice_name
from gitax.jobs.manifest import check_relpath
from gitax.jobs.project import Project


def json_ready(value: Any) -> Any:
    """Tuples and sets as lists (a set sorted when it can be, so the file is the same
    every run), recursively."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        items = [json_ready(v) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    return value


class DotDict(dict[str, Any]):
    """A dict whose keys also read as attributes: `options.filename`."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no parameter {name!r}; have: {', '.join(self)}") from None


class CurrentJob(JobIdentity):
    """The job being run: where its files go and what gets registered."""

    def __init__(self, project: Project, method: str, key: str, path: Path, params: Any) -> None:
        self.project, self._method, self.key, self._path = project, method, key, path
        self.params = params
        self.explicit: set[str] = set()  # registered with register_file(s)
        self.written: set[str] = set()  # written through the job API
        self.temp: set[str] = set()
        self.inputs: set[str] = set()  # input files the job asked for, hashed when it ends
        self.auto = True
        # Waits until the build process has written all this process printed so far to
        # OUTPUT/ (set in the job process; a slice reads what is there).
        self.sync_output: Callable[[], None] | None = None
        self.phase = "prepare"  # the phase running now, which says what a writer may do
        self.writers: dict[str, Any] = {}  # dataset name -> DatasetWriter
        self.finished_datasets: dict[str, dict[str, Any]] = {}  # name -> description

    @property
    def method(self) -> str:
        """The method's name."""
        return self._method

    @property
    def path(self) -> Path:
        """The folder the job runs in, which becomes its work folder."""
        return self._path

    def open(
        self,
        name: str,
        mode: str = "r",
        sliceno: int | None = None,
        encoding: str | None = None,
        errors: str | None = None,
        temp: bool = False,
        **kwargs: Any,
    ) -> IO[Any]:
        """Open a file of this job as open() does (text is UTF-8 unless `encoding` says
        otherwise, as in exax); a file opened for writing is registered (or temp)."""
        path = self.filename(name, sliceno)
        if any(c in mode for c in "wax+"):
            self._track(slice_name(name, sliceno), temp)
            os.makedirs(os.path.dirname(path), exist_ok=True)
        return open_utf8(path, mode, encoding, errors, **kwargs)

    def _track(self, rel: str, temp: bool) -> None:
        (self.temp if temp else self.written).add(rel)

    def save(
        self, obj: Any, name: str = "result.pickle", sliceno: int | None = None, temp: bool = False
    ) -> str:
        """Pickle `obj` into a file of this job; return its path."""
        with self.open(name, "wb", sliceno, temp=temp) as fh:
            pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
        return self.filename(name, sliceno)

    def load(self, name: str = "result.pickle", sliceno: int | None = None) -> Any:
        """Unpickle a file this job saved."""
        with self.open(name, "rb", sliceno) as fh:
            return pickle.load(fh)

    def json_save(
        self,
        obj: Any,
        name: str = "result.json",
        sliceno: int | None = None,
        sort_keys: bool = True,
        temp: bool = False,
    ) -> str:
        """Write `obj` as JSON into a file of this job (tuples and sets as lists; with
        sort_keys=False, dicts keep their order); return its path."""
        with self.open(name, "w", sliceno, temp=temp) as fh:
            json.dump(json_ready(obj), fh, indent=2, sort_keys=sort_keys)
            fh.write("\n")
        return self.filename(name, sliceno)

    def chain(self, length: int = -1, reverse: bool = False, stop_job: Any = None) -> list[Any]:
        """This job and the stored ones before it through `previous` inputs (exax's
        Job.chain), oldest first unless `reverse`."""
        before = self.params.jobs.get("previous") if self.params else None
        if length == 1 or before is None:
            return [self] if length != 0 else []
        older = before.chain(length - 1 if length > 0 else -1, True, stop_job)
        found = [self, *older]
        return found if reverse else found[::-1]

    def datasetwriter(
        self,
        name: str = "default",
        hashlabel: str | None = None,
        previous: Any = None,
        parent: Any = None,
        caption: str | None = None,
        columns: dict[str, Any] | None = None,
        allow_missing_slices: bool = False,
    ) -> Any:
        """A writer for a new dataset of this job (exax's job.datasetwriter); in analysis,
        the one prepare() made of that name. `columns` is {name: type or (type,
        none_support)}."""
        from gitax.jobs.dstypes import DatasetError
        from gitax.run.dswriter import DatasetWriter

        if self.phase == "analysis":
            if any(v for v in (hashlabel, previous, parent, caption, columns)):
                raise DatasetError("in analysis, job.datasetwriter(name) takes only a name")
            if name not in self.writers:
                raise DatasetError(
                    f"no dataset writer {name!r}: make it in prepare() to write it in analysis()"
                )
            return self.writers[name]
        if name in self.writers or name in self.finished_datasets:
            raise DatasetError(f"{self.id} makes dataset {name!r} twice; name them apart")
        slices = self.params.slices if self.params else self.project.config.slices
        writer = DatasetWriter(
            self,
            name,
            self.phase,
            slices,
            hashlabel,
            previous,
            parent,
            caption,
            allow_missing_slices,
        )
        for col, spec in sorted((columns or {}).items()):
            if isinstance(spec, (tuple, list)):
                writer.add(col, spec[0], bool(spec[1]) if len(spec) > 1 else False)
            else:
                writer.add(col, spec)
        self.writers[name] = writer
        return writer

    def dataset_metas(self) -> dict[str, dict[str, Any]]:
        """The descriptions of the datasets this job has finished so far."""
        return self.finished_datasets

    def dataset(self, name: str = "default") -> Any:
        """A dataset this job has finished (or linked), to read in a later phase."""
        from gitax.jobs.dataset import Dataset

        return Dataset(self, name)

    def register_file(self, name: str) -> None:
        """Keep this file; from now on only registered (and API-written) files are kept."""
        check_relpath(name)
        self.auto = False
        self.explicit.add(name)

    def register_files(self, pattern: str = "*") -> set[str]:
        """Register every file matching a glob relative to the job directory."""
        found = set()
        for dirpath, dirnames, filenames in os.walk(self.path):
            rel_dir = os.path.relpath(dirpath, self.path)
            if rel_dir == OUTPUT_DIR:
                dirnames.clear()
                continue
            for f in filenames:
                rel = f if rel_dir == "." else f"{rel_dir}/{f}"
                if fnmatch.fnmatchcase(rel, pattern):
                    found.add(rel)
        for rel in found:
            self.register_file(rel)
        return found

    def files(self) -> list[str]:
        """The files that would be stored if the job finished now."""
        return sorted(collect_files(self))

    def input_directory(self) -> str:
        """The project's input folder ([gitax] input)."""
        return str(self.project.config.input)

    def input_filename(self, *parts: str) -> str:
        """A path inside the input folder (recorded, with its hash, in the manifest)."""
        path = os.path.join(self.input_directory(), *parts)
        self.inputs.add(os.path.normpath(path))
        return path

    def open_input(self, name: str, mode: str = "rb") -> IO[Any]:
        """Open a file of the input folder for reading."""
        if any(c in mode for c in "wax+"):
            raise GitaxError(f"input files are read-only: open {name!r} with mode 'r' or 'rb'")
        return open(self.input_filename(name), mode)

    def output(self, phase: str | int | None = None) -> str:
        """What this job has printed so far: one phase or all, as the stored Job.output."""
        names = output_phases(phase, self.params.slices if self.params else 0)
        if self.sync_output is not None:
            self.sync_output()  # what the finished phases printed is all on disk
        out = self.path / OUTPUT_DIR
        return "".join(
            (out / n).read_text(encoding="utf-8", errors="replace")
            for n in names
            if (out / n).exists()
        )


def collect_files(job: CurrentJob) -> set[str]:
    """The files to store: registered and API-written ones, or every top-level file when
    the job registered nothing itself; temp files unless registered."""
    if job.auto:
        chosen = {
            e.name
            for e in os.scandir(job.path)
            if e.is_file(follow_symlinks=False) and e.name != OUTPUT_DIR
        }
        chosen |= job.written
        return chosen - job.temp
    return job.explicit | (job.written - job.temp)
