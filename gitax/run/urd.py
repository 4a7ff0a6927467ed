"""The `urd` object of a build script: builds jobs, and records sessions in urd lists."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from gitax.errors import GitaxError
from gitax.jobs.buildlog import Call
from gitax.jobs.dsinputs import dataset_keys, resolve_datasets
from gitax.jobs.inputs import InputHashes
from gitax.jobs.job import Job
from gitax.jobs.keys import job_key
from gitax.jobs.manifest import indexed_manifest
from gitax.jobs.methods import Method, is_standard_source
from gitax.jobs.options import OptionError, resolve_options
from gitax.jobs.project import Project
from gitax.jobs.urdlog import (
    JobEntry,
    Session,
    UrdError,
    UrdLists,
    check_list_name,
    normalise_timestamp,
    now_recorded,
)
from gitax.run import jobproc
from gitax.run.environment import environment
from gitax.run.joblist import JobList, UrdItem
from gitax.run.jobspec import JobSpec
from gitax.run.runner import run_job
from gitax.run.why import Baselines, why
from gitax.store.lockfile import locked
from gitax.store.store import StorePermission


class DryRunStop(GitaxError):
    """A dry run reached a job that would have to run before the script can go on."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(
            f"the build script reads {job_id}, which would be built first; the dry run stops here"
        )


class PlannedJob(Job):
    """A job a dry run would build: its id and key are known, its contents are not."""

    @property
    def manifest(self) -> Any:  # type: ignore[override]
        """Not there yet: reading it stops the dry run."""
        raise DryRunStop(self.id)

    def link_result(self, filename: str, name: str | None = None) -> Any:
        """Nothing to link in a dry run."""
        return None


class BuildError(GitaxError):
    """A build script is missing, or raised an error of its own."""


class Reporter(Protocol):
    """Receives build progress; the CLI prints it (nothing below the CLI prints)."""

    def job_started(self, job_id: str, reasons: list[str]) -> None:
        """A job is about to run, and why (or, in a dry run, would run)."""

    def job_finished(self, job: Job, built: bool, seconds: float) -> None:
        """A job was built, or found and reused."""

    def job_running(self, job_id: str, seconds: float) -> None:
        """A job is still running (called about once a second)."""

    def job_note(self, job_id: str, note: str) -> None:
        """Something the user should know about a job, e.g. an input that changed."""


class _Silent:
    def job_note(self, job_id: str, note: str) -> None:
        pass

    def job_started(self, job_id: str, reasons: list[str]) -> None:
        pass

    def job_running(self, job_id: str, seconds: float) -> None:
        pass

    def job_finished(self, job: Job, built: bool, seconds: float) -> None:
        pass


@dataclass
class _Open:
    """A session between urd.begin and urd.finish."""

    name: str
    timestamp: str | None
    caption: str
    entries: list[JobEntry] = field(default_factory=list)
    joblist: JobList = field(default_factory=JobList)
    deps: list[tuple[str, str]] = field(default_factory=list)


def _as_job(project: Project, method: str, param: str, value: Any) -> Job:
    if isinstance(value, Job):
        return value
    if isinstance(value, str):
        return Job(value, project)
    raise OptionError(
        f"{method}: job parameter {param!r} takes a Job or a job id, not {type(value).__name__}"
    )


class Urd:
    """The object a build script's `main(urd)` receives."""

    def __init__(
        self,
        project: Project,
        reporter: Reporter | None = None,
        live: IO[bytes] | None = None,
        provenance: Callable[[], dict[str, Any]] | None = None,
        *,
        dry_run: bool = False,
        fetch: Callable[[str], bool] | None = None,
        script: str = "",
        script_source: bytes | None = None,
    ) -> None:
        """`fetch` (with `[gitax] fetch = "auto"`) looks a missing job up on the default
        remote; `script` and its source are what sessions record as their build script."""
        self.project = project
        self.reporter = reporter or _Silent()
        self.live = live
        self.provenance = provenance
        self._git: dict[str, Any] | None = None
        self._tracked: frozenset[str] | None = None  # paths git tracks, for job_git
        self._all = JobList()
        self._open: _Open | None = None
        self._lists: UrdLists | None = None
        self.dry_run = dry_run
        self.fetch = fetch
        self.planned: list[tuple[Job, list[str]]] = []  # dry run: what would be built, why
        self.script = script
        self.script_source = script_source  # stored only when a session is recorded
        self.built: list[Job] = []
        self.reused: list[Job] = []
        self.calls: list[Call] = []  # every urd.build of the run, for its build record
        self._inputs: InputHashes | None = None  # made when a reused job read input files
        self._reasons: list[str] = []  # why the job just run ran
        self._baselines: Baselines | None = None  # what `why` compares a job with
        self._warned: set[str] = set()  # methods whose equivalent_hashes did not hold

    def check_finished(self, script: str) -> None:
        """Refuse a build script that returned with a session still open."""
        if self._open is not None:
            name = self._open.name
            raise BuildError(
                f"{script}: urd.begin({name!r}) was never finished; call "
                f"urd.finish({name!r}) (or urd.abort()) in main(urd)"
            )

    def close(self) -> None:
        """Save the hashes of input files seen (advisory: a build killed before this
        loses only those)."""
        with contextlib.suppress(OSError):  # a full disk must not hide the build's own error
            if self._inputs is not None:
                self._inputs.save()

    def _note_changed_inputs(self, job: Job, manifest_id: str) -> None:
        """Say so when a reused job read an input file that differs now: inputs are not in
        the key (exax's rule), so the job is reused, but not silently."""
        inputs = indexed_manifest(self.project.store.objects, job.key, manifest_id).inputs
        if not inputs:
            return
        if self._inputs is None:
            self._inputs = InputHashes(self.project.store.root)
        for path in self._inputs.changed(self.project.root, inputs):
            note = getattr(self.reporter, "job_note", None)
            if note is not None:
                note(
                    job.id,
                    f"input {path} changed since {job.id} read it; inputs are not in the "
                    "key, so it is reused: restore the file, write a new one, or name it in "
                    "the method's depend_extra to re-run",
                )

    def _fetched(self, spec: JobSpec) -> bool:
        """Fetch a job from the default remote; a remote that cannot give it (unreachable,
        or a corrupt copy) is said aloud and the job runs here instead."""
        assert self.fetch is not None
        try:
            return self.fetch(spec.key)
        except (GitaxError, OSError) as e:
            self.fetch = None  # one remote's trouble, told once: the build goes on here
            note = getattr(self.reporter, "job_note", None)
            if note is not None:
                note(spec.id, f"not fetched ({e}); running it here, and not fetching again")
            return False

    def build(
        self,
        method: str,
        options: dict[str, Any] | None = None,
        jobs: dict[str, Any] | None = None,
        datasets: dict[str, Any] | None = None,
        name: str | None = None,
        **params: Any,
    ) -> Job:
        """The job of `method` with these parameters: reused if stored, else run now."""
        t0 = time.perf_counter()
        spec = self.plan(method, options, jobs, datasets, params)
        call = (name or method, self.baselines.call(name or method))
        eq = spec.method.equivalence
        if eq is not None and not eq.holds and spec.method.name not in self._warned:
            self._warned.add(spec.method.name)  # exax warns too; once a build is enough
            note = getattr(self.reporter, "job_note", None)
            if note is not None:
                note(spec.id, f"{spec.method.path.name}: {eq.hint}")
        manifest_id = self.project.store.index.get(spec.key)
        if manifest_id is None and self.fetch is not None and not self.dry_run:
            if self._fetched(spec):  # a collaborator ran it: fetched instead of run
                manifest_id = self.project.store.index.get(spec.key)
        if manifest_id is not None:
            job = Job.from_key(self.project, spec.key, method=spec.method.name)
            self.reused.append(job)
            if spec.method.reads_inputs:
                self._note_changed_inputs(job, manifest_id)
            self.reporter.job_finished(job, False, time.perf_counter() - t0)
        elif self.dry_run:
            job = PlannedJob.from_key(self.project, spec.key, method=spec.method.name)
            self.planned.append((job, why(spec, self.baselines.for_call(*call, spec))))
            self.reporter.job_started(spec.id, self.planned[-1][1])
        else:
            try:
                job, manifest_id = self._run_once(spec, t0, call)
            except PermissionError as e:  # the store is another user's, or read-only
                raise StorePermission(e.filename or str(self.project.store.root)) from None
        built = manifest_id is None
        if self.dry_run and built:
            self._all.append(name or method, job)
            return job
        why_ran = tuple(self._reasons) if built else ()
        self.calls.append(Call(name or method, method, job.key, built, why_ran))
        self._all.append(name or method, job)
        if self._open is not None:
            self._open.joblist.append(name or method, job)
            self._open.entries.append(JobEntry(name or method, method, job.id, job.key, built))
        return job

    # -- urd lists ------------------------------------------------------------------------

    @property
    def lists(self) -> UrdLists:
        """The store's urd lists."""
        if self._lists is None:
            self._lists = UrdLists(self.project.store.urd)
        return self._lists

    @property
    def joblist(self) -> JobList:
        """The jobs of the open session, or of the whole build when none is open."""
        return self._open.joblist if self._open else self._all

    def begin(self, list: str, timestamp: Any = None, caption: str | None = None) -> None:
        """Start recording a session in urd list `list`."""
        check_list_name(list)
        if self._open is not None:
            raise UrdError(
                f"urd.begin({list!r}): session {self._open.name!r} is still open; "
                "finish or abort it first"
            )
        ts = normalise_timestamp(timestamp) if timestamp is not None else None
        self._open = _Open(list, ts, caption or "")

    def finish(
        self,
        list: str,
        timestamp: Any = None,
        caption: str | None = None,
        update: bool = False,
    ) -> UrdItem:
        """Record the open session; an identical one already there is left as it is."""
        if self._open is None or self._open.name != list:
            opened = repr(self._open.name) if self._open else "none"
            raise UrdError(f"urd.finish({list!r}): no session of that list is open ({opened} is)")
        now = now_recorded()
        ts = normalise_timestamp(timestamp) if timestamp is not None else self._open.timestamp
        if self.dry_run:  # nothing is recorded in a dry run
            item = UrdItem(Session(list, ts or "", now, ""), self._open.joblist)
            self._open = None
            return item
        session = Session(
            list=list,
            timestamp=ts or normalise_timestamp(None),
            recorded=now,
            user=environment()["user"],
            caption=caption if caption is not None else self._open.caption,
            script=self.script,
            script_blob=(
                self.project.store.objects.put_bytes("blob", self.script_source)
                if self.script_source is not None
                else ""
            ),
            joblist=tuple(self._open.entries),
            deps=tuple(self._open.deps),
        )
        before = [old for old in self.lists.sessions(list) if old.timestamp == session.timestamp]
        self.lists.record(session, update)
        item = UrdItem(
            session,
            self._open.joblist,
            new=not before,
            changed=bool(before) and not before[0].same_jobs(session),
            is_ghost=any(not self._exists(*dep) for dep in session.deps),
        )
        self._open = None
        return item

    def _exists(self, list: str, timestamp: str) -> bool:
        return any(s.timestamp == timestamp for s in self.lists.sessions(list))

    def abort(self) -> None:
        """Drop the open session: nothing is recorded."""
        self._open = None

    def _item(self, session: Session | None, record: bool, list: str = "") -> UrdItem:
        if session is None:  # as in exax: an empty session, not an error
            return UrdItem(Session(list, "", "", ""), JobList())
        if record and self._open is not None:
            dep = (session.list, session.timestamp)
            if dep not in self._open.deps:
                self._open.deps.append(dep)
        jobs = JobList(
            [(j.name, Job.from_key(self.project, j.key, method=j.method)) for j in session.joblist]
        )
        return UrdItem(session, jobs)

    def _find(self, list: str, timestamp: Any = None, first: bool = False) -> Session | None:
        """The session at `timestamp` (exact, or as '<=2024-01' says: see UrdLists.find),
        the newest without one, the oldest with `first`."""
        if timestamp is not None:
            return self.lists.find(check_list_name(list), timestamp)
        sessions = self.lists.sessions(check_list_name(list))
        if not sessions:
            return None
        return sessions[0] if first else sessions[-1]

    def latest(self, list: str) -> UrdItem:
        """The newest session of a list (recorded as a dependency of the open session);
        an empty one, false and without jobs, when the list has none."""
        return self._item(self._find(list), True, list)

    def first(self, list: str) -> UrdItem:
        """The oldest session of a list (recorded as a dependency)."""
        return self._item(self._find(list, first=True), True, list)

    def get(self, list: str, timestamp: Any) -> UrdItem:
        """The session at `timestamp` (recorded as a dependency)."""
        return self._item(self._find(list, timestamp), True, list)

    def peek(self, list: str, timestamp: Any) -> UrdItem:
        """The session at `timestamp`, without recording a dependency."""
        return self._item(self._find(list, timestamp), False, list)

    def peek_latest(self, list: str) -> UrdItem:
        """The newest session of a list, without recording a dependency (an empty one
        when the list has none, e.g. after a truncation)."""
        return self._item(self._find(list), False, list)

    def peek_first(self, list: str) -> UrdItem:
        """The oldest session of a list, without recording a dependency."""
        return self._item(self._find(list, first=True), False, list)

    def since(self, list: str, timestamp: Any) -> list[str]:
        """Timestamps of the sessions after `timestamp`, oldest first."""
        return self.lists.since(list, timestamp)

    def truncate(self, list: str, timestamp: Any) -> None:
        """Hide the sessions at or after `timestamp`; the log keeps them."""
        if self.dry_run:
            return
        now = now_recorded()
        self.lists.truncate(list, timestamp, environment()["user"], now)

    @property
    def baselines(self) -> Baselines:
        """What "why it ran" compares with: this script's previous run, stored jobs."""
        if self._baselines is None:
            log = self.script.rsplit("/", 1)[-1].removesuffix(".py")  # its build log's name
            self._baselines = Baselines(self.project, log)
        return self._baselines

    def _run_once(self, spec: JobSpec, t0: float, call: tuple[str, int]) -> tuple[Job, str | None]:
        """Run a job unless another build is running it: then wait, and reuse its result.
        The lock names its holder's host and pid; one left by a dead process is taken over."""
        lock = self.project.store.path("lock", spec.key)
        inside = [jid for key, jid in jobproc.running if key == spec.key]
        if inside:
            chain = " -> ".join([*(jid for _, jid in jobproc.running), spec.id])
            raise BuildError(
                f"subjob cycle: {chain}; a job cannot build itself, or a job that builds it"
            )

        def waiting(holder: str) -> None:
            self.reporter.job_started(spec.id, [f"another build ({holder}) is running it; waiting"])

        with locked(lock, timeout=None, on_wait=waiting):
            manifest_id = self.project.store.index.get(spec.key)
            if manifest_id is not None:  # the other build finished it
                job = Job.from_key(self.project, spec.key, method=spec.method.name)
                self.reused.append(job)
                self.reporter.job_finished(job, False, time.perf_counter() - t0)
                return job, manifest_id
            self._reasons = why(spec, self.baselines.for_call(*call, spec))
            self.reporter.job_started(spec.id, self._reasons)

            def tick() -> None:
                self.reporter.job_running(spec.id, time.perf_counter() - t0)

            job = run_job(self.project, spec, self.live, self.job_git(spec), tick)
        self.baselines.built(call[0], job.manifest)
        # Handed out without its manifest (read again from the store when asked for): a
        # build of thousands of jobs would otherwise carry them all, and every fork of
        # this process costs more the more memory it has (~0.04 ms per MiB here).
        job = Job.from_key(self.project, job.key, method=spec.method.name)
        self.built.append(job)
        self.reporter.job_finished(job, True, time.perf_counter() - t0)
        return job, None

    def known_git(self) -> dict[str, Any] | None:
        """The git state if a job has asked for it already (it costs ~60 ms), else None."""
        return self._git

    def git_state(self) -> dict[str, Any]:
        """Git state for manifests, asked once, before the first job forks (so that job
        processes inherit whatever it imported instead of importing it themselves)."""
        if self._git is None:
            state = dict(self.provenance() if self.provenance else {})
            self._tracked = state.pop("tracked", None)
            self._git = state
        return self._git

    def job_git(self, spec: JobSpec) -> dict[str, Any]:
        """The git state of one job: the build's, and dirty also when one of the job's
        own source files is not tracked by git (a new method not yet added)."""
        git = self.git_state()
        tracked = self._tracked
        if not git or git.get("dirty") or tracked is None:
            return git
        untracked = [
            s.relpath
            for s in spec.method.sources
            if s.relpath not in tracked and not is_standard_source(s.relpath)
        ]
        return {**git, "dirty": True} if untracked else git

    def plan(
        self,
        method_name: str,
        options: dict[str, Any] | None,
        jobs: dict[str, Any] | None,
        datasets: dict[str, Any] | None,
        params: dict[str, Any],
    ) -> JobSpec:
        """Check the parameters against the method and compute the job key, running nothing."""
        method = self.project.methods.get(method_name)
        declared_ds = method.datasets or {}
        given_options = dict(options or {})
        given_jobs = dict(jobs or {})
        given_ds = dict(datasets or {})
        for pname, value in params.items():
            if pname in declared_ds:
                given_ds[pname] = value
                continue
            # As in exax: a keyword goes where the method declares it (over the same name
            # in options= or jobs=); a name declared both ways must say which it means.
            if pname in method.jobs and pname in method.options:
                raise OptionError(
                    f"{method_name}: {pname!r} is both an option and a job input; pass it "
                    f"as options={{{pname!r}: ...}} or jobs={{{pname!r}: ...}}"
                )
            if pname in method.jobs:
                given_jobs[pname] = value
            elif pname in method.options:
                given_options[pname] = value
            else:
                valid = ", ".join(sorted({*method.options, *method.jobs, *declared_ds})) or "none"
                raise OptionError(
                    f"{method_name}: unknown parameter {pname!r}; valid parameters: {valid}"
                )
        resolved = resolve_options(method_name, method.options, given_options)
        input_jobs = self._resolve_jobs(method, given_jobs)
        input_keys = {
            n: [j.key for j in v] if isinstance(v, list) else (v.key if v else None)
            for n, v in input_jobs.items()
        }
        input_ds = resolve_datasets(self.project, method.name, declared_ds, given_ds)
        ds_keys = None if method.datasets is None else dataset_keys(input_ds)
        sources = [(s.relpath, s.object_id) for s in method.sources]
        slices = self.project.config.slices if "analysis" in method.phases else None
        key = job_key(method.name, sources, resolved, input_keys, slices, ds_keys)
        index = self.project.store.index
        if method.equivalent_sources and index.get(key) is None:
            # exax's equivalent_hashes: a job built from an earlier, equivalent source of
            # the method (its helpers keyed as they are now) is this job.
            for old in method.equivalent_sources:
                earlier = [(sources[0][0], old), *sources[1:]]
                alt = job_key(method.name, earlier, resolved, input_keys, slices, ds_keys)
                if index.get(alt) is not None:
                    key = alt
                    break
        return JobSpec(method, key, resolved, input_jobs, slices or 0, input_ds)

    def _resolve_jobs(
        self, method: Method, given: dict[str, Any]
    ) -> dict[str, Job | list[Job] | None]:
        unknown = sorted(set(given) - set(method.jobs))
        if unknown:
            valid = ", ".join(sorted(method.jobs)) or "none"
            raise OptionError(
                f"{method.name}: unknown job parameter {unknown[0]!r}; valid: {valid}"
            )
        out: dict[str, Job | list[Job] | None] = {}
        for pname, is_list in method.jobs.items():
            value = given.get(pname)
            if is_list:
                if value is None:
                    out[pname] = []
                elif isinstance(value, (list, tuple, JobList)):
                    out[pname] = [_as_job(self.project, method.name, pname, v) for v in value]
                else:
                    raise OptionError(
                        f"{method.name}: job parameter {pname!r} takes a list of jobs"
                    )
            elif isinstance(value, (list, tuple)):
                raise OptionError(
                    f"{method.name}: job parameter {pname!r} takes one job, not a list"
                )
            else:
                out[pname] = (
                    None if value is None else _as_job(self.project, method.name, pname, value)
                )
        return out
