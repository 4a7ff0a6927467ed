"""Dataset column types: exax's names, their Arrow types, checking values on the way in,
turning Arrow back into Python values on the way out, and the hash that places a row in a
slice (docs/format.md, "Datasets"). pyarrow is imported here, and only datasets import this.
"""

from __future__ import annotations

import datetime
import json
import math
import pickle
import struct
import zlib
from collections.abc import Callable, Sequence
from typing import Any

from gitax.errors import GitaxError


class DatasetError(GitaxError):
    """A dataset is misused, missing, or given a value its column cannot hold."""


def arrow() -> Any:
    """pyarrow (imported on first use: a build without datasets never loads it), or a
    one-line error saying how to install it."""
    try:
        import pyarrow
    except ImportError:  # pragma: no cover - the message says how to get it
        raise DatasetError("datasets need pyarrow: pip install 'gitax[datasets]'") from None
    return pyarrow


def compute() -> Any:
    """pyarrow.compute, imported on first use."""
    arrow()
    import pyarrow.compute

    return pyarrow.compute


INT_TYPES = ("int32", "int64")
FLOAT_TYPES = ("float32", "float64")
STRING_TYPES = ("ascii", "unicode")
# Types whose values compare, so a column keeps its min and max (exax keeps them for these).
MINMAX_TYPES = (*INT_TYPES, *FLOAT_TYPES, "number", "bool", "date", "datetime", "time")
# Types whose values cannot place a row in a slice (no canonical bytes).
UNHASHABLE = ("json", "pickle")
TYPES = (
    *INT_TYPES,
    *FLOAT_TYPES,
    "number",
    "bool",
    "complex32",
    "complex64",
    *STRING_TYPES,
    "bytes",
    "json",
    "pickle",
    "date",
    "datetime",
    "time",
)
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


def check_type(type_name: str) -> str:
    """Refuse a column type exax does not have."""
    if type_name not in TYPES:
        raise DatasetError(f"unknown column type {type_name!r}; types: {', '.join(TYPES)}")
    return type_name


def arrow_type(type_name: str) -> Any:
    """The Arrow type a column of `type_name` is stored as."""
    p = arrow()
    complex_part = p.float32() if type_name == "complex32" else p.float64()
    return {
        "int32": p.int32(),
        "int64": p.int64(),
        "float32": p.float32(),
        "float64": p.float64(),
        "number": p.dense_union([p.field("int", p.int64()), p.field("float", p.float64())]),
        "bool": p.bool_(),
        "complex32": p.struct([("real", complex_part), ("imag", complex_part)]),
        "complex64": p.struct([("real", complex_part), ("imag", complex_part)]),
        "ascii": p.large_string(),
        "unicode": p.large_string(),
        "bytes": p.large_binary(),
        "json": p.large_string(),
        "pickle": p.large_binary(),
        "date": p.date32(),
        "datetime": p.timestamp("us"),
        "time": p.time64("us"),
    }[check_type(type_name)]


# -- checking values ---------------------------------------------------------------------------

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "int32": (int,),
    "int64": (int,),
    "float32": (float, int),
    "float64": (float, int),
    "number": (int, float),
    "bool": (bool,),
    "complex32": (complex, float, int),
    "complex64": (complex, float, int),
    "ascii": (str,),
    "unicode": (str,),
    "bytes": (bytes,),
    "date": (datetime.date,),
    "datetime": (datetime.datetime,),
    "time": (datetime.time,),
}


def value_problem(type_name: str, value: Any) -> str | None:
    """Why `value` cannot go in a column of `type_name` (None when it can; None itself is
    checked by the caller, which knows the column's none support)."""
    if type_name in ("json", "pickle"):
        return None  # checked by encoding it
    ok = _PY_TYPES[type_name]
    if not isinstance(value, ok) or (isinstance(value, bool) and type_name != "bool"):
        return f"a {type(value).__name__}, not a {type_name} value"
    v: Any = value  # of one of the types `ok` names: each test below is for one of them
    if type_name == "date" and isinstance(value, datetime.datetime):
        return "a datetime, not a date"
    if type_name in ("datetime", "time") and v.tzinfo is not None:
        return f"a {type_name} with a time zone; store naive {type_name}s (e.g. in UTC)"
    if type_name == "int32" and not -(1 << 31) <= v < (1 << 31):
        return "out of int32's range"
    if type_name in ("int64", "number") and isinstance(v, int):
        if not INT64_MIN <= v <= INT64_MAX:
            return "out of int64's range"
    if type_name == "ascii" and not v.isascii():
        return "not ASCII text"
    return None


def _encoded(type_name: str, values: Sequence[Any]) -> list[Any]:
    if type_name == "json":
        return [json.dumps(v, allow_nan=True) for v in values]
    return [pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL) for v in values]


def to_arrow_array(type_name: str, values: Sequence[Any]) -> Any:
    """One column of a batch as an Arrow array; raises TypeError/ValueError (or pyarrow's
    errors) on a value that does not fit, which the writer turns into a row number."""
    p = arrow()
    atype = arrow_type(type_name)
    if type_name in ("json", "pickle"):
        return p.array(_encoded(type_name, values), atype)  # None is a value of these
    if type_name == "number":
        codes = p.array([0 if isinstance(v, int) else 1 for v in values], p.int8())
        ints = [v for v in values if isinstance(v, int)]
        floats = [v for v in values if not isinstance(v, int)]  # None is a null float
        offsets, seen = [], [0, 0]
        for v in values:
            k = 0 if isinstance(v, int) else 1
            offsets.append(seen[k])
            seen[k] += 1
        return p.UnionArray.from_dense(
            codes,
            p.array(offsets, p.int32()),
            [p.array(ints, p.int64()), p.array(floats, p.float64())],
            ["int", "float"],
        )
    if type_name in ("complex32", "complex64"):
        real = [None if v is None else complex(v).real for v in values]
        imag = [None if v is None else complex(v).imag for v in values]
        mask = p.array([v is None for v in values], p.bool_())
        part = atype.field(0).type
        return p.StructArray.from_arrays(
            [p.array(real, part), p.array(imag, part)], ["real", "imag"], mask=mask
        )
    if type_name in ("float32", "float64"):
        values = [float(v) if type(v) is int else v for v in values]
    arr = p.array(values, atype)
    if type_name == "ascii" and not compute().all(compute().string_is_ascii(arr)).as_py():
        raise ValueError("not ASCII")  # the writer finds the row
    return arr


_EXACT: dict[str, frozenset[type]] = {
    name: frozenset(ok) for name, ok in _PY_TYPES.items() if name not in ("datetime", "time")
}


def batch_problem(type_name: str, none_ok: bool, values: Sequence[Any]) -> tuple[int, str] | None:
    """The first (row, reason) in a batch that a column cannot hold, or None: one pass over
    the values' types when they are all of the plain types the column takes (the common
    case), every value looked at only when they are not."""
    exact = _EXACT.get(type_name)
    if exact is not None:
        kinds = set(map(type, values))
        if none_ok:
            kinds.discard(type(None))
        if kinds <= exact:
            return None  # ranges and ASCII are checked by the conversion that follows
    return check_values(type_name, none_ok, values)


def check_values(type_name: str, none_ok: bool, values: Sequence[Any]) -> tuple[int, str] | None:
    """The first (row, reason) in `values` that a column cannot hold, or None."""
    for i, v in enumerate(values):
        if v is None:
            if not none_ok and type_name not in ("json", "pickle"):
                return i, "None, and the column has no None support (add it with none_support=True)"
            continue
        problem = value_problem(type_name, v)
        if problem is None and type_name in ("json", "pickle"):
            try:
                _encoded(type_name, [v])
            except Exception as e:  # what json or pickle refuse varies: say it as they do
                problem = f"cannot be stored as {type_name}: {e}"
        if problem is not None:
            return i, problem
    return None


# -- reading values back -----------------------------------------------------------------------


def _plain(col: Any) -> list[Any]:
    return col.to_pylist()  # type: ignore[no-any-return]


def _numeric(col: Any) -> list[Any]:
    if col.null_count:
        return col.to_pylist()  # type: ignore[no-any-return]
    return col.to_numpy(zero_copy_only=False).tolist()  # type: ignore[no-any-return]


def _complex(col: Any) -> list[Any]:
    return [None if v is None else complex(v["real"], v["imag"]) for v in col.to_pylist()]


def _json(col: Any) -> list[Any]:
    return [json.loads(v) for v in col.to_pylist()]


def _pickle(col: Any) -> list[Any]:
    return [pickle.loads(v) for v in col.to_pylist()]


_READERS: dict[str, Callable[[Any], list[Any]]] = {
    **dict.fromkeys((*INT_TYPES, *FLOAT_TYPES, "bool"), _numeric),
    "complex32": _complex,
    "complex64": _complex,
    "json": _json,
    "pickle": _pickle,
}


def python_values(type_name: str, col: Any) -> list[Any]:
    """A column of a record batch as Python values of its gitax type."""
    return _READERS.get(type_name, _plain)(col)


# -- placing rows in slices ----------------------------------------------------------------------

_NAN = struct.pack("<d", math.nan)


def hash_bytes(value: Any) -> bytes:
    """The canonical bytes of a value for slice placement: equal numbers give equal bytes
    whatever their type (1, 1.0 and True alike), as docs/format.md says."""
    if isinstance(value, (bool, int)):
        v = int(value)
        if INT64_MIN <= v <= INT64_MAX:
            return v.to_bytes(8, "little", signed=True)
        return str(v).encode("ascii")
    if isinstance(value, float):
        if value.is_integer() and INT64_MIN <= value <= INT64_MAX:
            return int(value).to_bytes(8, "little", signed=True)
        return _NAN if value != value else struct.pack("<d", value)
    if isinstance(value, complex):
        if value.imag == 0:
            return hash_bytes(value.real)
        return struct.pack("<dd", value.real, value.imag)
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes):
        return value
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat().encode("ascii")
    raise DatasetError(f"a {type(value).__name__} cannot place a row in a slice")


def slice_of(value: Any, slices: int) -> int:
    """The slice a row whose hashlabel column holds `value` belongs in: crc32 of its
    canonical bytes modulo the number of slices; None goes to slice 0."""
    if value is None:
        return 0
    return zlib.crc32(hash_bytes(value)) % slices
