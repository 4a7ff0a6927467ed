"""`gitax build [NAME]`."""

from __future__ import annotations

import json
import signal
import sys
from typing import IO, Any

import click

from gitax.cli.main import Context
from gitax.jobs.job import Job

PLAIN_EVERY = 60.0  # seconds between "still running" lines when not on a terminal


class LineReporter:
    """One line per job, built or reused, with its time; on a terminal, a live line shows
    the running job and its elapsed time.

    A reader that goes away (`gitax build | head`) must not stop the build: jobs are real
    work and their output is kept in OUTPUT/ anyway, so writing just stops."""

    def __init__(self, out: IO[str], quiet: bool, dry_run: bool = False) -> None:
        self.out, self.quiet, self.dry_run = out, quiet, dry_run
        self.tty = out.isatty()
        self.drawn = False
        self.next_plain = PLAIN_EVERY
        self.closed = False

    def write(self, text: str) -> None:
        """Write and flush, unless the reader has gone."""
        if self.closed:
            return
        try:
            self.out.write(text)
            self.out.flush()
        except BrokenPipeError:
            self.closed = True

    def clear(self) -> None:
        """Erase the live line before anything else is written."""
        if self.drawn:
            self.write("\r\033[K")
            self.drawn = False

    def job_started(self, job_id: str, reasons: list[str]) -> None:
        self.next_plain = PLAIN_EVERY
        if self.dry_run or not self.quiet:
            verb = "would build" if self.dry_run else "building"
            self.write(f"{verb} {job_id}  ({'; '.join(reasons)})\n")

    def job_running(self, job_id: str, seconds: float) -> None:
        if self.quiet:
            return
        if self.tty:
            self.write(f"\r\033[Krunning  {job_id}  {seconds:.0f} s")
            self.drawn = True
        elif seconds >= self.next_plain:
            self.write(f"running  {job_id}  {seconds:.0f} s\n")
            self.next_plain += PLAIN_EVERY

    def job_note(self, job_id: str, note: str) -> None:
        self.clear()
        self.write(f"note     {note}\n")

    def job_finished(self, job: Job, built: bool, seconds: float) -> None:
        self.clear()
        self.write(f"{'built' if built else 'reused':8} {job.id}  {seconds:.2f} s\n")


class LiveOut:
    """Job output on its way to the terminal: clears the live line first."""

    def __init__(self, raw: IO[bytes], reporter: LineReporter) -> None:
        self.raw, self.reporter = raw, reporter

    def write(self, data: bytes) -> int:
        self.reporter.clear()
        if self.reporter.closed:
            return len(data)
        try:
            return self.raw.write(data)
        except BrokenPipeError:
            self.reporter.closed = True
            return len(data)

    def flush(self) -> None:
        if not self.reporter.closed:
            try:
                self.raw.flush()
            except BrokenPipeError:
                self.reporter.closed = True


def _fetcher(project: Any) -> Any:
    """With [gitax] fetch = "auto" and a remote: fetch a missing job instead of running it."""
    if project.config.fetch != "auto" or not project.config.remotes:
        return None
    from gitax.remote.sync import fetch_job

    return lambda key: fetch_job(project, key)


@click.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Last stdout line: built and reused ids.")
@click.option("-q", "--quiet", is_flag=True, help="No 'building' or progress lines.")
@click.option("--dry-run", is_flag=True, help="List what would be built, and why; run nothing.")
@click.pass_obj
def build(ctx: Context, name: str | None, as_json: bool, quiet: bool, dry_run: bool) -> None:
    """Run build.py (or build_NAME.py): reuse every stored job, run the rest."""
    from gitax.cli.cmd_status import format_running, running_in
    from gitax.git.hooks import missing_once
    from gitax.git.repo import head_commit, provenance
    from gitax.run.build import run_build

    project = ctx.project()
    text = sys.stderr if as_json else sys.stdout
    reporter = LineReporter(text, quiet, dry_run)
    git: dict[str, Any] | None = None

    def git_state() -> dict[str, Any]:
        nonlocal git
        if git is None:
            git = provenance(project.root)
        return git

    def report_status(signum: int, frame: Any) -> None:
        # SIGUSR1: the Linux stand-in for exax's CTRL+T.
        reporter.clear()
        lines = format_running(running_in(project)) or ["no job is running"]
        sys.stderr.write("\n".join(lines) + "\n")
        sys.stderr.flush()

    signal.signal(signal.SIGUSR1, report_status)
    raw = getattr(text, "buffer", None)
    try:
        result = run_build(
            project,
            name,
            reporter,
            live=LiveOut(raw, reporter) if raw is not None else None,  # type: ignore[arg-type]
            provenance=git_state,
            dry_run=dry_run,
            fetch=_fetcher(project),
            head=lambda: head_commit(project.root),
            args=tuple(sys.argv[1:]),
        )
    except BaseException:
        reporter.clear()  # the error line must not be written onto the live line
        raise
    if dry_run:
        if result.stopped:
            reporter.write(f"dry run stopped: {result.stopped}\n")
        reporter.write(
            f"dry run: {len(result.planned)} would be built, {len(result.reused)} reused; "
            "nothing ran\n"
        )
        if as_json:
            doc = {
                "would_build": [{"id": j.id, "why": r} for j, r in result.planned],
                "reused": [j.id for j in result.reused],
                "stopped": result.stopped,
            }
            click.echo(json.dumps(doc))
        return
    summary = f"{len(result.built)} built, {len(result.reused)} reused in {result.seconds:.2f} s"
    reporter.write(summary + "\n")
    if missing_once(project.root, project.store.root):
        reporter.write(
            "note: this git repository has no gitax hooks (git does not copy hooks into a "
            "clone); `gitax hooks install` makes commits check their results\n"
        )
    if as_json:
        doc = {"built": [j.id for j in result.built], "reused": [j.id for j in result.reused]}
        click.echo(json.dumps(doc))
