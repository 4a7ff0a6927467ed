"""Option typing, exax rules."""

from __future__ import annotations

import datetime

import pytest

from gitax.jobs.keys import job_key
from gitax.jobs.options import OptionError, check_spec, resolve_options


def resolve(specs, **given):
    return resolve_options("m", specs, given)


def test_defaults_apply_when_not_given() -> None:
    assert resolve({"a": 3, "b": "x", "c": [1], "d": None}) == {
        "a": 3,
        "b": "x",
        "c": [1],
        "d": None,
    }


def test_a_type_alone_means_that_type_or_none() -> None:
    assert resolve({"f": str}) == {"f": None}
    assert resolve({"f": str}, f="in.csv") == {"f": "in.csv"}
    with pytest.raises(OptionError, match=r"option 'f' must be str, not int"):
        resolve({"f": str}, f=3)


def test_int_is_accepted_for_float_and_keys_the_same() -> None:
    one = resolve({"lr": 0.5}, lr=1)
    assert one == {"lr": 1.0} and isinstance(one["lr"], float)
    k1 = job_key("m", [], resolve({"lr": 0.5}, lr=1), {})
    k2 = job_key("m", [], resolve({"lr": 0.5}, lr=1.0), {})
    assert k1 == k2


def test_float_is_refused_for_int_and_bool_for_int() -> None:
    with pytest.raises(OptionError, match="must be int, not float"):
        resolve({"n": 3}, n=3.5)
    with pytest.raises(OptionError, match="must be int, not bool"):
        resolve({"n": 3}, n=True)


def test_unknown_option_lists_the_valid_ones() -> None:
    with pytest.raises(OptionError, match=r"unknown option 'nn'; valid options: lr, n"):
        resolve({"n": 3, "lr": 0.1}, nn=1)


def test_none_for_a_default_valued_option_is_an_error() -> None:
    with pytest.raises(OptionError, match="not None"):
        resolve({"n": 3}, n=None)


def test_lists_dicts_dates_are_valid_values() -> None:
    specs = {"cols": ["a"], "map": {}, "when": datetime.date(2020, 1, 1), "at": datetime.datetime}
    out = resolve(
        specs, cols=("x", "y"), map={"k": [1, 2]}, when="2023-01-05", at="2023-01-05T10:00"
    )
    assert out == {
        "cols": ["x", "y"],
        "map": {"k": [1, 2]},
        "when": datetime.date(2023, 1, 5),
        "at": datetime.datetime(2023, 1, 5, 10, 0),
    }


def test_typed_list_checks_each_element() -> None:
    assert resolve({"xs": [float]}, xs=[1, 2.5]) == {"xs": [1.0, 2.5]}
    assert resolve({"xs": [float]}) == {"xs": []}
    with pytest.raises(OptionError, match=r"xs\[1\]"):
        resolve({"xs": [float]}, xs=[1, "a"])


def test_non_json_values_are_refused() -> None:
    with pytest.raises(OptionError, match="set is not a valid option value"):
        resolve({"x": None}, x={1, 2})
    with pytest.raises(OptionError, match="dict keys must be str"):
        resolve({"x": None}, x={1: 2})
    with pytest.raises(OptionError, match="reserved"):
        resolve({"x": {}}, x={"__gitax__": "date", "v": "x"})


def test_a_datetime_is_not_a_date() -> None:
    with pytest.raises(OptionError):
        resolve({"d": datetime.date(2020, 1, 1)}, d=datetime.datetime(2020, 1, 1))


def test_unsupported_declared_type() -> None:
    with pytest.raises(OptionError, match="unsupported type"):
        check_spec("m", "x", set)
