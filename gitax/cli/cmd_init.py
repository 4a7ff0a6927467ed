"""`gitax init`."""

from __future__ import annotations

import click

from gitax.cli.main import Context
from gitax.jobs.project import init_project


@click.command()
@click.pass_obj
def init(ctx: Context) -> None:
    """Make gitax.toml, a methods folder, the store and .gitignore lines (keeps what exists);
    in a git repository, install the hooks too."""
    from gitax.cli.cmd_hooks import print_report
    from gitax.git.hooks import install_if_repo

    report = init_project(ctx.directory)
    for item in report.created:
        click.echo(f"created  {item}")
    for item in report.kept:
        click.echo(f"kept     {item}")
    hooks = install_if_repo(report.root)
    if hooks is not None:
        print_report(hooks)
    click.echo(f"gitax project ready in {report.root}")
