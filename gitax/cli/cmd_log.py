"""`gitax log [LIST]`: urd sessions, newest first."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import click

from gitax.cli.main import Context


def session_doc(s: Any) -> dict[str, Any]:
    """A session as JSON-able data."""
    doc = asdict(s)
    doc["ref"] = s.ref
    doc["kind"] = "session"
    return doc


def session_lines(s: Any, indent: str = "  ") -> list[str]:
    """A session's jobs, one line each."""
    return [
        f"{indent}{'built' if j.built else 'reused':7} {j.id}"
        + (f"  (as {j.name})" if j.name != j.method else "")
        for j in s.joblist
    ]


def build_lines(run: Any, indent: str = "  ") -> list[str]:
    """A build run's jobs, one line each, with why each built one ran."""
    return [
        f"{indent}{'built' if c.built else 'reused':7} {c.id}"
        + (f"  (as {c.name})" if c.name != c.method else "")
        + (f"  ({'; '.join(c.why)})" if c.why else "")
        for c in run.record.calls
    ]


def build_summary(run: Any) -> str:
    """`ok: 2 built, 3 reused, commit 1b317210` for a build run."""
    r = run.record
    built = sum(c.built for c in r.calls)
    commit = (r.git.get("commit") or "")[:12]
    state = "ok" if r.ok else f"failed: {r.error}"
    return f"{state}; {built} built, {len(r.calls) - built} reused" + (
        f"; commit {commit}" if commit else ""
    )


@click.command()
@click.argument("list_name", metavar="[LIST|BUILD]", required=False)
@click.option("-n", "limit", type=click.IntRange(min=1), default=None, help="At most N entries.")
@click.option("--sessions", "what", flag_value="sessions", help="Only urd sessions.")
@click.option("--builds", "what", flag_value="builds", help="Only runs of build scripts.")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_obj
def log(
    ctx: Context, list_name: str | None, limit: int | None, what: str | None, as_json: bool
) -> None:
    """The history, newest first: urd sessions and runs of build scripts, of one urd list
    or build script, or of all."""
    from gitax.jobs.history import BuildRun, history

    items = history(ctx.project(), list_name, what or "all")
    items = items[:limit] if limit else items
    if as_json:
        docs = [i.doc() if isinstance(i, BuildRun) else session_doc(i) for i in items]
        click.echo(json.dumps(docs, indent=2))
        return
    if not items:
        click.echo("nothing recorded yet: `gitax build` records every run")
        return
    for n, item in enumerate(items):
        if n:
            click.echo()
        if isinstance(item, BuildRun):
            click.echo(f"{item.ref}  {build_summary(item)}")
            click.echo(f"  by {item.record.user} with {item.record.script}")
            lines = build_lines(item)
        else:
            caption = f"  {item.caption}" if item.caption else ""
            click.echo(f"{item.ref}{caption}")
            click.echo(f"  by {item.user} at {item.recorded} with {item.script or '-'}")
            lines = session_lines(item)
        for line in lines:
            click.echo(line)
