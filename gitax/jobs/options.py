"""Option typing the exax way: declared defaults and types -> canonical, typed values."""

from __future__ import annotations

import datetime
import reprlib
from collections.abc import Sequence
from typing import Any

from gitax.errors import GitaxError
from gitax.jobs.optiontypes import (
    OptionDefault,
    OptionEnum,
    OptionEnumValue,
    OptionStringType,
    RequiredOption,
    enum_members,
    enum_none_ok,
)
from gitax.store.hashing import TAG

SCALAR_TYPES: tuple[type, ...] = (
    bool,
    int,
    float,
    str,
    list,
    dict,
    datetime.datetime,
    datetime.date,
    datetime.time,
    datetime.timedelta,
)


def _withfile_type() -> type:
    from gitax.jobs.withfile import JobWithFile

    return JobWithFile


class OptionError(GitaxError):
    """An option given to a method is unknown, of the wrong type, or not a valid value."""


def _type_name(t: Any) -> str:
    return t.__name__ if isinstance(t, type) else type(t).__name__


MAX_INT_DIGITS = 4000  # JSON (and so a key) holds ints of at most 4300 digits in Python


def short_repr(value: Any, limit: int = 80) -> str:
    """A repr short enough for a one-line error, whatever the value."""
    short = reprlib.Repr()
    short.maxstring = short.maxother = short.maxlong = limit
    try:
        text = short.repr(value)
    except ValueError:  # an int too long for str()
        return f"<int of {value.bit_length()} bits>"
    return text if len(text) <= 2 * limit else text[: 2 * limit] + "..."


def check_plain(method: str, name: str, value: Any) -> Any:
    """Any valid option value (JSON-like, dates, times, durations and jobs); tuples and
    job lists become lists, enum members plain strings."""
    if isinstance(value, OptionEnumValue):
        value = str(value)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as e:
            raise OptionError(
                f"{method}: option {name!r}: the string holds {value[e.start]!r} at "
                f"{e.start}, a lone surrogate, which no file can store"
            ) from None
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > MAX_INT_DIGITS * 3.32:
            raise OptionError(
                f"{method}: option {name!r}: an int of {value.bit_length()} bits is too large "
                f"to key (at most {MAX_INT_DIGITS} digits); pass it as a str"
            )
        return value
    if value is None or isinstance(value, (bool, float)):
        return value
    if isinstance(value, (datetime.date, datetime.time, datetime.timedelta)):
        return value
    if callable(getattr(value, "tagged", None)):  # a job, a running job or a JobWithFile
        return value
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return [check_plain(method, name, v) for v in value]  # lists, tuples, JobLists
    if isinstance(value, dict):
        for k in value:
            if not isinstance(k, str):
                raise OptionError(
                    f"{method}: option {name!r}: dict keys must be str, not {_type_name(k)}"
                )
        if TAG in value:
            raise OptionError(f"{method}: option {name!r}: the key {TAG!r} is reserved")
        return {k: check_plain(method, name, v) for k, v in value.items()}
    raise OptionError(
        f"{method}: option {name!r}: {_type_name(value)} is not a valid option value "
        "(use None, bool, int, float, str, list, dict, date, datetime, time, timedelta "
        "or a job)"
    )


def coerce(method: str, name: str, want: type, value: Any) -> Any:
    """`value` as type `want`, or an OptionError naming the option and both types."""

    def wrong() -> OptionError:
        return OptionError(
            f"{method}: option {name!r} must be {want.__name__}, not {_type_name(value)} "
            f"({short_repr(value)})"
        )

    if want is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong()
        try:
            return float(value)  # an int is a valid float, and 1 and 1.0 must key the same
        except OverflowError:
            raise wrong() from None
    if want is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong()
        return check_plain(method, name, value)
    if want is list:
        if isinstance(value, (str, bytes, dict)) or not isinstance(value, Sequence):
            raise wrong()  # a JobList (urd.joblist) is a list of jobs
        return check_plain(method, name, value)
    if want is datetime.timedelta:
        if isinstance(value, datetime.timedelta):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                return datetime.timedelta(seconds=value)  # a number is seconds, as in exax
            except (OverflowError, ValueError):
                raise wrong() from None
        raise wrong()
    if want is str and hasattr(value, "tagged") and hasattr(value, "key"):
        return str(value)  # exax's jobs are strs: a str option takes a job as its id
    if want is _withfile_type():
        try:
            from gitax.jobs.withfile import as_withfile

            found = as_withfile(value)
        except GitaxError as e:
            raise OptionError(f"{method}: option {name!r}: {e}") from None
        if found is None:
            raise wrong()
        return found
    if want is datetime.datetime or want is datetime.date or want is datetime.time:
        if isinstance(value, str):
            try:
                return want.fromisoformat(value)  # type: ignore[attr-defined]
            except ValueError:
                raise wrong() from None
        if want is datetime.date and isinstance(value, datetime.datetime):
            raise wrong()
        if not isinstance(value, want):
            raise wrong()
        return value
    if not isinstance(value, want):
        raise wrong()
    return check_plain(method, name, value)


def check_spec(method: str, name: str, spec: Any) -> None:
    """Refuse a declaration that is neither a valid type nor a valid default value."""
    if isinstance(spec, type):
        if spec not in SCALAR_TYPES and spec is not _withfile_type():
            raise OptionError(
                f"{method}: option {name!r} declares unsupported type {spec.__name__}"
            )
        return
    if isinstance(spec, (OptionEnum, OptionStringType)):
        return
    if isinstance(spec, (RequiredOption, OptionDefault)):
        check_spec(method, name, spec.value)
        if isinstance(spec, OptionDefault):
            check_plain(method, name, spec.default)
        return
    if _is_typed_list(spec):
        check_spec(method, name, spec[0])
        return
    if _is_typed_dict(spec):
        check_spec(method, name, next(iter(spec.values())))
        return
    check_plain(method, name, spec)


def _is_typing(spec: Any) -> bool:
    """Does `spec` say what type a value has (rather than being a default value)?"""
    return isinstance(spec, (type, OptionEnum, OptionEnumValue, OptionStringType))


def _is_typed_list(spec: Any) -> bool:
    return isinstance(spec, list) and len(spec) == 1 and _is_typing(spec[0])


def _is_typed_dict(spec: Any) -> bool:
    """`dict(x=int)` or `dict(x=SomeEnum)`: a dict of any keys whose values are typed so."""
    return isinstance(spec, dict) and len(spec) == 1 and _is_typing(next(iter(spec.values())))


def _enum_value(method: str, name: str, enum: OptionEnum, value: Any) -> str | None:
    if not enum.allows(value):
        members = " ".join(enum_members(enum))
        if value is None:
            raise OptionError(
                f"{method}: option {name!r} must be one of {members} (None is not allowed)"
            )
        raise OptionError(f"{method}: option {name!r}: {short_repr(value)} is not one of {members}")
    return None if value is None else str(value)


def _required(method: str, name: str, what: str) -> OptionError:
    return OptionError(f"{method}: option {name!r} is required ({what}): pass it to build")


def resolve_one(method: str, name: str, spec: Any, given: Any, is_given: bool) -> Any:
    """The value of one option: the given one typed by the spec, or the default."""
    if isinstance(spec, RequiredOption):
        if not is_given:
            raise _required(method, name, f"RequiredOption({spec.value!r})")
        if given is None and spec.none_ok:
            return None
        if given is None:
            raise OptionError(f"{method}: option {name!r} requires a value that is not None")
        return resolve_one(method, name, spec.value, given, True)
    if isinstance(spec, OptionDefault):
        if not is_given or given is None:
            return check_plain(method, name, spec.default)
        return resolve_one(method, name, spec.value, given, True)
    if isinstance(spec, OptionStringType):
        if not is_given:
            raise _required(method, name, "a non-empty string")
        if not isinstance(given, (str, int, float)) or isinstance(given, bool) or given == "":
            raise OptionError(
                f"{method}: option {name!r} requires a non-empty string, not {short_repr(given)}"
            )
        return check_plain(method, name, str(given))
    if isinstance(spec, OptionEnum):
        if not is_given:
            if enum_none_ok(spec):
                return None
            raise _required(method, name, f"one of {' '.join(enum_members(spec))}")
        return _enum_value(method, name, spec, given)
    if isinstance(spec, OptionEnumValue):
        return _enum_value(method, name, spec.enum, given if is_given else spec)
    if _is_typed_dict(spec):
        if not is_given or given is None:
            return {}
        if not isinstance(given, dict):
            raise OptionError(
                f"{method}: option {name!r} must be dict, not {_type_name(given)} "
                f"({short_repr(given)})"
            )
        sample = next(iter(spec.values()))
        return {
            k: resolve_one(method, f"{name}[{k!r}]", sample, v, True)
            for k, v in check_plain(method, name, given).items()
        }
    if _is_typed_list(spec) and not isinstance(spec[0], type):
        # [SomeEnum.member]: that list by default; each given item checked by the enum.
        if not is_given or given is None:
            return [] if isinstance(spec[0], OptionEnum) else [str(spec[0])]
        items = coerce(method, name, list, given)
        return [resolve_one(method, f"{name}[{i}]", spec[0], v, True) for i, v in enumerate(items)]
    if isinstance(spec, type):
        # A type alone: required type, None when not given.
        return None if not is_given or given is None else coerce(method, name, spec, given)
    if isinstance(spec, list) and len(spec) == 1 and isinstance(spec[0], type):
        # [T]: a list of T, empty when not given.
        if not is_given or given is None:
            return []
        items = coerce(method, name, list, given)
        return [coerce(method, f"{name}[{i}]", spec[0], v) for i, v in enumerate(items)]
    if spec is None:
        # No default and no type: any valid value, None when not given.
        return check_plain(method, name, given) if is_given else None
    if not is_given:
        return check_plain(method, name, spec)
    if given is None:
        raise OptionError(
            f"{method}: option {name!r} must be {_type_name(spec)}, not None "
            f"(leave it out to get the default {spec!r})"
        )
    if isinstance(spec, tuple):
        return coerce(method, name, list, given)
    return coerce(method, name, type(spec), given)


def resolve_options(method: str, specs: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Every declared option with a value: given ones typed, the rest defaulted."""
    unknown = sorted(set(given) - set(specs))
    if unknown:
        valid = ", ".join(sorted(specs)) or "none"
        raise OptionError(
            f"{method}: unknown option {short_repr(unknown[0])}; valid options: {valid}"
        )
    return {
        name: resolve_one(method, name, spec, given.get(name), name in given)
        for name, spec in specs.items()
    }
