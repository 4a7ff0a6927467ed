"""exax's option markers: enums, required options, non-empty strings and typed defaults.

A method declares them in `options` (`from gitax.extras import OptionEnum`); the build
reads the declaration without running the method (see declarations.py) and checks what a
build script passes against them (options.py). Values reach the job, and its key, as
plain strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


class OptionEnumValue(str):
    """One member of an OptionEnum: a str that knows which enum it belongs to."""

    enum: OptionEnum

    def __new__(cls, value: str, enum: OptionEnum) -> OptionEnumValue:
        self = super().__new__(cls, value)
        self.enum = enum
        return self

    def __reduce__(self) -> Any:
        return (OptionEnumValue, (str(self), self.enum))


class OptionEnum:
    """The values an option may take: `OptionEnum('a b c*')` allows 'a', 'b' and any
    string starting with 'c'; `foo.a` (or `foo['a']`) is a member, usable as a default.
    With `none_ok=True` None is allowed too; without it the option must be given."""

    def __init__(self, values: str | Iterable[str], none_ok: bool = False) -> None:
        if isinstance(values, str):
            values = values.replace(",", " ").split()
        self._values: tuple[str, ...] = tuple(str(v) for v in values)
        self._none_ok = none_ok
        self._prefixes = tuple(v[:-1] for v in self._values if v.endswith("*"))
        self._members = {v: OptionEnumValue(v, self) for v in self._values}

    def __getattr__(self, name: str) -> OptionEnumValue:
        members = self.__dict__.get("_members", {})
        if name in members:
            return members[name]  # type: ignore[no-any-return]
        raise AttributeError(name)

    def __getitem__(self, name: str) -> OptionEnumValue:
        if name in self._members:
            return self._members[name]
        if any(name.startswith(p) for p in self._prefixes):
            return OptionEnumValue(name, self)
        raise KeyError(name)

    def allows(self, value: Any) -> bool:
        """Is `value` one of the members, matches a `prefix*` member, or an allowed None?"""
        if value is None:
            return self._none_ok
        if not isinstance(value, str):
            return False
        return value in self._members or any(value.startswith(p) for p in self._prefixes)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, OptionEnum)
            and other._values == self._values
            and other._none_ok == self._none_ok
        )

    def __hash__(self) -> int:
        return hash((self._values, self._none_ok))

    def __repr__(self) -> str:
        none = ", none_ok=True" if self._none_ok else ""
        return f"OptionEnum({' '.join(self._values)!r}{none})"

    def __reduce__(self) -> Any:
        return (OptionEnum, (self._values, self._none_ok))


def enum_members(enum: OptionEnum) -> tuple[str, ...]:
    """The values an OptionEnum was declared with (a function, not an attribute: any
    attribute name may be one of its members)."""
    return enum._values


def enum_none_ok(enum: OptionEnum) -> bool:
    """Does the OptionEnum allow None?"""
    return enum._none_ok


class OptionStringType(str):
    """`OptionString` or `OptionString('example')`: a non-empty str must be given (the
    example is only shown, it is not a default)."""

    def __call__(self, example: str) -> OptionStringType:
        return OptionStringType(example)

    def __repr__(self) -> str:
        return f"OptionString({str(self)!r})" if self else "OptionString"


OptionString = OptionStringType("")


@dataclass(repr=False)
class RequiredOption:
    """The option must be given; `value` types it as a plain declaration would. None is
    accepted as a given value only with `none_ok=True`."""

    value: Any
    none_ok: bool = False

    def __repr__(self) -> str:
        none = ", none_ok=True" if self.none_ok else ""
        return f"RequiredOption({self.value!r}{none})"


@dataclass(repr=False)
class OptionDefault:
    """A typed option that is not required: `value` types what is given, `default` (None
    unless said) is used when nothing is."""

    value: Any
    default: Any = None

    def __repr__(self) -> str:
        return f"OptionDefault({self.value!r}, default={self.default!r})"


MARKERS = (OptionEnum, OptionEnumValue, OptionStringType, RequiredOption, OptionDefault)
