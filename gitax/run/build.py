"""Running a build script: `main(urd)`, where `urd.build()` reuses or runs each job."""

from __future__ import annotations

import errno
import inspect
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from gitax.errors import GitaxError
from gitax.jobs.job import Job
from gitax.jobs.project import Project, set_current
from gitax.run.record import Run, captured_output, record_run
from gitax.run.tracebacks import user_traceback
from gitax.run.urd import BuildError, DryRunStop, Reporter, Urd
from gitax.store.storelock import shared

__all__ = ["BuildError", "BuildResult", "BuildScriptFailed", "Reporter", "run_build"]


@dataclass
class BuildResult:
    """What a build did."""

    script: str
    built: list[Job] = field(default_factory=list)
    reused: list[Job] = field(default_factory=list)
    seconds: float = 0.0
    planned: list[tuple[Job, list[str]]] = field(default_factory=list)  # dry run
    stopped: str = ""  # dry run: why it could not go further


def find_script(project: Project, name: str | None) -> Path:
    """build.py, or build_<name>.py, in the project root or a method folder."""
    fname = "build.py" if not name else f"build_{name}.py"
    project.methods.locations()  # a methods folder gitax.toml names but that is not there
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
    dry_run: bool = False,
    fetch: Callable[[str], bool] | None = None,
    head: Callable[[], dict[str, Any]] | None = None,
    args: tuple[str, ...] = (),
) -> BuildResult:
    """Run a build script's main(urd); every job it asks for is reused or built, and the
    run is stored as a build record (`head()` gives its git state when no job asked for
    the full one). With dry_run, nothing runs or is written: it lists what would be
    built, and why."""
    script = find_script(project, name)
    project.dry_run = dry_run  # before the store is opened: a dry run makes none
    with shared(project.store.root):  # gc waits until this build is over
        if dry_run:
            return _run(project, script, reporter, live, provenance, dry_run, fetch)
        run = Run(script, args)
        t0 = time.perf_counter()
        error = ""
        urd_box: list[Urd] = []
        with captured_output() as output:
            try:
                return _run(project, script, reporter, live, provenance, False, fetch, urd_box)
            except BaseException as e:
                error = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
                raise
            finally:
                if urd_box:  # the script was read: a failed run is recorded too
                    urd = urd_box[0]
                    git = urd.known_git() or (head() if head else {})
                    wall = time.perf_counter() - t0
                    source = urd.script_source or b""
                    try:
                        record_run(project, run, source, urd.calls, output, git, wall, error)
                    except OSError as e:
                        # Another's store, or a read-only mount: a run that only reused.
                        read_only = not urd.built and (
                            isinstance(e, PermissionError) or e.errno == errno.EROFS
                        )
                        if not (read_only or error):
                            raise  # the build went well: failing to record it is the error
                        # A store this user may only read, or the build's own error (a full
                        # disk, say) is what to tell: this one must not hide it.
                        why = "read-only" if read_only else (e.strerror or str(e))
                        note = getattr(urd.reporter, "job_note", None)
                        if note is not None:
                            where = e.filename or project.store.root
                            note(script.name, f"this run is not recorded: {where}: {why}")


def _run(
    project: Project,
    script: Path,
    reporter: Reporter | None,
    live: IO[bytes] | None,
    provenance: Callable[[], dict[str, Any]] | None,
    dry_run: bool,
    fetch: Callable[[str], bool] | None,
    urd_box: list[Urd] | None = None,
) -> BuildResult:
    t0 = time.perf_counter()
    source = script.read_bytes()
    try:
        code = compile(source, str(script), "exec")
    except SyntaxError as e:
        raise BuildError(f"{script.name}:{e.lineno}: syntax error: {e.msg}") from None
    module = type(sys)(f"gitax_build_{script.stem}")
    module.__file__ = str(script)
    urd = Urd(
        project,
        reporter,
        live,
        provenance,
        dry_run=dry_run,
        fetch=fetch,
        script=script.relative_to(project.root).as_posix(),
        script_source=source,
    )
    project.dry_run = dry_run
    stopped = ""
    if urd_box is not None:
        urd_box.append(urd)  # for the build record, whatever happens next
    set_current(project)
    sys.path.insert(0, str(script.parent))
    try:
        exec(code, module.__dict__)
        main = module.__dict__.get("main")
        if not callable(main) or len(inspect.signature(main).parameters) != 1:
            raise BuildError(f"{script.name}: define `def main(urd):` to be a build script")
        try:
            main(urd)
        except DryRunStop as e:  # what stopped it left its session open: nothing to check
            stopped = _script_line(script, e.__traceback__) + str(e)
        else:
            urd.check_finished(script.name)
    except GitaxError as e:
        where = _script_line(script, e.__traceback__)
        if where and not str(e).startswith(where):
            e.args = (where + str(e),)
        raise
    except Exception as e:
        details = user_traceback(e)
        raise BuildScriptFailed(
            script.name, _script_line(script, e.__traceback__), e, details
        ) from e
    finally:
        urd.close()
        sys.path.remove(str(script.parent))
    return BuildResult(
        script.name, urd.built, urd.reused, time.perf_counter() - t0, urd.planned, stopped
    )


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
