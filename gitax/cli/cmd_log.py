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
    return doc


def session_lines(s: Any, indent: str = "  ") -> list[str]:
    """A session's jobs, one line each."""
    return [
        f"{indent}{'built' if j.built else 'reused':7} {j.id}"
        + (f"  (as {j.name})" if j.name != j.method else "")
        for j in s.joblist
    ]


@click.command()
@click.argument("list_name", metavar="[LIST]", required=False)
@click.option("-n", "limit", type=click.IntRange(min=1), default=None, help="At most N sessions.")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_obj
def log(ctx: Context, list_name: str | None, limit: int | None, as_json: bool) -> None:
    """The urd history: sessions newest first, of one list or of all."""
    from gitax.jobs.urdlog import UrdLists, check_list_name

    lists = UrdLists(ctx.project().store.urd)
    names = [check_list_name(list_name)] if list_name else lists.names()
    sessions = [s for name in names for s in lists.sessions(name)]
    sessions.sort(key=lambda s: (s.timestamp, s.recorded), reverse=True)
    sessions = sessions[:limit] if limit else sessions
    if as_json:
        click.echo(json.dumps([session_doc(s) for s in sessions], indent=2))
        return
    if not sessions:
        click.echo(f"no sessions in {list_name!r}" if list_name else "no urd sessions yet")
        return
    for n, s in enumerate(sessions):
        if n:
            click.echo()
        caption = f"  {s.caption}" if s.caption else ""
        click.echo(f"{s.ref}{caption}")
        click.echo(f"  by {s.user} at {s.recorded} with {s.script or '-'}")
        for line in session_lines(s):
            click.echo(line)
