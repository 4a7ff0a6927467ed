"""`gitax gc`: reclaim what nothing reaches."""

from __future__ import annotations

import click

from gitax.cli.main import Context


@click.command()
@click.option("--dry-run", is_flag=True, help="Say what would go, and how many bytes.")
@click.option("--workdirs", is_flag=True, help="Also evict materialised job folders.")
@click.option(
    "--grace",
    type=click.FloatRange(min=0),
    default=14.0,
    show_default=True,
    help="Days: younger jobs and objects are always kept.",
)
@click.pass_obj
def gc(ctx: Context, dry_run: bool, workdirs: bool, grace: float) -> None:
    """Remove jobs and objects reachable from no urd list, gitax.lock or recent job."""
    from gitax.jobs.gc import gc as collect

    r = collect(ctx.project(), grace, workdirs, dry_run)
    verb = "would remove" if dry_run else "removed"
    click.echo(
        f"{verb} {len(r.jobs)} jobs, {r.objects} objects ({r.bytes / 2**20:.1f} MiB)"
        + (f", {r.workdirs} workdirs ({r.workdir_bytes / 2**20:.1f} MiB)" if workdirs else "")
        + f"; kept {r.kept_jobs} jobs, {r.kept_objects} objects"
    )
