"""`gitax remote add|remove|list`, `gitax push`, `gitax pull`."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click

from gitax.cli.main import Context
from gitax.words import count


@click.group()
def remote() -> None:
    """Manage the remotes in gitax.toml."""


@remote.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--default", "is_default", is_flag=True, help="Use it when no remote is named.")
@click.option("--endpoint-url", help="For s3:// remotes: the S3-compatible server.")
@click.option("--trusted", is_flag=True, help="Allow loading the pickles of jobs pulled from it.")
@click.option("--init", "init", is_flag=True, help="Make a new store there if it has none.")
@click.pass_obj
def remote_add(
    ctx: Context,
    name: str,
    url: str,
    is_default: bool,
    endpoint_url: str | None,
    trusted: bool,
    init: bool,
) -> None:
    """Add a remote: a path, file://, ssh://user@host/path or s3://bucket/prefix."""
    from gitax.remote.remotes import add_remote
    from gitax.remote.sync import init_remote

    added = add_remote(ctx.project(), name, url, is_default, endpoint_url, trusted)
    notes = [n for n, on in (("default", is_default), ("trusted", trusted)) if on]
    click.echo(f"added remote {name} {url}" + (f" ({', '.join(notes)})" if notes else ""))
    if init and init_remote(added):
        click.echo(f"made a new gitax store at {url}")


@remote.command("remove")
@click.argument("name")
@click.pass_obj
def remote_remove(ctx: Context, name: str) -> None:
    """Remove a remote from gitax.toml (nothing on the remote is touched)."""
    from gitax.remote.remotes import remove_remote

    remove_remote(ctx.project(), name)
    click.echo(f"removed remote {name}")


@remote.command("list")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_obj
def remote_list(ctx: Context, as_json: bool) -> None:
    """List the remotes."""
    remotes = ctx.project().config.remotes
    if as_json:
        click.echo(json.dumps({n: r.__dict__ for n, r in remotes.items()}, indent=2))
        return
    for r in remotes.values():
        extra = (" (default)" if r.default else "") + (
            f" endpoint {r.endpoint_url}" if r.endpoint_url else ""
        )
        click.echo(f"{r.name}  {r.url}{extra}")


class ProgressLine:
    """Objects and bytes moved: redrawn in place on a terminal, else a line every
    `every` seconds (a long push in CI still shows it is moving)."""

    def __init__(self, verb: str, every: float = 10.0) -> None:
        self.verb, self.tty, self.every = verb, sys.stderr.isatty(), every
        self.next = time.monotonic() + every

    def __call__(self, what: str, done: int, total: int, nbytes: int) -> None:
        line = f"{self.verb} {done}/{total} {what}, {nbytes / 2**20:.1f} MiB"
        if self.tty:
            sys.stderr.write(f"\r\033[K{line}")
            sys.stderr.flush()
        elif time.monotonic() >= self.next:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
            self.next = time.monotonic() + self.every

    def end(self) -> None:
        if self.tty:
            sys.stderr.write("\r\033[K")


def _summary(verb: str, report: Any, url: str) -> None:
    click.echo(
        f"{verb} {count(report.objects, 'object')} ({report.bytes / 2**20:.1f} MiB), "
        f"{count(report.jobs, 'job')}, {count(sum(report.lists.values()), 'urd entry')}, "
        f"{count(sum(report.builds.values()), 'build')} {url}"
    )
    for ref in report.conflicts:
        click.echo(
            f"conflict: {ref} differs on the two sides; both are kept, the later recorded shows",
            err=True,
        )
    for key in report.missing:
        click.echo(f"missing: job {key[:12]} is not on the sending side", err=True)


def _selection(lists: tuple[str, ...], jobs: tuple[str, ...], results: bool) -> Any:
    from gitax.remote.sync import Selection

    return Selection(list(lists) or None, jobs, results)


@click.command()
@click.argument("remote_name", metavar="[REMOTE]", required=False)
@click.option("--list", "lists", multiple=True, metavar="LIST", help="Push this urd list.")
@click.option("--job", "jobs", multiple=True, metavar="ID", help="Push this job.")
@click.option("--results", is_flag=True, help="Push the jobs of gitax.lock's results.")
@click.option("--pre-push", "pre_push", is_flag=True, hidden=True)
@click.pass_obj
def push(
    ctx: Context,
    remote_name: str | None,
    lists: tuple[str, ...],
    jobs: tuple[str, ...],
    results: bool,
    pre_push: bool,
) -> None:
    """Send jobs and urd lists to a remote (everything, unless some are named)."""
    from gitax.remote.sync import push_project

    project = ctx.project()
    if pre_push:
        _pre_push(project)
        return
    bar = ProgressLine("pushing")
    report = push_project(project, remote_name, _selection(lists, jobs, results), bar)
    bar.end()
    remote = project.config.remote(remote_name)
    if report.created:
        click.echo(f"made a new gitax store at {remote.url} for remote {remote.name}")
    _summary("pushed", report, f"to {remote.name}")


@click.command()
@click.argument("remote_name", metavar="[REMOTE]", required=False)
@click.option("--list", "lists", multiple=True, metavar="LIST", help="Pull this urd list.")
@click.option("--job", "jobs", multiple=True, metavar="ID", help="Pull this job.")
@click.option("--results", is_flag=True, help="Pull the jobs of gitax.lock's results.")
@click.pass_obj
def pull(
    ctx: Context,
    remote_name: str | None,
    lists: tuple[str, ...],
    jobs: tuple[str, ...],
    results: bool,
) -> None:
    """Fetch jobs and urd lists from a remote (everything, unless some are named)."""
    from gitax.remote.sync import pull_project

    project = ctx.project()
    bar = ProgressLine("pulling")
    report = pull_project(project, remote_name, _selection(lists, jobs, results), bar)
    bar.end()
    _summary("pulled", report, f"from {project.config.remote(remote_name).name}")


def _pre_push(project: Any) -> None:
    """The pre-push hook: push the jobs of the results in the commits being pushed."""
    from gitax.errors import ConfigError
    from gitax.git.repo import RevisionError, read_at_revision
    from gitax.remote.sync import push_for_commits

    try:
        project.config.remote(None)
    except ConfigError:
        click.echo("gitax: pre-push: no default gitax remote; results not pushed", err=True)
        return
    texts = []
    for line in sys.stdin.read().splitlines():
        parts = line.split()
        if len(parts) == 4 and set(parts[1]) != {"0"}:
            try:
                texts.append(
                    (parts[1], read_at_revision(project.root, parts[1], "gitax.lock").decode())
                )
            except RevisionError:
                continue  # a commit without gitax.lock
    report = push_for_commits(project, texts)
    click.echo(
        f"gitax: pre-push: pushed {count(report.objects, 'object')}, {count(report.jobs, 'job')}",
        err=True,
    )
