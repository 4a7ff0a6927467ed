"""A job decided but not yet run, and the names of its phases and output streams."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitax.jobs.job import Job
from gitax.jobs.keys import job_id
from gitax.jobs.methods import Method

PREPARE, ANALYSIS, SYNTHESIS = "prepare", "analysis", "synthesis"
RESULT = "result"  # the pipe the job process sends its result on (not an output stream)
LOADING = "loading"  # running the method module's top level; its output goes with prepare's


@dataclass(frozen=True)
class JobSpec:
    """Everything needed to run a job, decided before it runs."""

    method: Method
    key: str
    options: dict[str, Any]
    jobs: dict[str, Job | list[Job] | None]
    slices: int = 0  # analysis processes; 0 when the method has no analysis()
    datasets: dict[str, Any] = field(default_factory=dict)  # name -> Dataset | list | None

    @property
    def id(self) -> str:
        """The id the job will have."""
        return job_id(self.method.name, self.key)


def output_names(spec: JobSpec) -> list[str]:
    """The output streams of a job, in phase order: prepare, each slice, synthesis."""
    names = [PREPARE] + [str(k) for k in range(spec.slices)]
    return names + ([SYNTHESIS] if SYNTHESIS in spec.method.phases else [])
