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
import resource
import signal
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gitax.jobs.inputs import sha256_file
from gitax.jobs.manifest import check_file_name
from gitax.jobs.project import Project, set_current
from gitax.jobs.withfile import running_jobs
from gitax.run import status
from gitax.run.context import CurrentJob, DotDict, collect_files
from gitax.run.fresh import start_fresh
from gitax.run.merge import AnalysisResults

PREPARE, ANALYSIS, SYNTHESIS = "prepare", "analysis", "synthesis"
RESULT = "result"  # the pipe the job process sends its result on (not an output stream)
LOADING = "loading"  # running the method module's top level; its output goes with prepare's
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


_prctl: Any = None


def load_prctl() -> None:
    """Find libc's prctl once, in the build process: importing ctypes and opening libc
    after every fork would cost each job several milliseconds."""
    global _prctl
    if _prctl is None and sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            _prctl = ctypes.CDLL(None, use_errno=True).prctl


def die_with_parent() -> None:
    """Ask Linux to kill this process if its parent dies (even by SIGKILL)."""
    if _prctl is not None:
        _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def prepare_child() -> None:
    """Signal set-up for every forked job or slice process."""
    die_with_parent()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)  # only the build process reports status
    signal.signal(signal.SIGINT, signal.default_int_handler)


def redirect_output(fd: int) -> None:
    """Send this process's stdout and stderr (fds 1 and 2) to `fd`."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)


_devnull: int | None = None


def end_output(fd: int) -> None:
    """Finish a phase's output: point fds 1 and 2 at /dev/null and close the phase's pipe,
    so the build process sees the end of that phase's output."""
    global _devnull
    if _devnull is None:
        _devnull = os.open(os.devnull, os.O_WRONLY)
    redirect_output(_devnull)
    os.close(fd)


@contextlib.contextmanager
def measured(into: dict[str, Any], name: str) -> Iterator[None]:
    """Record wall time, CPU time and peak RSS of this process over the block."""
    t0, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    try:
        yield
    finally:
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        into[name] = {
            "wall": round(time.perf_counter() - t0, 6),
            "cpu": round(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime, 6),
            "maxrss_kib": r1.ru_maxrss,
        }


def call_phase(module: Any, phase: str, available: dict[str, Any], wanted: tuple[str, ...]) -> Any:
    """Call a phase function with the arguments it names."""
    missing = [a for a in wanted if a not in available or a not in ALLOWED[phase]]
    if missing:
        raise TypeError(
            f"{phase}() asks for {missing[0]!r}; it can ask for {', '.join(ALLOWED[phase])}"
        )
    return module.__dict__[phase](**{a: available[a] for a in wanted})


def describe_exit(status_code: int) -> str:
    """A process's wait status in words."""
    if os.WIFSIGNALED(status_code):
        sig = os.WTERMSIG(status_code)
        hint = " (out of memory?)" if sig == signal.SIGKILL else ""
        return f"killed by {signal.Signals(sig).name}{hint}"
    return f"exited with status {os.WEXITSTATUS(status_code)}"


def top_level_modules() -> set[str]:
    """Top-level names of every loaded module."""
    return {m.split(".", 1)[0] for m in list(sys.modules)}


class LoadedModules:
    """The modules loaded when a job process starts, to tell which ones the job loaded.

    Taken in the build process before it forks (and kept while sys.modules stays the
    same), so that a job process does not walk all of sys.modules: each module name it
    touches after the fork costs a copied page. sys.modules keeps insertion order, so a
    job's own modules are the ones after `last`."""

    def __init__(self) -> None:
        self.count = len(sys.modules)
        self.last = next(reversed(sys.modules))
        self.top = frozenset(top_level_modules())

    def forgot(self, names: tuple[str, ...]) -> None:
        """Take `names`, just removed from sys.modules, as never loaded: re-importing them
        is then the job's own loading."""
        if names:
            self.count = len(sys.modules)
            self.last = next(reversed(sys.modules))

    def current(self) -> bool:
        """Is sys.modules still as it was taken?"""
        return len(sys.modules) == self.count and next(reversed(sys.modules)) == self.last

    def new_since(self) -> set[str]:
        """Top-level names of the modules loaded since."""
        added = []
        for name in reversed(sys.modules):
            if name == self.last:
                break
            added.append(name)
        if len(added) != len(sys.modules) - self.count:  # some were removed: look at all
            return top_level_modules() - self.top
        return {name.split(".", 1)[0] for name in added} - self.top


_loaded: LoadedModules | None = None


def loaded_modules() -> LoadedModules:
    """The modules loaded now (taken again only when sys.modules changed)."""
    global _loaded
    if _loaded is None or not _loaded.current():
        _loaded = LoadedModules()
    return _loaded


def imported_modules(baseline: LoadedModules, named: frozenset[str] = frozenset()) -> list[str]:
    """Top-level, non-standard-library modules the job loaded (those new since the job
    process started) or `named` in an import statement of its sources (already loaded
    ones included: a method importing click uses click even though gitax loaded it first)."""
    stdlib: frozenset[str] = getattr(sys, "stdlib_module_names", frozenset())
    names = baseline.new_since() | named
    return sorted(n for n in names if n not in stdlib and not n.startswith("_"))


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
        spec: Any,
        jobdir: Path,
        ctl: Path,
        slices: int,
        forget: tuple[str, ...] = (),
    ) -> None:
        self.project, self.spec, self.jobdir, self.ctl = project, spec, jobdir, ctl
        self.slices = slices
        self.method = spec.method
        self.status_dir = project.store.root / status.STATUS_DIR
        self.baseline = loaded_modules()  # taken by the build process before it forked
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
        current.params = DotDict(
            options=options,
            jobs=jobs,
            datasets=DotDict(),
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
            running_jobs[self.spec.id] = current  # subjobs may be given it as an option
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
                phase = ANALYSIS
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
                phase = SYNTHESIS
                redirect_output(fds[SYNTHESIS])
                board.set_phase(SYNTHESIS)
                with measured(profile, SYNTHESIS):
                    value = call_phase(module, SYNTHESIS, available, args[SYNTHESIS])
            try:
                data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as e:
                raise TypeError(
                    f"{SYNTHESIS}() returned a value that cannot be pickled: {e}"
                ) from e
            self.finish(current, data, profile, slice_modules, fds.pop(RESULT))
            return 0
        except BaseException:
            details = traceback.format_exc()
            sys.stderr.write(details)
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
    ) -> None:
        """Send the value, the files to store, the profile and the imported modules."""
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
            modules |= set(doc["modules"])
        return results, profile, modules

    def slice_body(
        self, module: Any, available: dict[str, Any], current: CurrentJob, k: int, fd: int
    ) -> int:
        """One analysis slice, in its own process; returns its exit status."""
        redirect_output(fd)
        status.start(
            self.status_dir,
            project=str(self.project.root),
            job=self.spec.id,
            method=self.method.name,
            job_started=time.time(),
        ).set_phase(ANALYSIS, k)
        try:
            args = dict(available, sliceno=k)
            value = call_phase(module, ANALYSIS, args, self.method.phase_args[ANALYSIS])
            doc = {
                "value": value,
                "tracking": _track_doc(current),
                "modules": imported_modules(self.baseline),
            }
            try:
                data = pickle.dumps(doc, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as e:
                raise TypeError(f"analysis() returned a value that cannot be pickled: {e}") from e
            (self.ctl / f"slice.{k}").write_bytes(data)
            return 0
        except BaseException:
            details = traceback.format_exc()
            sys.stderr.write(details)
            (self.ctl / f"error.{k}").write_text(details)
            return 1
        finally:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            board = status.current()
            if board is not None:
                board.close()
