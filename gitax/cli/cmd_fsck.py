"""`gitax fsck`: check every object, reference, index entry and urd log."""

from __future__ import annotations

import json

import click

from gitax.cli.main import Context
from gitax.words import count


@click.command()
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_obj
def fsck(ctx: Context, as_json: bool) -> None:
    """Re-hash every object and check every reference; exit 1 on any problem. Stale
    locks are named, but are no problem."""
    from gitax.jobs.fsck import check_project

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
        verdict = count(len(report.problems), "problem") if report.problems else "clean"
        click.echo(
            f"{count(report.objects, 'object')}, {count(report.jobs, 'job')}, "
            f"{count(report.logs, 'urd log')}: {verdict}"
        )
    if report.problems:
        raise click.exceptions.Exit(1)
