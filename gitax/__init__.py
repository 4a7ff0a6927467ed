"""gitax: reproducible, reusable, shareable data-project builds inside git."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from gitax.jobs.job import Job as Job
    from gitax.run.status import status as status

__all__ = ["Job", "status", "__version__"]


def __getattr__(name: str) -> Any:
    # Imported lazily so that `gitax --version` and hooks start fast.
    if name == "Job":
        from gitax.jobs.job import Job

        return Job
    if name == "status":
        from gitax.run.status import status

        return status
    raise AttributeError(f"module 'gitax' has no attribute {name!r}")
