"""merge_auto: one rule per type, and clear errors."""

from __future__ import annotations

from collections import Counter, namedtuple

import pytest

from gitax.run.analysis_res import AnalysisResults, MergeError


def merged(*values):
    return AnalysisResults(list(values)).merge_auto()


def test_numbers_add() -> None:
    assert merged(1, 2, 3) == 6
    assert merged(1.5, 2) == 3.5


def test_sets_union_and_lists_concatenate() -> None:
    assert merged({1, 2}, {2, 3}) == {1, 2, 3}
    assert merged([1], [2, 3], []) == [1, 2, 3]


def test_tuples_merge_position_by_position_with_the_same_rules() -> None:
    assert merged((1, [1], {"a": 1}), (2, [2], {"a": 2, "b": 1})) == (3, [1, 2], {"a": 3, "b": 1})
    Point = namedtuple("Point", "n items")
    assert merged(Point(1, {1}), Point(2, {2})) == Point(3, {1, 2})


def test_dicts_merge_recursively() -> None:
    a = {"count": 1, "seen": {"x"}, "nested": {"n": 1, "l": [1]}}
    b = {"count": 2, "seen": {"y"}, "nested": {"n": 5, "l": [2]}, "new": 7}
    assert merged(a, b) == {
        "count": 3,
        "seen": {"x", "y"},
        "nested": {"n": 6, "l": [1, 2]},
        "new": 7,
    }


def test_counters_update() -> None:
    result = merged(Counter("aab"), Counter("bc"))
    assert isinstance(result, Counter)
    assert result == Counter({"a": 2, "b": 2, "c": 1})


def test_results_are_in_slice_order_and_indexable() -> None:
    res = AnalysisResults(["s0", "s1", "s2"])
    assert list(res) == ["s0", "s1", "s2"] and res[1] == "s1" and len(res) == 3


@pytest.mark.parametrize(
    "values, message",
    [
        (("a", "b"), "str has no merge rule"),
        ((1, "b"), "int with str"),
        (((1, 2), (1,)), "tuples of 2 and 1"),
        (({"k": "x"}, {"k": "y"}), r"slice 1's value\['k'\]: str has no merge rule"),
        ((True, False), "bool"),
        ((None, None), "NoneType has no merge rule"),
    ],
)
def test_unmergeable_values_are_clear_errors(values, message) -> None:
    with pytest.raises(MergeError, match=message):
        merged(*values)


def test_merging_nothing_is_an_error() -> None:
    with pytest.raises(MergeError, match="no slice results"):
        merged()
