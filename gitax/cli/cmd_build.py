"""`gitax build [NAME]`."""

from __future__ import annotations

import json
import sys
from typing import IO, Any

import click

from gitax.cli.main import Context
from gitax.jobs.job import Job


class LineReporter:
    """One line per job, built or reused, with its time."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def job_started(self, job_id: str) -> None:
        self.out.write(f"building {job_id}\n")
        self.out.flush()

    def job_finished(self, job: Job, built: bool, seconds: float) -> None:
        self.out.write(f"{'built' if built else 'reused':8} {job.id}  {seconds:.2f} s\n")
        self.out.flush()


@click.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Last stdout line: built and reused ids.")
@click.pass_obj
def build(ctx: Context, name: str | None, as_json: bool) -> None:
    """Run build.py (or build_NAME.py): reuse every stored job, run the rest."""
    from gitax.git.repo import provenance
    from gitax.run.build import run_build

    project = ctx.project()
    text = sys.stderr if as_json else sys.stdout
    git: dict[str, Any] | None = None

    def git_state() -> dict[str, Any]:
        nonlocal git
        if git is None:
            git = provenance(project.root)
        return git

    result = run_build(
        project, name, LineReporter(text), live=getattr(text, "buffer", None), provenance=git_state
    )
    summary = f"{len(result.built)} built, {len(result.reused)} reused in {result.seconds:.2f} s"
    text.write(summary + "\n")
    text.flush()
    if as_json:
        doc = {"built": [j.id for j in result.built], "reused": [j.id for j in result.reused]}
        click.echo(json.dumps(doc))
