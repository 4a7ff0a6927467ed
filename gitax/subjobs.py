"""`from gitax.subjobs import build`: build a job from inside a running job."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from gitax.errors import GitaxError
from gitax.jobs.job import Job
from gitax.run import jobproc


class JobError(GitaxError):
    """A subjob could not be built (exax's accelerator.dispatch.JobError)."""


def build(
    method: str,
    options: dict[str, Any] | None = None,
    jobs: dict[str, Any] | None = None,
    datasets: dict[str, Any] | None = None,
    name: str | None = None,
    **params: Any,
) -> Job:
    """Like urd.build, from inside a job: reused if stored, else run now; the parent job's
    manifest lists it among its subjobs."""
    from gitax.jobs.project import current_project
    from gitax.run.build import Urd

    ctl = os.environ.get("GITAX_RUN_CTL")
    if not ctl:
        raise GitaxError(
            "gitax.subjobs.build works inside a running job; use urd.build in build scripts"
        )
    if len(jobproc.running) >= jobproc.MAX_NESTING:
        chain = " -> ".join(jid for _, jid in jobproc.running)
        raise JobError(
            f"Too deep subjob nesting: {chain} may not build {method!r} (subjobs nest at most "
            f"{jobproc.MAX_NESTING} levels, as in exax)"
        )
    live = getattr(sys.stdout, "buffer", None)
    git = jobproc.inherited_git or {}
    urd = Urd(current_project(), live=live, provenance=lambda: git)
    try:
        job = urd.build(method, options, jobs, datasets, name, **params)
    finally:
        urd.close()
    # O_APPEND writes this small are atomic, so slices may record subjobs side by side.
    Path(ctl).mkdir(exist_ok=True)
    with open(Path(ctl) / "subjobs", "a") as fh:
        fh.write(f"{job.id} {job.key}\n")
    return job
