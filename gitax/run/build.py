"""Running a build script: `main(urd)`, where `urd.build()` reuses or runs each job."""

from __future__ import annotations

import inspect
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from gitax.errors import GitaxError
from gitax.jobs.job import Job
from gitax.jobs.keys import job_key
from gitax.jobs.methods import Method
from gitax.jobs.options import OptionError, resolve_options
from gitax.jobs.project import Project, set_current
from gitax.run.runner import JobSpec, run_job


class BuildError(GitaxError):
    """A build script is missing, or raised an error of its own."""


class Reporter(Protocol):
    """Receives build progress; the CLI prints it (nothing below the CLI prints)."""

    def job_started(self, job_id: str) -> None:
        """A job is about to run."""

    def job_finished(self, job: Job, built: bool, seconds: float) -> None:
        """A job was built, or found and reused."""

    def job_running(self, job_id: str, seconds: float) -> None:
        """A job is still running (called about once a second)."""


class _Silent:
    def job_started(self, job_id: str) -> None:
        pass

    def job_running(self, job_id: str, seconds: float) -> None:
        pass

    def job_finished(self, job: Job, built: bool, seconds: float) -> None:
        pass


@dataclass
class BuildResult:
    """What a build did."""

    script: str
    built: list[Job] = field(default_factory=list)
    reused: list[Job] = field(default_factory=list)
    seconds: float = 0.0


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
    ) -> None:
        self.project = project
        self.reporter = reporter or _Silent()
        self.live = live
        self.provenance = provenance
        self._git: dict[str, Any] | None = None
        self.joblist: list[Job] = []
        self.built: list[Job] = []
        self.reused: list[Job] = []

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
        manifest_id = self.project.store.index.get(spec.key)
        if manifest_id is not None:
            job = Job.from_key(self.project, spec.key, method=spec.method.name)
            self.reused.append(job)
            self.reporter.job_finished(job, False, time.perf_counter() - t0)
        else:
            self.reporter.job_started(spec.id)

            def tick() -> None:
                self.reporter.job_running(spec.id, time.perf_counter() - t0)

            job = run_job(self.project, spec, self.live, self.git_state(), tick)
            self.built.append(job)
            self.reporter.job_finished(job, True, time.perf_counter() - t0)
        self.joblist.append(job)
        return job

    def git_state(self) -> dict[str, Any]:
        """Git state for manifests, asked once, before the first job forks (so that job
        processes inherit whatever it imported instead of importing it themselves)."""
        if self._git is None:
            self._git = self.provenance() if self.provenance else {}
        return self._git

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
        if datasets:
            raise OptionError(f"{method_name}: datasets are not supported yet; pass jobs instead")
        given_options = dict(options or {})
        given_jobs = dict(jobs or {})
        for pname, value in params.items():
            if pname in method.jobs:
                given_jobs[pname] = value
            elif pname in method.options:
                given_options[pname] = value
            else:
                valid = ", ".join(sorted([*method.options, *method.jobs])) or "none"
                raise OptionError(
                    f"{method_name}: unknown parameter {pname!r}; valid parameters: {valid}"
                )
        resolved = resolve_options(method_name, method.options, given_options)
        input_jobs = self._resolve_jobs(method, given_jobs)
        input_keys = {
            n: [j.key for j in v] if isinstance(v, list) else (v.key if v else None)
            for n, v in input_jobs.items()
        }
        sources = [(s.relpath, s.blob_id) for s in method.sources]
        slices = self.project.config.slices if "analysis" in method.phases else None
        key = job_key(method.name, sources, resolved, input_keys, slices)
        return JobSpec(method, key, resolved, input_jobs, slices or 0)

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
                elif isinstance(value, (list, tuple)):
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


def find_script(project: Project, name: str | None) -> Path:
    """build.py, or build_<name>.py, in the project root or a method folder."""
    fname = "build.py" if not name else f"build_{name}.py"
    for folder in (project.root, *project.config.methods):
        if (folder / fname).is_file():
            return folder / fname
    raise BuildError(f"no build script {fname} in {project.root}; write one with `def main(urd):`")


def list_scripts(project: Project) -> list[Path]:
    """Every build script of the project."""
    found: dict[str, Path] = {}
    for folder in (project.root, *project.config.methods):
        for path in sorted(folder.glob("build*.py")):
            if path.name == "build.py" or path.name.startswith("build_"):
                found.setdefault(path.name, path)
    return sorted(found.values(), key=lambda p: (p.name != "build.py", p.name))


def _script_line(script: Path, tb: Any) -> str:
    """`build.py:12: ` for the innermost frame of the traceback inside the build script."""
    where = ""
    for frame in traceback.extract_tb(tb):
        if Path(frame.filename) == script:
            where = f"{script.name}:{frame.lineno}: "
    return where


def run_build(
    project: Project,
    name: str | None = None,
    reporter: Reporter | None = None,
    live: IO[bytes] | None = None,
    provenance: Callable[[], dict[str, Any]] | None = None,
) -> BuildResult:
    """Run a build script's main(urd); every job it asks for is reused or built."""
    script = find_script(project, name)
    t0 = time.perf_counter()
    source = script.read_bytes()
    try:
        code = compile(source, str(script), "exec")
    except SyntaxError as e:
        raise BuildError(f"{script.name}:{e.lineno}: syntax error: {e.msg}") from None
    module = type(sys)(f"gitax_build_{script.stem}")
    module.__file__ = str(script)
    urd = Urd(project, reporter, live, provenance)
    set_current(project)
    sys.path.insert(0, str(script.parent))
    try:
        exec(code, module.__dict__)
        main = module.__dict__.get("main")
        if not callable(main) or len(inspect.signature(main).parameters) != 1:
            raise BuildError(f"{script.name}: define `def main(urd):` to be a build script")
        main(urd)
    except GitaxError as e:
        where = _script_line(script, e.__traceback__)
        if where and not str(e).startswith(where):
            e.args = (where + str(e),)
        raise
    except Exception as e:
        details = traceback.format_exc()
        raise BuildScriptFailed(
            script.name, _script_line(script, e.__traceback__), e, details
        ) from e
    finally:
        sys.path.remove(str(script.parent))
    return BuildResult(script.name, urd.built, urd.reused, time.perf_counter() - t0)


class BuildScriptFailed(BuildError):
    """The build script itself raised."""

    def __init__(self, script: str, where: str, error: BaseException, details: str) -> None:
        self.script, self.details = script, details
        super().__init__(f"{where or script + ': '}{type(error).__name__}: {error}")


def script_description(path: Path) -> str:
    """A build script's `description` string or docstring, read without running it."""
    import ast

    from gitax.jobs.declarations import Unsupported, read_declarations

    try:
        tree = ast.parse(path.read_bytes())
        value = read_declarations(tree).values.get("description", "")
    except (SyntaxError, ValueError, Unsupported):
        return ""
    return value if isinstance(value, str) else ""
