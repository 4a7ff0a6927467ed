"""The job process: runs prepare and synthesis itself and forks one process per slice.

It is forked from the build process, which made one pipe per phase and per slice, and
one for the result, before forking and reads them all (see runner). The result,
{"value": pickled synthesis value, "files": [...], "profile": {...}, "modules": [...],
"inputs": {...}}, is pickled onto the result pipe last, only if all went well. The rest
travels through files in the run's control folder (`<job dir>.ctl`, made when first
needed), written only by this process and its slices:

    slice.<k>        {"value": analysis value, "tracking": {...}, "modules": [...]}
    error.<k>        a failed slice's traceback
    subjobs          `<id> <key>` per subjob built (appended by any phase)
    error.json       on failure: phase, slice, reason, traceback
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

from gitax.jobs.inputs import sha256_file
from gitax.jobs.manifest import check_file_name
from gitax.jobs.project import Project, set_current
from gitax.jobs.withfile import running_jobs
from gitax.run import dswriter, status
from gitax.run.analysis_res import AnalysisResults
from gitax.run.context import CurrentJob, DotDict, collect_files
from gitax.run.fresh import start_fresh
from gitax.run.jobspec import ANALYSIS, LOADING, PREPARE, RESULT, SYNTHESIS, JobSpec
from gitax.run.modules import LoadedModules, imported_modules, loaded_modules
from gitax.run.output import ask_sync, end_output, redirect_output
from gitax.run.procsetup import describe_exit, prepare_child
from gitax.run.profiling import measured
from gitax.run.tracebacks import user_traceback

ALLOWED = {
    PREPARE: ("job", "slices", "params"),
    ANALYSIS: ("job", "slices", "sliceno", "prepare_res", "params"),
    SYNTHESIS: ("job", "slices", "prepare_res", "analysis_res", "params"),
}
MAX_NESTING = 5  # a job and four levels of subjobs below it, as exax allows


# Set in each job process: the git state its build recorded, for subjobs built inside it.
inherited_git: dict[str, Any] | None = None
# (key, id) of every job this process runs inside, outermost first: a subjob that needs
# one of them would wait for itself.
running: tuple[tuple[str, str], ...] = ()


class SliceFailed(Exception):
    """One analysis slice failed; the others were killed."""

    def __init__(self, sliceno: int, reason: str, details: str) -> None:
        self.sliceno, self.reason, self.details = sliceno, reason, details
        super().__init__(reason)


def call_phase(module: Any, phase: str, available: dict[str, Any], wanted: tuple[str, ...]) -> Any:
    """Call a phase function with the arguments it names."""
    missing = [a for a in wanted if a not in available or a not in ALLOWED[phase]]
    if missing:
        raise TypeError(
            f"{phase}() asks for {missing[0]!r}; it can ask for {', '.join(ALLOWED[phase])}"
        )
    return module.__dict__[phase](**{a: available[a] for a in wanted})


def hash_inputs(paths: set[str], root: Path) -> dict[str, dict[str, Any]]:
    """sha256 and size of each input file that exists, by project-relative path."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(paths):
        try:
            digest, size = sha256_file(path)
        except (FileNotFoundError, IsADirectoryError):
            continue  # asked for but never there: nothing was read
        rel = os.path.relpath(path, root)
        out[rel if not rel.startswith("..") else path] = {"sha256": digest, "size": size}
    return out


def control_folder(jobdir: Path) -> Path:
    """Where a run's control files go: beside its job directory, made when first needed."""
    return jobdir.with_name(jobdir.name + ".ctl")


def _write_error(ctl: Path, phase: str, sliceno: int | None, reason: str, details: str) -> None:
    doc = {"phase": phase, "slice": sliceno, "reason": reason, "details": details}
    ctl.mkdir(exist_ok=True)
    (ctl / "error.json").write_text(json.dumps(doc))


def send(fd: int, data: bytes) -> None:
    """Write all of `data` to a pipe and close it."""
    with open(fd, "wb", closefd=True) as fh:
        fh.write(data)


def _track_doc(job: CurrentJob) -> str:
    return json.dumps(
        {
            "auto": job.auto,
            "explicit": sorted(job.explicit),
            "written": sorted(job.written),
            "temp": sorted(job.temp),
            "inputs": sorted(job.inputs),
        }
    )


def _merge_tracking(job: CurrentJob, text: str) -> None:
    doc = json.loads(text)
    job.auto = job.auto and doc["auto"]
    job.explicit |= set(doc["explicit"])
    job.written |= set(doc["written"])
    job.temp |= set(doc["temp"])
    job.inputs |= set(doc["inputs"])


class JobProcess:
    """Everything the job process and its slices share."""

    def __init__(
        self,
        project: Project,
        spec: JobSpec,
        jobdir: Path,
        ctl: Path,
        slices: int,
        forget: tuple[str, ...] = (),
        sync: socket.socket | None = None,
    ) -> None:
        self.project, self.spec, self.jobdir, self.ctl = project, spec, jobdir, ctl
        self.sync = sync  # where this process asks the build process to copy its output
        self.slices = slices
        self.method = spec.method
        self.status_dir = project.store.root / status.STATUS_DIR
        # Taken by the build process before it forked.
        self.baseline: LoadedModules = loaded_modules()
        self.forget = forget  # the parent's project modules, which this job must not see
        # What `slices` says in every phase (exax's): the configured count, also in a
        # method without analysis(), which runs no slices and is keyed without them.
        self.configured_slices = slices or project.config.slices

    def load_module(self, current: CurrentJob) -> Any:
        """Execute the method's hashed source as a module with its parameters filled in."""
        method = self.method
        module = type(sys)(f"a_{method.name}")
        module.__file__ = str(method.path)
        sys.modules[module.__name__] = module
        # Run the exact bytes that were hashed into the key, not whatever is on disk now.
        exec(method.code(), module.__dict__)
        # exax semantics: the declarations are replaced by the filled-in values.
        options, jobs = DotDict(self.spec.options), DotDict(self.spec.jobs)
        module.__dict__.update(options=options, jobs=jobs)
        datasets = DotDict(self.spec.datasets)
        module.__dict__["datasets"] = datasets
        current.params = DotDict(
            options=options,
            jobs=jobs,
            datasets=datasets,
            method=method.name,
            jobid=self.spec.id,
            hash=self.spec.key,
            slices=self.configured_slices,
            caption="",
        )
        return module

    def run(self, fds: dict[str, int]) -> int:
        """The body of the job process; returns its exit status."""
        redirect_output(fds[PREPARE])
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # line-buffered: live output
        sys.stderr = open(2, "w", buffering=1, closefd=False)
        board = status.start(
            self.status_dir,
            project=str(self.project.root),
            job=self.spec.id,
            method=self.method.name,
            job_started=time.time(),
        )
        board.set_phase(LOADING)
        global running
        running = (*running, (self.spec.key, self.spec.id))
        phase, sliceno = LOADING, None
        try:
            os.chdir(self.jobdir)
            start_fresh(self.project.root, self.method.folder, self.method.sources, self.forget)
            self.baseline.forgot(self.forget)
            set_current(self.project)
            os.environ["GITAX_RUN_CTL"] = str(self.ctl)  # where subjobs are recorded
            current = CurrentJob(self.project, self.method.name, self.spec.key, self.jobdir, None)
            current.sync_output = lambda: ask_sync(self.sync)
            running_jobs[self.spec.id] = current  # subjobs may be given it as an option
            dswriter.install_hooks(current, status.status)
            if self.spec.datasets:
                dswriter.preload()  # once here, not once in every forked slice
            module = self.load_module(current)
            phase = PREPARE
            board.set_phase(PREPARE)
            available: dict[str, Any] = {
                "job": current,
                "slices": self.configured_slices,
                "prepare_res": None,
                "params": current.params,
            }
            profile: dict[str, Any] = {}
            phases, args = self.method.phases, self.method.phase_args
            if PREPARE in phases:
                with measured(profile, PREPARE):
                    available["prepare_res"] = call_phase(module, PREPARE, available, args[PREPARE])
            end_output(fds.pop(PREPARE))
            if ANALYSIS in phases:
                phase = current.phase = ANALYSIS
                board.set_phase(ANALYSIS)
                try:
                    results, profile[ANALYSIS], slice_modules = self.run_slices(
                        module, available, current, fds
                    )
                except SliceFailed as e:
                    sliceno = e.sliceno
                    _write_error(self.ctl, ANALYSIS, e.sliceno, e.reason, e.details)
                    return 1
                available["analysis_res"] = AnalysisResults(results)
            else:
                slice_modules = set()
            value = None
            if SYNTHESIS in phases:
                phase = current.phase = SYNTHESIS
                redirect_output(fds[SYNTHESIS])
                board.set_phase(SYNTHESIS)
                with measured(profile, SYNTHESIS):
                    value = call_phase(module, SYNTHESIS, available, args[SYNTHESIS])
            current.phase = SYNTHESIS  # datasets left open are finished as synthesis would
            datasets = dswriter.finish_all(current)
            try:
                data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as e:
                raise TypeError(
                    f"{SYNTHESIS}() returned a value that cannot be pickled: {e}"
                ) from e
            self.finish(current, data, profile, slice_modules, fds.pop(RESULT), datasets)
            return 0
        except BaseException as e:
            details = user_traceback(e)
            _write_error(self.ctl, phase, sliceno, details.strip().splitlines()[-1], details)
            return 1
        finally:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            board.close()

    def finish(
        self,
        current: CurrentJob,
        value: bytes,
        profile: dict[str, Any],
        slice_modules: set[str],
        result_fd: int,
        datasets: dict[str, Any],
    ) -> None:
        """Send the value, the files to store, the profile, the imported modules and the
        descriptions of the datasets written."""
        files = collect_files(current)
        for f in sorted(files):
            check_file_name(f)
            if (self.jobdir / f).is_symlink():
                raise ValueError(f"registered file {f!r} is a symlink; store a copy instead")
            if not (self.jobdir / f).is_file():
                raise FileNotFoundError(f"registered file {f!r} does not exist")
        modules = set(imported_modules(self.baseline, self.method.import_roots())) | slice_modules
        result = {
            "value": value,
            "files": sorted(files),
            "profile": profile,
            "modules": sorted(modules),
            "inputs": hash_inputs(current.inputs, self.project.root),
            "datasets": datasets,
        }
        send(result_fd, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))

    def run_slices(
        self, module: Any, available: dict[str, Any], current: CurrentJob, fds: dict[str, int]
    ) -> tuple[list[Any], dict[str, Any], set[str]]:
        """Fork one process per slice, wait for all; the first failure kills the rest."""
        self.ctl.mkdir(exist_ok=True)  # where slices leave their values
        started: dict[int, tuple[int, float]] = {}
        for k in range(self.slices):
            pid = os.fork()
            if pid == 0:  # pragma: no cover - reports through its exit status
                code = 1
                try:
                    for name, fd in fds.items():
                        if name != str(k):
                            os.close(fd)
                    prepare_child()
                    code = self.slice_body(module, available, current, k, fds[str(k)])
                finally:
                    os._exit(code)
            started[pid] = (k, time.perf_counter())
        for k in range(self.slices):
            os.close(fds.pop(str(k)))
        profile: dict[str, Any] = {}
        failed: tuple[int, int] | None = None
        while started:
            pid, code, usage = os.wait4(-1, 0)
            if pid not in started:
                continue
            k, t0 = started.pop(pid)
            profile[str(k)] = {
                "wall": round(time.perf_counter() - t0, 6),
                "cpu": round(usage.ru_utime + usage.ru_stime, 6),
                "maxrss_kib": usage.ru_maxrss,
            }
            if code != 0 and failed is None:
                failed = (k, code)
                for other in started:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(other, signal.SIGKILL)
        if failed is not None:
            k, code = failed
            error = self.ctl / f"error.{k}"
            if error.exists():
                details = error.read_text(errors="replace")
                raise SliceFailed(k, details.strip().splitlines()[-1], details)
            raise SliceFailed(k, describe_exit(code), "")
        results = []
        modules: set[str] = set()
        for k in range(self.slices):
            doc = pickle.loads((self.ctl / f"slice.{k}").read_bytes())
            results.append(doc["value"])
            _merge_tracking(current, doc["tracking"])
            dswriter.merge_slice(current, k, doc["datasets"])
            modules |= set(doc["modules"])
        return results, profile, modules

    def slice_body(
        self, module: Any, available: dict[str, Any], current: CurrentJob, k: int, fd: int
    ) -> int:
        """One analysis slice, in its own process; returns its exit status."""
        redirect_output(fd)
        current.sync_output = None  # the sync socket answers the job process only
        status.start(
            self.status_dir,
            project=str(self.project.root),
            job=self.spec.id,
            method=self.method.name,
            job_started=time.time(),
        ).set_phase(ANALYSIS, k)
        try:
            args = dict(available, sliceno=k)
            current.phase = ANALYSIS
            dswriter.start_slice(current, k)
            value = call_phase(module, ANALYSIS, args, self.method.phase_args[ANALYSIS])
            datasets = dswriter.end_slice(current, k)
            doc = {
                "value": value,
                "datasets": datasets,
                "tracking": _track_doc(current),
                "modules": imported_modules(self.baseline),
            }
            try:
                data = pickle.dumps(doc, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as e:
                raise TypeError(f"analysis() returned a value that cannot be pickled: {e}") from e
            (self.ctl / f"slice.{k}").write_bytes(data)
            return 0
        except BaseException as e:
            details = user_traceback(e)
            (self.ctl / f"error.{k}").write_text(details)
            return 1
        finally:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            board = status.current()
            if board is not None:
                board.close()
