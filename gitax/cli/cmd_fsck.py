"""`gitax fsck`: check every object, reference, index entry and urd log."""

from __future__ import annotations

import json

import click

from gitax.cli.main import Context


@click.command()
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_obj
def fsck(ctx: Context, as_json: bool) -> None:
    """Re-hash every object and check every reference; exit 1 on any problem. Stale
    locks are named, but are no problem."""
    from gitax.jobs.check import check_project

    report = check_project(ctx.project())
    if as_json:
        doc = {
            "objects": report.objects,
            "jobs": report.jobs,
            "logs": report.logs,
            "problems": [{"where": p.where, "what": p.what} for p in report.problems],
            "stale_locks": [{"where": p.where, "what": p.what} for p in report.stale_locks],
        }
        click.echo(json.dumps(doc, indent=2))
    else:
        for p in report.problems:
            click.echo(f"{p.where}: {p.what}")
        for p in report.stale_locks:
            click.echo(f"{p.where}: {p.what} (not damage: the next writer takes it over)")
        verdict = f"{len(report.problems)} problems" if report.problems else "clean"
        click.echo(
            f"{report.objects} objects, {report.jobs} jobs, {report.logs} urd logs: {verdict}"
        )
    if report.problems:
        raise click.exceptions.Exit(1)
