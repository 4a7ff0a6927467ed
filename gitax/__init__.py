"""gitax: reproducible, reusable, shareable data-project builds inside git."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from gitax.jobs.dataset import Dataset as Dataset
    from gitax.jobs.job import Job as Job
    from gitax.run.status import status as status

__all__ = ["Job", "JobWithFile", "status", "build", "__version__"]
__all__ += ["DotDict", "OptionEnum", "OptionString", "RequiredOption", "OptionDefault"]
__all__ += ["Dataset"]

# Where each lazily imported name lives (exax's `from accelerator import X` names).
_LAZY = {
    "Job": "gitax.jobs.job",
    "JobWithFile": "gitax.jobs.withfile",
    "status": "gitax.run.status",
    "build": "gitax.subjobs",
    "DotDict": "gitax.run.context",
    "OptionEnum": "gitax.jobs.optiontypes",
    "OptionString": "gitax.jobs.optiontypes",
    "RequiredOption": "gitax.jobs.optiontypes",
    "OptionDefault": "gitax.jobs.optiontypes",
    "Dataset": "gitax.jobs.dataset",
}


def __getattr__(name: str) -> Any:
    # Imported lazily so that `gitax --version` and hooks start fast.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gitax' has no attribute {name!r}")
