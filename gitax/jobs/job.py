"""The Job read API: open any stored job by id, read its value, files, output and params."""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import re
import shutil
from pathlib import Path
from typing import IO, Any

from gitax.errors import GitaxError
from gitax.jobs import workdir
from gitax.jobs.graph import walk
from gitax.jobs.keys import job_id
from gitax.jobs.manifest import Manifest, check_relpath, indexed_manifest, parse_tree
from gitax.jobs.project import Project, current_project
from gitax.jobs.specifiers import AmbiguousJob, JobNotFound, is_specifier, resolve_specifier
from gitax.store.fsutil import atomic_symlink, unique_dir
from gitax.store.hashing import from_jsonable

ID_RE = re.compile(r"^(?:([A-Za-z_][A-Za-z0-9_]*)-)?([0-9a-f]{4,64})$")
OUTPUT_DIR = workdir.OUTPUT_DIR


def phase_order(name: str) -> tuple[int, int]:
    """Sort key for output names: prepare, slices by number, synthesis."""
    if name.isdigit():
        return (1, int(name))
    return (0, 0) if name == "prepare" else (2, 0)


def output_phases(what: str | int | None, slices: int) -> list[str]:
    """The output names `job.output(what)` reads, in phase order: all phases (None),
    'analysis' (every slice), 'prepare', 'synthesis', or one slice by number (0 included,
    as an int or a string), as exax's job.output."""
    every = ["prepare", *map(str, range(slices)), "synthesis"]
    if what is None:
        return every
    if what == "analysis":
        return every[1:-1]
    name = str(what)
    if name in ("prepare", "synthesis"):
        return [name]
    if not isinstance(what, bool) and name.isdigit() and int(name) < slices:
        return [str(int(name))]
    raise NoSuchPhase(what, slices)


class NoSuchPhase(GitaxError, ValueError):
    """job.output() asked for a phase the job does not have."""

    def __init__(self, what: object, slices: int) -> None:
        numbers = {0: "", 1: "slice 0, "}.get(slices, f"slices 0-{slices - 1}, ")
        super().__init__(
            f"no output phase {what!r}: this job has prepare, {numbers}analysis (all "
            "slices) and synthesis"
        )


class UntrustedPickle(GitaxError):
    """A pickle of a job pulled from a remote that gitax.toml does not trust."""

    def __init__(self, job: str, remote: str) -> None:
        self.job, self.remote = job, remote
        super().__init__(
            f"{job} was pulled from remote {remote!r}, and loading its pickles runs code: "
            f"set `trusted = true` in [remotes.{remote}] of gitax.toml if you trust it "
            "(trust follows the remote's URL, not its name)"
        )


def resolve_key(project: Project, ref: str) -> str:
    """The key of the one stored job that `ref` names: an id, a hex prefix of 4+ digits,
    or one of exax's specifiers (a method, `JOB~N`, `JOB^N`, `:LIST:N`; specifiers.py)."""
    if is_specifier(ref):
        return resolve_specifier(project, ref, _resolve_id)
    return _resolve_id(project, ref)


def _resolve_id(project: Project, ref: str) -> str:
    """The key of the one stored job an id or a hex prefix names."""
    m = ID_RE.match(ref)
    if not m:
        raise JobNotFound(
            f"{ref!r} is not a job id: write <method>-<hex> or at least 4 hex digits of it"
        )
    method, hexpart = m.group(1), m.group(2)
    keys = project.store.index.keys_with_prefix(hexpart)
    if method is not None and keys:
        keys = [k for k in keys if _method_of(project, k) == method]
    if not keys:
        raise JobNotFound(f"no stored job {ref!r}; `gitax build` makes jobs")
    if len(keys) > 1:
        ids = ", ".join(f"{_method_of(project, k)}-{k[:16]}" for k in keys[:5])
        more = ", ..." if len(keys) > 5 else ""
        raise AmbiguousJob(f"job id {ref!r} is ambiguous ({ids}{more}); give more hex digits")
    return keys[0]


def _method_of(project: Project, key: str) -> str:
    return load_manifest(project, key).method


def load_manifest(project: Project, key: str) -> Manifest:
    """The manifest of the job stored under `key`."""
    manifest_id = project.store.index.get(key)
    if manifest_id is None:
        raise JobNotFound(f"no stored job with key {key}")
    return indexed_manifest(project.store.objects, key, manifest_id)


class JobIdentity:
    """What a stored job and the running one share: the id, how a job joins the key of
    another given it as an option, and where its files are. Subclasses say which method,
    key and folder."""

    key: str

    @property
    def method(self) -> str:
        """The method's name."""
        raise NotImplementedError

    @property
    def path(self) -> Path:
        """The job's folder."""
        raise NotImplementedError

    @property
    def id(self) -> str:
        """`<method>-<12 hex digits of the key>`."""
        return job_id(self.method, self.key)

    def __str__(self) -> str:
        return self.id

    def tagged(self) -> tuple[str, str]:
        """How the job joins the key of a job given it as an option: its id and key."""
        return "job", f"{self.method}-{self.key}"

    def withfile(self, name: str, sliced: bool = False, extra: Any = None) -> Any:
        """This job and one of its files, to pass as an option (exax's JobWithFile)."""
        from gitax.jobs.withfile import JobWithFile

        return JobWithFile(self, name, sliced, extra)

    def filename(self, name: str, sliceno: int | None = None) -> str:
        """The absolute path of a file of the job (`<name>.<sliceno>` for a slice's)."""
        return str(self.path / check_relpath(slice_name(name, sliceno)))

    def json_load(self, name: str = "result.json", sliceno: int | None = None) -> Any:
        """A JSON file of the job, parsed."""
        with open(self.filename(name, sliceno), "rb") as fh:
            return json.load(fh)


def slice_name(name: str, sliceno: int | None) -> str:
    """The name of a file a slice writes: `<name>.<sliceno>`, as exax."""
    return name if sliceno is None else f"{name}.{sliceno}"


class Job(JobIdentity):
    """A completed, stored job. `Job('train-3f2a')` opens one; `str(job)` is its id."""

    project: Project
    key: str

    def __init__(self, ref: str | Job, project: Project | None = None) -> None:
        self.project = project or (ref.project if isinstance(ref, Job) else current_project())
        self.key = ref.key if isinstance(ref, Job) else resolve_key(self.project, str(ref))
        self._manifest: Manifest | None = None
        self._method: str | None = None

    @classmethod
    def from_key(
        cls,
        project: Project,
        key: str,
        manifest: Manifest | None = None,
        method: str | None = None,
    ) -> Job:
        """The job stored under a known key (its manifest is read when first needed)."""
        job = cls.__new__(cls)
        job.project, job.key, job._manifest = project, key, manifest
        job._method = method or (manifest.method if manifest else None)
        return job

    @property
    def manifest(self) -> Manifest:
        """Everything stored about the job (read once)."""
        if self._manifest is None:
            self._manifest = load_manifest(self.project, self.key)
        return self._manifest

    @property
    def method(self) -> str:
        """The method's name."""
        if self._method is None:
            self._method = self.manifest.method
        return self._method

    def __repr__(self) -> str:
        return f"Job({self.id!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Job) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def params(self) -> dict[str, Any]:
        """The job's resolved options and input jobs (as ids)."""
        from gitax.jobs.withfile import untag_job  # it builds on Job

        options = from_jsonable(self.manifest.options, untag_job)
        datasets = {
            param: [_ds_id(r) for r in ref] if isinstance(ref, list) else ref and _ds_id(ref)
            for param, ref in self.manifest.dataset_inputs.items()
        }
        return {"options": options, "jobs": self.manifest.input_ids(), "datasets": datasets}

    @property
    def options(self) -> dict[str, Any]:
        """The job's resolved options."""
        return dict(self.params["options"])

    @property
    def path(self) -> Path:
        """The job's directory of plain files, materialised from the store if evicted."""
        return materialise(self)

    def dataset_metas(self) -> dict[str, dict[str, Any]]:
        """The descriptions of the job's datasets, by name."""
        return self.manifest.datasets

    @property
    def datasets(self) -> list[Any]:
        """The job's datasets, by name."""
        from gitax.jobs.dataset import Dataset

        return [Dataset(self, name) for name in sorted(self.manifest.datasets)]

    def dataset(self, name: str = "default") -> Any:
        """One of the job's datasets (exax's job.dataset)."""
        from gitax.jobs.dataset import Dataset

        return Dataset(self, name)

    def files(self) -> list[str]:
        """The job's registered files, sorted."""
        tree = self.project.store.objects.get_bytes(self.manifest.files, "tree")
        return sorted(parse_tree(tree))

    def open(
        self,
        name: str,
        mode: str = "r",
        sliceno: int | None = None,
        encoding: str | None = None,
        errors: str | None = None,
        **kwargs: Any,
    ) -> IO[Any]:
        """Open one of the job's files for reading (text is UTF-8 unless `encoding` says
        otherwise, as in exax)."""
        if any(c in mode for c in "wax+"):
            raise GitaxError(f"{self.id} is complete and cannot be changed (open {name!r})")
        return open_utf8(self.filename(name, sliceno), mode, encoding, errors, **kwargs)

    def check_trusted(self) -> None:
        """Refuse to unpickle anything of a job pulled from a remote not marked trusted:
        loading a pickle runs code."""
        origin = self.project.store.origins.remote_of(self.key)
        if origin is None:
            return  # built here
        name, identity = origin
        root = self.project.root
        for remote in self.project.config.remotes.values():
            if remote.trusted and identity and remote.identity(root) == identity:
                return
        raise UntrustedPickle(self.id, name)

    def load(self, name: str | None = None, sliceno: int | None = None) -> Any:
        """The job's value (no name), or an unpickled file of the job."""
        self.check_trusted()
        if name is None:
            data = self.manifest.value_bytes(self.project.store.objects)
            return None if data is None else pickle.loads(data)
        with self.open(name, "rb", sliceno) as fh:
            return pickle.load(fh)

    @property
    def post(self) -> Any:
        """What the job recorded after it ran: `subjobs` (ids), `profile`, `timing`."""
        from types import SimpleNamespace

        m = self.manifest
        return SimpleNamespace(
            subjobs=[s["id"] for s in m.subjobs], profile=m.profile, timing=m.timing
        )

    def output(self, phase: str | int | None = None) -> str:
        """The captured stdout and stderr of the job: one phase ('prepare', a slice number,
        'analysis' for every slice, 'synthesis'), or all of them in phase order."""
        out = self.manifest.output
        phases = output_phases(phase, self.manifest.slices)
        objects = self.project.store.objects
        return "".join(
            objects.get_bytes(out[p], "blob").decode("utf-8", errors="replace")
            for p in phases
            if p in out
        )

    def previous(self) -> Job | None:
        """The job given as this one's `previous` input, if any."""
        ref = self.manifest.jobs.get("previous")
        return Job.from_key(self.project, ref["key"]) if isinstance(ref, dict) else None

    def chain(self, length: int = -1, reverse: bool = False, stop_job: Any = None) -> list[Job]:
        """This job and the ones before it through their `previous` inputs, oldest first
        (newest first with `reverse`), at most `length` long, ending before `stop_job` (a
        job, an id, or {job: name} meaning that job's input called name), as in exax."""
        stop = _stop_job(self.project, stop_job)
        found: list[Job] = []
        current: Job | None = self
        while length != len(found) and current is not None and current != stop:
            found.append(current)
            current = current.previous()
        return found if reverse else found[::-1]

    def upstream(self) -> list[Job]:
        """This job and every job it was built from (input jobs, subjobs and jobs given as
        options, recursively), this one first."""
        jobs = {self.key: self}

        def upstream_of(key: str) -> set[str]:
            job = jobs.setdefault(key, Job.from_key(self.project, key))
            return job.manifest.upstream_keys()

        return [jobs[key] for key in walk([self.key], upstream_of)]

    def link_result(self, filename: str, name: str | None = None) -> Path:
        """Make `results/<name>` a link to one of this job's files, and record it in
        gitax.lock with the sources it and its upstream jobs were built from."""
        from gitax.jobs.resultlock import LockedResult, record, upstream_inputs, upstream_sources

        check_relpath(filename)
        rel = check_relpath(name or os.path.basename(filename))
        if self.project.dry_run:
            return self.project.config.results / rel
        tree = parse_tree(self.project.store.objects.get_bytes(self.manifest.files, "tree"))
        if filename not in tree:
            raise GitaxError(
                f"{self.id} has no file {filename!r}; it has: {', '.join(sorted(tree)) or 'none'}"
            )
        link = link_file(self, filename, self.project.config.results / rel)
        entry = tree[filename]
        upstream = self.upstream()
        record(
            self.project.root,
            LockedResult(
                path=rel,
                job=self.id,
                key=self.key,
                file=filename,
                blob=entry.id,
                size=entry.size,
                sources=upstream_sources(upstream),
                inputs=upstream_inputs(upstream),
            ),
        )
        return link


def _ds_id(ref: dict[str, str]) -> str:
    """A dataset as exax names it: `JOB/name`, or `JOB` for `default`."""
    return ref["id"] if ref["name"] == "default" else f"{ref['id']}/{ref['name']}"


def open_utf8(
    path: str, mode: str, encoding: str | None, errors: str | None, **kwargs: Any
) -> IO[Any]:
    """open(), with UTF-8 as the default encoding of text (not the locale's), as exax."""
    if "b" not in mode and encoding is None:
        encoding = "utf-8"
    return open(path, mode, encoding=encoding, errors=errors, **kwargs)


def _stop_job(project: Project, stop: Any) -> Job | None:
    """The job a chain ends before: a Job, an id, or {job: input name}."""
    if isinstance(stop, dict):
        if len(stop) != 1:
            raise GitaxError("pass a single stop_job={job: name}")
        ((job, name),) = stop.items()
        if not job:
            return None
        ref = Job(job, project).manifest.jobs.get(name)
        return Job.from_key(project, ref["key"]) if isinstance(ref, dict) else None
    if stop is None or isinstance(stop, Job):
        return stop
    return Job(str(stop), project)


def link_file(job: Job, filename: str, link: Path) -> Path:
    """Point `link` at one of a job's files (materialising the job), relatively; never
    through a symlinked folder (a commit could make results/ or a folder in it a link to
    ~/.ssh) and never outside the project."""
    root = job.project.root
    try:
        below = link.relative_to(root).parts
    except ValueError:
        raise GitaxError(f"{link} is outside the project {root}; results stay inside") from None
    for i in range(1, len(below)):
        folder = root.joinpath(*below[:i])
        if folder.is_symlink():
            raise GitaxError(
                f"{folder} is a symlink, and gitax never writes through one (a commit may "
                "have made it); remove it and run `gitax checkout --results`"
            )
    target = Path(job.filename(filename))
    atomic_symlink(os.path.relpath(target, link.parent.resolve()), link)
    return link


_intact: set[str] = set()  # keys whose work folder this process found untouched


def materialise(job: Job, rebuild: bool = False) -> Path:
    """The workdir of a job: plain files rebuilt from the store when missing, or when a
    file there no longer looks like the stored one (size or mtime changed), or when asked
    (`rebuild`: a file changed in a way no stat shows)."""
    store = job.project.store
    final = store.path("work", job.id)
    if job.key in _intact and final.is_dir() and not rebuild:
        return final
    tree = parse_tree(store.objects.get_bytes(job.manifest.files, "tree"))
    mtime = workdir.sealed_mtime(job.manifest)
    if final.is_dir():
        if not rebuild and workdir.intact(final, tree, mtime):
            _intact.add(job.key)
            return final
        _set_aside(final, store.tmp, job.id)
    store.tmp.mkdir(parents=True, exist_ok=True)
    tmp = unique_dir(store.tmp, f"mat-{job.id}-")  # the umask's mode: others may read it
    try:
        for rel, entry in tree.items():
            dest = tmp / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            store.objects.copy_to_file(entry.id, dest, 0o555 if entry.exec else 0o444)
        if job.manifest.output:
            (tmp / OUTPUT_DIR).mkdir()
            for phase, oid in job.manifest.output.items():
                store.objects.copy_to_file(oid, tmp / OUTPUT_DIR / check_relpath(phase))
        workdir.seal(tmp, mtime)
        store.work.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(tmp, final)
        except OSError:
            if not final.is_dir():
                raise
            shutil.rmtree(tmp)  # another process materialised it first
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(tmp)
        raise
    return final


def _set_aside(final: Path, tmp: Path, jid: str) -> None:
    """Move a changed work folder out of the way (another reader may have done so) and
    remove it: its files are not the job's any more."""
    tmp.mkdir(parents=True, exist_ok=True)
    aside = unique_dir(tmp, f"changed-{jid}-")
    try:
        os.replace(final, aside / jid)
    except FileNotFoundError:
        pass
    shutil.rmtree(aside, ignore_errors=True)
