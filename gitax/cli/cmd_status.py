"""`gitax status`: what every running job of the project is doing."""

from __future__ import annotations

import json
import time
from typing import Any

import click

from gitax.cli.main import Context


def format_running(docs: list[dict[str, Any]], now: float | None = None) -> list[str]:
    """One line per running job process: job, phase and slice, elapsed time, message."""
    now = time.time() if now is None else now
    lines = []
    for d in docs:
        where = d.get("phase", "?")
        if d.get("slice") is not None:
            where += f" slice {d['slice']}"
        elapsed = now - d.get("job_started", now)
        messages = d.get("messages") or []
        message = messages[-1][0] if messages else ""
        lines.append(f"{d.get('job', '?'):30} {where:20} {elapsed:7.1f} s  {message}".rstrip())
    return lines


def running_in(project: Any) -> list[dict[str, Any]]:
    """The status of every running job process of a project."""
    from gitax.run import status

    return status.running(project.store.root / status.STATUS_DIR, str(project.root))


@click.command(name="status")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_obj
def status_cmd(ctx: Context, as_json: bool) -> None:
    """Show every running job: method, phase, slice, elapsed time, status message."""
    docs = running_in(ctx.project())
    if as_json:
        click.echo(json.dumps(docs, indent=2))
        return
    lines = format_running(docs)
    click.echo("\n".join(lines) if lines else "no job is running")
