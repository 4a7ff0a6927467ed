"""`gitax diff A B`: two jobs, or two urd sessions."""

from __future__ import annotations

import json
from typing import Any

import click

from gitax.cli.main import Context


def _size(n: int | None) -> str:
    return "-" if n is None else f"{n} B"


def job_lines(d: dict[str, Any]) -> list[str]:
    """A job diff for the terminal."""
    if d["same"]:
        return [f"{d['a']} and {d['b']} are the same job"]
    lines = [f"diff {d['a']} {d['b']}"]
    if d["method"]:
        lines.append(f"method   {d['method'][0]} -> {d['method'][1]}")
    for name, (old, new) in d["options"].items():
        lines.append(f"option   {name}: {old!r} -> {new!r}")
    for name, (old, new) in d["jobs"].items():
        lines.append(f"input    {name}: {old} -> {new}")
    for path, f in d["files"].items():
        old, new = f["size"]
        lines.append(f"file     {f['status']:8} {path} ({_size(old)} -> {_size(new)})")
    if d["value"]:
        lines.append(f"value    {d['value'][0]} -> {d['value'][1]}")
    for path, s in d["sources"].items():
        lines.append(f"source   {s['status']:8} {path}")
    for s in d["sources"].values():
        if s["diff"]:
            lines.append(s["diff"].rstrip("\n"))
    return lines


def session_lines(d: dict[str, Any]) -> list[str]:
    """A session diff for the terminal."""
    lines = [f"diff {d['a']} {d['b']}"]
    for path, status in d.get("sources", {}).items():
        lines.append(f"source   {status:8} {path}")
    for j in d["jobs"]:
        why = f"  ({'; '.join(j['why'])})" if j.get("why") else ""
        lines.append(f"{j['status']:8} {j['name']}: {j['a'] or '-'} -> {j['b'] or '-'}{why}")
    lines.append(f"{len(d['jobs'])} changed, {d['unchanged']} the same")
    return lines


@click.command()
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_obj
def diff(ctx: Context, a: str, b: str, as_json: bool) -> None:
    """What differs between two jobs (JOB JOB), two urd sessions (LIST@T LIST~N), or two
    runs of build scripts (build~1 build): which jobs changed, and why."""
    from gitax.cli.cmd_show import is_session_ref
    from gitax.jobs.history import is_build_ref

    project = ctx.project()
    if is_build_ref(project, a) and is_build_ref(project, b):
        from gitax.jobs.diff import diff_builds
        from gitax.jobs.history import load_run

        ra, rb = load_run(project, a), load_run(project, b)
        doc = diff_builds(ra.entry, ra.record, rb.entry, rb.record)
        lines = session_lines(doc)
    elif is_session_ref(ctx, a) and is_session_ref(ctx, b):
        from gitax.jobs.diff import diff_sessions
        from gitax.jobs.urdlog import UrdLists

        lists = UrdLists(project.store.urd)
        doc = diff_sessions(lists.resolve(a), lists.resolve(b))
        lines = session_lines(doc)
    else:
        from gitax.jobs.diff import diff_jobs
        from gitax.jobs.job import Job

        doc = diff_jobs(Job(a, project), Job(b, project))
        lines = job_lines(doc)
    click.echo(json.dumps(doc, indent=2, default=str) if as_json else "\n".join(lines))
