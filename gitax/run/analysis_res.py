"""analysis_res: the slices' return values in slice order, and merge_auto()."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from gitax.errors import GitaxError


class MergeError(GitaxError):
    """merge_auto() met values it has no rule for."""


def merge(a: Any, b: Any, where: str = "value") -> Any:
    """Merge two slice results: numbers add, sets union, lists concatenate, tuples merge
    position by position, dicts merge recursively, Counters update."""
    if isinstance(a, Counter) and isinstance(b, Counter):
        counts = Counter(a)
        counts.update(b)
        return counts
    if isinstance(a, bool) or isinstance(b, bool):
        raise MergeError(f"merge_auto: cannot merge {where}: bool values have no merge rule")
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a + b
    if type(a) is not type(b) and not (isinstance(a, dict) and isinstance(b, dict)):
        raise MergeError(
            f"merge_auto: cannot merge {where}: {type(a).__name__} with {type(b).__name__}"
        )
    if isinstance(a, (set, frozenset)):
        return a | b
    if isinstance(a, list):
        return a + b
    if isinstance(a, tuple):
        if len(a) != len(b):
            raise MergeError(f"merge_auto: cannot merge {where}: tuples of {len(a)} and {len(b)}")
        merged = [merge(x, y, f"{where}[{i}]") for i, (x, y) in enumerate(zip(a, b, strict=True))]
        return type(a)(*merged) if hasattr(a, "_fields") else tuple(merged)  # namedtuples too
    if isinstance(a, dict):
        out = a.copy()
        for k, v in b.items():
            out[k] = merge(out[k], v, f"{where}[{k!r}]") if k in out else v
        return out
    raise MergeError(f"merge_auto: cannot merge {where}: {type(a).__name__} has no merge rule")


class AnalysisResults(Sequence[Any]):
    """The return values of analysis(), one per slice, in slice order."""

    def __init__(self, values: list[Any]) -> None:
        self._values = values

    def __getitem__(self, index: Any) -> Any:
        return self._values[index]

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __repr__(self) -> str:
        return f"AnalysisResults({self._values!r})"

    def merge_auto(self) -> Any:
        """All slices' values merged into one (see merge)."""
        if not self._values:
            raise MergeError("merge_auto: there are no slice results to merge")
        result = self._values[0]
        for sliceno, value in enumerate(self._values[1:], 1):
            result = merge(result, value, f"slice {sliceno}'s value")
        return result
