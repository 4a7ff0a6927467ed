"""`gitax checkout JOB [DIR]` and `gitax checkout --results [REV]`."""

from __future__ import annotations

from pathlib import Path

import click

from gitax.cli.main import Context
from gitax.errors import GitaxError


class MissingResults(GitaxError):
    """Some results of a gitax.lock have no job in the local store."""


@click.command()
@click.argument("target", metavar="JOB [DIR] | --results [REV]", required=False)
@click.argument("directory", metavar="", required=False)
@click.option("--results", is_flag=True, help="Make results/ match gitax.lock at git REV.")
@click.pass_obj
def checkout(ctx: Context, target: str | None, directory: str | None, results: bool) -> None:
    """Write a stored job as plain files into DIR, or restore results/ from a revision."""
    project = ctx.project()
    if results:
        from gitax.git.repo import read_at_revision
        from gitax.jobs.checkout import checkout_results
        from gitax.jobs.resultlock import LOCK_FILE, parse_lock

        rev = target or "HEAD"
        text = read_at_revision(project.root, rev, LOCK_FILE).decode("utf-8")
        report = checkout_results(project, parse_lock(text, f"{rev}:{LOCK_FILE}"))
        for path in report.linked:
            click.echo(f"linked   results/{path}")
        for path in report.removed:
            click.echo(f"removed  results/{path}")
        if report.missing:
            names = ", ".join(f"results/{m.path} ({m.job})" for m in report.missing)
            raise MissingResults(
                f"not in the local store: {names}; run `gitax build` or `gitax pull`"
            )
        return
    from gitax.jobs.checkout import checkout_job
    from gitax.jobs.job import Job

    if target is None:
        raise click.UsageError("name a JOB to check out, or give --results")
    job = Job(target, project)
    dest = Path(ctx.directory) / (directory or job.id)
    checkout_job(job, dest)
    click.echo(f"{job.id} checked out in {dest}")
