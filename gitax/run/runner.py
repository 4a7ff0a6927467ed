"""Running one job from the build process: pipes, the forked job process, output, ingest.

Write order (docs/design.md): every blob and tree, then the manifest, then the index
entry (the commit point), then the workdir is moved into place. A crash before the index
entry leaves only unreferenced objects; after it, the job is complete in the store.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import shutil
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from gitax.errors import GitaxError
from gitax.jobs.job import OUTPUT_DIR, Job
from gitax.jobs.project import Project
from gitax.run import fresh, jobproc, status
from gitax.run.environment import distributions, environment
from gitax.run.ingest import ingest
from gitax.run.jobproc import JobProcess, control_folder
from gitax.run.jobspec import LOADING, PREPARE, RESULT, SYNTHESIS, JobSpec, output_names
from gitax.run.modules import loaded_modules
from gitax.run.output import Pump, pump
from gitax.run.procsetup import describe_exit, load_prctl, prepare_child
from gitax.store import layout
from gitax.store.fsutil import made_dir, unique_dir


class JobFailed(GitaxError):
    """A job raised, or one of its processes died; nothing was stored."""

    def __init__(
        self,
        job: str,
        phase: str,
        reason: str,
        details: str,
        kept: Path,
        sliceno: int | None = None,
    ) -> None:
        self.job, self.phase, self.reason, self.details, self.kept = (
            job,
            phase,
            reason,
            details,
            kept,
        )
        self.sliceno = sliceno
        where = phase if sliceno is None else f"{phase} (slice {sliceno})"
        super().__init__(
            f"job {job} failed in {where}: {reason}; its directory and logs are kept in {kept}"
        )


class JobNotStored(GitaxError):
    """A job ran, but writing it into the store failed (a full disk, say)."""

    def __init__(self, job: str, error: OSError, store: Path) -> None:
        self.job = job
        where = error.filename or store
        super().__init__(
            f"job {job} ran but could not be stored in {where}: {error.strerror or error}; its "
            "run folder was removed to give the space back: free space and build again"
        )


def run_job(
    project: Project,
    spec: JobSpec,
    live: IO[bytes] | None = None,
    git: dict[str, Any] | None = None,
    tick: Callable[[], None] | None = None,
) -> Job:
    """Run a job in a forked job process and store it; raise JobFailed, storing nothing,
    if it fails."""
    store = project.store
    made_dir(store.tmp)
    # The job's directory is made here and moved into the workdir when the job is
    # stored; the control folder beside it is made only if a job needs one (slices,
    # subjobs, a failure), since the result comes back through a pipe.
    jobdir = unique_dir(store.tmp, f"run-{spec.id}-")
    ctl = control_folder(jobdir)
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    pipes = {name: os.pipe() for name in [*output_names(spec), RESULT]}
    sync, sync_child = socket.socketpair()
    load_prctl()
    spec.method.code()  # compiled and parsed here once; every job process inherits them
    spec.method.import_roots()
    loaded_modules()
    forget = fresh.project_modules(project.root)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the job process reports through pipes and exit status
        code = 1
        try:
            os.setpgid(0, 0)  # its own process group: what it leaves running dies with it
            for r, _ in pipes.values():
                os.close(r)
            sync.close()
            prepare_child()
            jobproc.inherited_git = git  # subjobs built inside this job record the same
            proc = JobProcess(project, spec, jobdir, ctl, spec.slices, forget, sync_child)
            code = proc.run({name: w for name, (_, w) in pipes.items()})
        finally:
            os._exit(code)
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)  # also here, so that it holds before either side goes on
    for _, w in pipes.values():
        os.close(w)
    sync_child.close()
    reads = {name: r for name, (r, _) in pipes.items()}
    copied = Pump(jobdir, live, spec.id)
    pidfd = _pidfd(pid)
    try:
        exited = None if pidfd is None else (pidfd, lambda: _kill_group(pid))
        pump(reads, copied, tick, exited, sync)
        _, code, usage = os.wait4(pid, 0)
        _kill_group(pid)  # before its files are read: nothing it started may change them
    except BaseException:
        with deferred_interrupts():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # its slices die with it (PR_SET_PDEATHSIG)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            _kill_group(pid)
            _forget_status(store.root, pid)
            _keep_failed(store.failed, spec.id, jobdir)
        raise
    finally:
        copied.close()
        sync.close()
        for r in reads.values():
            os.close(r)
        if pidfd is not None:
            os.close(pidfd)
    with deferred_interrupts():  # an interrupt now waits until the store is consistent
        return _conclude(project, spec, jobdir, copied.result, code, usage, started, t0, pid, git)


def _conclude(
    project: Project,
    spec: JobSpec,
    jobdir: Path,
    sent: bytearray,
    code: int,
    usage: Any,
    started: datetime,
    t0: float,
    pid: int,
    git: dict[str, Any] | None,
) -> Job:
    """Keep a failed job's directory and raise, or store a finished job."""
    store = project.store
    ctl = control_folder(jobdir)
    wall = time.perf_counter() - t0
    if code != 0 or not sent:
        if code != 0:
            phase, sliceno, reason, details = _failure(ctl, code, store.root, pid)
        else:  # it exited cleanly without sending a result: something ended it early
            phase, sliceno, reason, details = "the job process", None, "sent no result", ""
            _forget_status(store.root, pid)
        kept = _keep_failed(store.failed, spec.id, jobdir)
        _log_traceback(kept, phase, sliceno, details)
        raise JobFailed(spec.id, phase, reason, details, kept, sliceno)
    timing = {
        "started": started.isoformat(),
        "finished": datetime.now(timezone.utc).isoformat(),
        "wall": round(wall, 6),
        "cpu": round(usage.ru_utime + usage.ru_stime, 6),
        "maxrss_kib": usage.ru_maxrss,
    }
    result = pickle.loads(sent)
    env = dict(environment(), distributions=distributions(store.root, result["modules"]))
    try:
        job = ingest(project, spec, jobdir, ctl, result, timing, env, git or {})
    except OSError as e:
        # A full disk, say: what the job made cannot be stored, and keeping its folder
        # would keep the space. Nothing of it was committed (the index entry is last).
        shutil.rmtree(jobdir, ignore_errors=True)
        _remove_control_folder(ctl)
        raise JobNotStored(spec.id, e, store.root) from None
    _remove_control_folder(ctl)
    shutil.rmtree(store.path("failed", spec.id), ignore_errors=True)  # an older failure is moot
    return job


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends: cleaning up after a job or storing
    it must not stop half-way. A signal that came meanwhile is delivered at the end."""
    held = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _failure(ctl: Path, code: int, store_root: Path, pid: int) -> tuple[str, int | None, str, str]:
    """(phase, slice, reason, traceback) of a failed job process."""
    error = ctl / "error.json"
    if error.exists():
        doc = json.loads(error.read_text())
        _forget_status(store_root, pid)
        return doc["phase"], doc["slice"], doc["reason"], doc["details"]
    # Killed before it could say: its status file still names the phase it was in.
    phase = "the job process"
    with contextlib.suppress(OSError, ValueError):
        path = store_root / status.STATUS_DIR / f"{pid}.json"
        phase = json.loads(path.read_bytes()).get("phase", phase)
    _forget_status(store_root, pid)
    return phase, None, describe_exit(code), ""


def _log_traceback(kept: Path, phase: str, sliceno: int | None, details: str) -> None:
    """Append a failed job's traceback to the kept log of the phase that failed: the CLI
    prints it once, on stderr, and the logs keep it."""
    name = str(sliceno) if sliceno is not None else PREPARE if phase == LOADING else phase
    if not details or name not in (PREPARE, SYNTHESIS) and not name.isdigit():
        return
    with contextlib.suppress(OSError):
        (kept / OUTPUT_DIR).mkdir(exist_ok=True)
        with open(kept / OUTPUT_DIR / name, "a", encoding="utf-8") as log:
            log.write(details)


def _pidfd(pid: int) -> int | None:
    """A file descriptor that becomes readable when the process exits (Linux 5.3+)."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None  # then the job ends when the last of its pipes closes


def _kill_group(pid: int) -> None:
    """Kill whatever the job process left running in its process group (a background
    process a method started, a slice's child)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _forget_status(store_root: Path, pid: int) -> None:
    with contextlib.suppress(OSError):
        os.unlink(store_root / status.STATUS_DIR / f"{pid}.json")


def _remove_control_folder(ctl: Path) -> None:
    """Remove a run's control folder, if it needed one: it holds only files."""
    try:
        names = os.listdir(ctl)
    except FileNotFoundError:
        return
    try:
        for name in names:
            os.unlink(ctl / name)
        os.rmdir(ctl)
    except OSError:
        shutil.rmtree(ctl, ignore_errors=True)


def _keep_failed(failed: Path, jid: str, jobdir: Path) -> Path:
    """Move a failed job's directory to failed/<id> for inspection (replacing an older
    one), and remove its control folder."""
    failed.mkdir(parents=True, exist_ok=True)
    kept = layout.under(failed, "failed", jid)
    if kept.exists():
        shutil.rmtree(kept)
    os.rename(jobdir, kept)
    _remove_control_folder(control_folder(jobdir))
    return kept
