"""Datasets given to a job (`datasets = ('source',)`): resolving what a build passes, how
they join the key, and how the manifest names them."""

from __future__ import annotations

from typing import Any

from gitax.jobs.dataset import Dataset, ref_of
from gitax.jobs.dstypes import DatasetError
from gitax.jobs.options import OptionError
from gitax.jobs.specifiers import JobNotFound

DatasetInputs = dict[str, "Dataset | list[Dataset] | None"]


def _one(project: Any, method: str, param: str, value: Any) -> Dataset:
    try:
        return Dataset(value, project=project)
    except (DatasetError, JobNotFound) as e:
        raise OptionError(f"{method}: dataset parameter {param!r}: {e}") from None


def resolve_datasets(
    project: Any, method: str, declared: dict[str, bool], given: dict[str, Any]
) -> DatasetInputs:
    """Each declared dataset parameter as a Dataset (a list of them for `['name']`), or
    None; given as a Dataset, a job (its `default`), `JOB` or `JOB/name`."""
    unknown = sorted(set(given) - set(declared))
    if unknown:
        valid = ", ".join(sorted(declared)) or "none"
        raise OptionError(f"{method}: unknown dataset parameter {unknown[0]!r}; valid: {valid}")
    out: DatasetInputs = {}
    for param, is_list in declared.items():
        value = given.get(param)
        if is_list:
            if value is None:
                out[param] = []
            elif isinstance(value, (list, tuple)):
                out[param] = [_one(project, method, param, v) for v in value]
            else:
                raise OptionError(f"{method}: dataset parameter {param!r} takes a list")
        elif isinstance(value, (list, tuple)) and not isinstance(value, Dataset):
            raise OptionError(f"{method}: dataset parameter {param!r} takes one dataset")
        else:
            out[param] = None if value is None else _one(project, method, param, value)
    return out


def dataset_keys(inputs: DatasetInputs) -> dict[str, Any]:
    """How the given datasets join the job key: `<job key>/<name>` each."""

    def key(d: Dataset) -> str:
        return f"{d.job.key}/{d.name}"

    return {
        p: [key(d) for d in v] if isinstance(v, list) else (v and key(v)) for p, v in inputs.items()
    }


def dataset_refs(inputs: DatasetInputs) -> dict[str, Any]:
    """How the manifest names the given datasets: {"id", "key", "name"} each."""

    def ref(d: Dataset) -> dict[str, str]:
        return ref_of(d.job, d.name)

    return {
        p: [ref(d) for d in v] if isinstance(v, list) else (v and ref(v)) for p, v in inputs.items()
    }
