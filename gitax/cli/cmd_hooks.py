"""`gitax hooks install|uninstall`."""

from __future__ import annotations

from typing import Any

import click

from gitax.cli.main import Context


def print_report(report: Any) -> None:
    """What install or uninstall did."""
    for name in report.installed:
        click.echo(f"installed {report.folder / name}")
    for name in report.chained:
        click.echo(f"kept      {report.folder / name} (now run first, as {name}.pre-gitax)")
    for name in report.updated:
        click.echo(f"updated   {report.folder / name}")
    for name in report.removed:
        click.echo(f"removed   {report.folder / name}")
    for name in report.restored:
        click.echo(f"restored  {report.folder / name}")
    if not (report.installed or report.updated or report.removed or report.restored):
        click.echo(f"nothing to do in {report.folder}")


@click.group()
def hooks() -> None:
    """Install or remove gitax's git hooks (pre-commit verify, results follow checkouts)."""


@hooks.command()
@click.pass_obj
def install(ctx: Context) -> None:
    """Install the hooks, keeping (and chaining to) any hook already there."""
    from gitax.git.hooks import install as do_install

    print_report(do_install(ctx.project().root))


@hooks.command()
@click.pass_obj
def uninstall(ctx: Context) -> None:
    """Remove gitax's hooks and restore what was there before."""
    from gitax.git.hooks import uninstall as do_uninstall

    print_report(do_uninstall(ctx.project().root))
