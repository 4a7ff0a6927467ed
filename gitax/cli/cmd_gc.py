"""`gitax gc`: reclaim what nothing reaches."""

from __future__ import annotations

import json
import math
from dataclasses import asdict

import click

from gitax.cli.main import Context
from gitax.words import count


@click.command()
@click.option("--dry-run", is_flag=True, help="List what would go, and how many bytes.")
@click.option("--workdirs", is_flag=True, help="Also evict materialised job folders.")
@click.option(
    "--grace",
    type=click.FloatRange(min=0),
    default=14.0,
    show_default=True,
    help="Days: younger jobs and objects are always kept.",
)
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
@click.pass_obj
def gc(ctx: Context, dry_run: bool, workdirs: bool, grace: float, as_json: bool) -> None:
    """Remove jobs and objects that no urd list, build, gitax.lock or recent job reaches,
    the work folders of removed jobs, and the folders of failed runs."""
    from gitax.jobs.gc import gc as collect

    if math.isnan(grace):
        raise click.BadParameter("must be a number of days, not nan", param_hint="--grace")
    project = ctx.project()
    project.dry_run = dry_run  # reads only: an absent store is not made
    r = collect(project, grace, workdirs, dry_run)
    if as_json:
        click.echo(json.dumps({"dry_run": dry_run, **asdict(r)}, indent=2))
        return
    verb = "would remove" if dry_run else "removed"
    if dry_run:
        for jid in r.job_ids:
            click.echo(f"would remove {jid}")
    mib = 2**20
    click.echo(
        f"{verb} {count(len(r.jobs), 'job')}, {count(r.objects, 'object')} "
        f"({r.bytes / mib:.1f} MiB), "
        f"{count(r.workdirs, 'workdir')} ({r.workdir_bytes / mib:.1f} MiB), "
        f"{count(r.failed, 'failed run')} ({r.failed_bytes / mib:.1f} MiB)"
        + f"; kept {count(r.kept_jobs, 'job')}, {count(r.kept_objects, 'object')}"
        + (f", {count(r.kept_workdirs, 'workdir')} that results/ links into" if workdirs else "")
    )
