"""Running one job: a forked process in a fresh directory, output captured, then ingested.

Write order (docs/design.md): every blob and tree, then the manifest, then the index
entry (the commit point), then the workdir is moved into place. A crash before the index
entry leaves only unreferenced objects; after it, the job is complete in the store.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import pickle
import platform
import shutil
import signal
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from gitax import __version__
from gitax.errors import GitaxError
from gitax.jobs.job import OUTPUT_DIR, Job
from gitax.jobs.keys import job_id
from gitax.jobs.manifest import Manifest, TreeEntry, format_manifest, format_tree
from gitax.jobs.methods import Method
from gitax.jobs.project import Project, set_current
from gitax.run.context import CurrentJob, DotDict, collect_files
from gitax.store.hashing import to_jsonable

PHASE = "synthesis"


class JobFailed(GitaxError):
    """A job raised, or its process died; nothing was stored."""

    def __init__(self, job: str, phase: str, reason: str, details: str, kept: Path) -> None:
        self.job, self.phase, self.reason, self.details, self.kept = (
            job,
            phase,
            reason,
            details,
            kept,
        )
        super().__init__(
            f"job {job} failed in {phase}: {reason}; its directory and logs are kept in {kept}"
        )


@dataclass(frozen=True)
class JobSpec:
    """Everything needed to run a job, decided before it runs."""

    method: Method
    key: str
    options: dict[str, Any]
    jobs: dict[str, Job | list[Job] | None]

    @property
    def id(self) -> str:
        """The id the job will have."""
        return job_id(self.method.name, self.key)


def _environment() -> dict[str, Any]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "gitax": __version__,
        "host": socket.gethostname(),
        "user": user,
    }


_ENV: dict[str, Any] | None = None


def environment() -> dict[str, Any]:
    """Where jobs run (computed once per process)."""
    global _ENV
    if _ENV is None:
        _ENV = _environment()
    return _ENV


def _inputs_for_manifest(jobs: dict[str, Job | list[Job] | None]) -> dict[str, Any]:
    def one(j: Job) -> dict[str, str]:
        return {"id": j.id, "key": j.key}

    return {
        name: [one(j) for j in v] if isinstance(v, list) else (one(v) if v else None)
        for name, v in jobs.items()
    }


def _child(project: Project, spec: JobSpec, jobdir: Path, ctl: Path) -> int:
    """Run the method in this (forked) process; return the exit status."""
    method = spec.method
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # line-buffered: live output
    sys.stderr = open(2, "w", buffering=1, closefd=False)
    os.chdir(jobdir)
    sys.path[:0] = [str(method.folder), str(project.root)]
    set_current(project)
    current = CurrentJob(project, method.name, spec.key, jobdir, None)
    try:
        module = type(sys)(f"a_{method.name}")
        module.__file__ = str(method.path)
        sys.modules[module.__name__] = module
        # Run the exact bytes that were hashed into the key, not whatever is on disk now.
        code = compile(method.sources[0].data, str(method.path), "exec")
        exec(code, module.__dict__)
        # exax semantics: the declarations are replaced by the filled-in values.
        options, jobs = DotDict(spec.options), DotDict(spec.jobs)
        module.__dict__.update(options=options, jobs=jobs)
        current.params = DotDict(options=options, jobs=jobs)
        available = {"job": current, "slices": project.config.slices}
        func = module.__dict__[PHASE]
        wanted = method.phase_args.get(PHASE, ())
        missing = [a for a in wanted if a not in available]
        if missing:
            raise TypeError(f"{PHASE}() asks for {missing[0]!r}; it can ask for job, slices")
        value = func(**{a: available[a] for a in wanted})
        try:
            data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:
            raise TypeError(f"{PHASE}() returned a value that cannot be pickled: {e}") from e
        (ctl / "value.pickle").write_bytes(data)
        files = collect_files(current)
        for f in sorted(files):
            if (jobdir / f).is_symlink():
                raise ValueError(f"registered file {f!r} is a symlink; store a copy instead")
            if not (jobdir / f).is_file():
                raise FileNotFoundError(f"registered file {f!r} does not exist")
        (ctl / "files").write_text("\n".join(sorted(files)))
        return 0
    except BaseException:
        text = traceback.format_exc()
        sys.stderr.write(text)
        (ctl / "error").write_text(text)
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def _die_with_parent() -> None:
    """Ask Linux to kill this job process if the build process dies (even by SIGKILL)."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name
        hint = " (out of memory?)" if sig == signal.SIGKILL else ""
        return f"killed by {name}{hint}"
    return f"exited with status {os.WEXITSTATUS(status)}"


def _pump(rfd: int, jobdir: Path, live: IO[bytes] | None) -> None:
    """Copy the child's output to OUTPUT/<phase> (created only if non-empty) and `live`."""
    out: IO[bytes] | None = None
    try:
        while True:
            chunk = os.read(rfd, 65536)
            if not chunk:
                break
            if out is None:
                (jobdir / OUTPUT_DIR).mkdir(exist_ok=True)
                out = open(jobdir / OUTPUT_DIR / PHASE, "ab")
            out.write(chunk)
            if live is not None:
                live.write(chunk)
                live.flush()
    finally:
        if out is not None:
            out.close()


def run_job(
    project: Project,
    spec: JobSpec,
    live: IO[bytes] | None = None,
    provenance: Callable[[], dict[str, Any]] | None = None,
) -> Job:
    """Run a job in a forked process and store it; raise JobFailed, storing nothing, if it
    fails."""
    store = project.store
    store.tmp.mkdir(parents=True, exist_ok=True)
    rundir = Path(tempfile.mkdtemp(prefix=f"run-{spec.id}-", dir=store.tmp))
    jobdir, ctl = rundir / "job", rundir / "ctl"
    jobdir.mkdir()
    ctl.mkdir()
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        status = 1
        try:
            os.close(rfd)
            os.dup2(wfd, 1)
            os.dup2(wfd, 2)
            os.close(wfd)
            _die_with_parent()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            status = _child(project, spec, jobdir, ctl)
        finally:
            os._exit(status)
    os.close(wfd)
    try:
        _pump(rfd, jobdir, live)
        _, status, usage = os.wait4(pid, 0)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        _keep_failed(store.failed, spec.id, rundir)
        raise
    finally:
        os.close(rfd)
    wall = time.perf_counter() - t0
    if status != 0:
        error = ctl / "error"
        if error.exists():
            details = error.read_text(errors="replace")
            reason = details.strip().splitlines()[-1]
        else:
            details, reason = "", _describe_status(status)
        kept = _keep_failed(store.failed, spec.id, rundir)
        raise JobFailed(spec.id, PHASE, reason, details, kept)
    timing = {
        "started": started.isoformat(),
        "finished": datetime.now(timezone.utc).isoformat(),
        "wall": round(wall, 6),
        "cpu": round(usage.ru_utime + usage.ru_stime, 6),
        "maxrss_kib": usage.ru_maxrss,
    }
    job = _ingest(project, spec, jobdir, ctl, timing, provenance() if provenance else {})
    shutil.rmtree(rundir, ignore_errors=True)
    shutil.rmtree(store.failed / spec.id, ignore_errors=True)  # an older failure is moot
    return job


def _keep_failed(failed: Path, jid: str, rundir: Path) -> Path:
    """Move a failed job's directory to failed/<id> for inspection (replacing an older one)."""
    failed.mkdir(parents=True, exist_ok=True)
    kept = failed / jid
    if kept.exists():
        shutil.rmtree(kept)
    os.rename(rundir / "job", kept)
    shutil.rmtree(rundir, ignore_errors=True)
    return kept


def _ingest(
    project: Project,
    spec: JobSpec,
    jobdir: Path,
    ctl: Path,
    timing: dict[str, Any],
    git: dict[str, Any],
) -> Job:
    store = project.store
    objects = store.objects
    names = [n for n in (ctl / "files").read_text().split("\n") if n]
    keep = set(names)
    entries = {}
    for name in names:
        path = jobdir / name
        st = path.stat()
        entries[name] = TreeEntry(
            objects.put_file("blob", path), st.st_size, bool(st.st_mode & 0o111)
        )
    tree_id = objects.put_bytes("tree", format_tree(entries))
    output = {}
    out_file = jobdir / OUTPUT_DIR / PHASE
    if out_file.exists():
        output[PHASE] = objects.put_file("blob", out_file)
    value_id = objects.put_bytes("blob", (ctl / "value.pickle").read_bytes())
    for src in spec.method.sources:
        objects.put_bytes("blob", src.data)
    manifest = Manifest(
        key=spec.key,
        method=spec.method.name,
        id=spec.id,
        options=to_jsonable(spec.options),
        jobs=_inputs_for_manifest(spec.jobs),
        sources={s.relpath: s.blob_id for s in spec.method.sources},
        files=tree_id,
        value=value_id,
        output=output,
        timing=timing,
        env=environment(),
        git=git,
    )
    manifest_id = objects.put_bytes("manifest", format_manifest(manifest))
    store.index.put(spec.key, manifest_id)  # the commit point
    _settle_workdir(jobdir, keep, store.work / spec.id)
    return Job.from_key(project, spec.key, manifest)


def _settle_workdir(jobdir: Path, keep: set[str], final: Path) -> None:
    """Make the run directory look exactly like a materialised job and move it into place."""
    for dirpath, dirnames, filenames in os.walk(jobdir, topdown=False):
        rel_dir = os.path.relpath(dirpath, jobdir)
        if rel_dir == OUTPUT_DIR:
            continue
        for f in filenames:
            rel = f if rel_dir == "." else f"{rel_dir}/{f}"
            path = os.path.join(dirpath, f)
            if rel in keep and not os.path.islink(path):
                os.chmod(path, 0o555 if os.stat(path).st_mode & 0o111 else 0o444)
            else:
                os.unlink(path)  # not stored, so it would vanish on eviction anyway
        for d in dirnames:
            path = os.path.join(dirpath, d)
            if os.path.islink(path):
                os.unlink(path)
                continue
            with contextlib.suppress(OSError):
                os.rmdir(path)  # only empty ones
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        shutil.rmtree(final)
    os.rename(jobdir, final)
