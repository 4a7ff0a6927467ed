"""`gitax verify [--staged] [RESULT...]`: are results up to date with the code?"""

from __future__ import annotations

import json

import click

from gitax.cli.main import Context
from gitax.words import count


@click.command()
@click.argument("names", metavar="[RESULT...]", nargs=-1)
@click.option("--staged", is_flag=True, help="Check the code and gitax.lock in the git index.")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_obj
def verify(ctx: Context, names: tuple[str, ...], staged: bool, as_json: bool) -> None:
    """Check every result in gitax.lock (or those named) against the code; exit 1 if stale."""
    from gitax.git.verify import verify as check

    project = ctx.project()
    report = check(project.root, project.config.results, staged, list(names), project.config.store)
    if as_json:
        doc = {
            "checked": report.checked,
            "stale": [
                {"result": s.result, "reason": s.reason, "changed": list(s.changed), "fix": s.fix}
                for s in report.stale
            ],
        }
        click.echo(json.dumps(doc, indent=2))
    else:
        for s in report.stale:
            click.echo(f"stale: results/{s.result}: {s.reason}; {s.fix}")
        n, bad = len(report.checked), len(report.stale)
        if bad:
            tail = " (git commit --no-verify skips this check)" if staged else ""
            click.echo(f"{bad} of {count(n, 'result')} stale{tail}", err=True)
        else:
            click.echo(
                f"{n} result{'s' if n != 1 else ''} up to date with the "
                f"{'staged code' if staged else 'code'}"
            )
    if report.stale:
        raise click.exceptions.Exit(1)
