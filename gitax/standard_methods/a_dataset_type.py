description = """Give text columns types (exax's dataset_type).

column2type maps a column to a type: int32, int64, float32, float64, number, bool, ascii,
unicode, bytes, json, or date/datetime/time with a strptime format after a colon
("date:%Y-%m-%d"); exax's int64_10 (int32_16, int64_8, int64_0 for other bases),
unicode:utf-8 and ascii:strict are understood too. Columns not named pass through
unchanged, without a copy (the source is this dataset's parent). A value that does not
parse is an error naming the column, slice and row, unless `defaults` gives the column a
value to use instead (None needs the column's None support, which a default of None
gives). Parsing is vectorised per slice.
"""

options = dict(
    column2type={},
    defaults={},  # {column: value used where the text does not parse}
    rename={},  # {column: new name} for typed columns
    caption="",
)
datasets = ("source",)

FORMATS = {"date": "%Y-%m-%d", "datetime": "%Y-%m-%d %H:%M:%S", "time": "%H:%M:%S"}


def _spec(text):
    """(type, strptime format, int base) for a column2type value, exax's spellings too:
    int64_10 (int64_16, _8, _0: that base), unicode:utf-8, ascii:strict."""
    kind, _, fmt = text.partition(":")
    base = 10
    name, _, digits = kind.partition("_")
    if name in ("int32", "int64") and digits in ("0", "8", "10", "16"):
        kind, base = name, int(digits)
    if (kind, fmt.lower()) in (("unicode", "utf-8"), ("unicode", "utf8"), ("ascii", "strict")):
        fmt = ""
    elif fmt and kind not in FORMATS:
        kind = text  # unicode:latin-1 and the like: refused by name in prepare
    return kind, fmt or FORMATS.get(kind, ""), base


def prepare(job):
    from gitax.jobs.dstypes import TYPES, DatasetError

    source = datasets.source
    if source is None:
        raise DatasetError("dataset_type: give it a dataset: source=JOB")
    if not options.column2type:
        raise DatasetError("dataset_type: options.column2type names no column to type")
    for col, text in options.column2type.items():
        if col not in source.columns:
            raise DatasetError(f"dataset_type: {source} has no column {col!r}")
        kind = _spec(text)[0]
        if kind not in TYPES or kind in ("pickle", "complex32", "complex64"):
            raise DatasetError(f"dataset_type: cannot type {col!r} as {text!r}")
    dw = job.datasetwriter(
        parent=source,
        hashlabel=source.hashlabel if source.hashlabel not in options.column2type else None,
        caption=options.caption or f"{source} typed",
    )
    for col, text in sorted(options.column2type.items()):
        none_ok = col in options.defaults and options.defaults[col] is None
        dw.add(options.rename.get(col, col), _spec(text)[0], none_support=none_ok)
    return dw


def _parse_one(kind, fmt, base, text):
    import datetime
    import json

    if kind in ("int32", "int64"):
        return int(text, base)
    if kind in ("float32", "float64"):
        return float(text)
    if kind == "number":
        try:
            return int(text)
        except ValueError:
            return float(text)
    if kind == "bool":
        low = text.strip().lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no"):
            return False
        raise ValueError(text)
    if kind == "json":
        return json.loads(text)
    if kind == "bytes":
        return text.encode("utf-8")
    if kind == "ascii":
        if not text.isascii():
            raise ValueError(text)
        return text
    if kind == "unicode":
        return text
    parsed = datetime.datetime.strptime(text, fmt)
    return {"date": parsed.date, "time": parsed.time}.get(kind, lambda: parsed)()


def _vectorised(kind, fmt, base, arr):
    """The column typed by Arrow, or None where only Python can say (a bad value, or a
    type Arrow does not parse)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from gitax.jobs.dstypes import arrow_type

    try:
        if kind in ("int32", "int64", "float32", "float64", "bool", "unicode") and base == 10:
            return pc.cast(arr, arrow_type(kind))
        if kind == "ascii" and pc.all(pc.string_is_ascii(arr)).as_py() is not False:
            return arr
        if kind in ("date", "datetime") and "%z" not in fmt:
            ts = pc.strptime(arr, format=fmt, unit="us", error_is_null=True)
            if ts.null_count == 0:
                return ts.cast(arrow_type(kind))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    return None


def _by_value(source, col, sliceno, kind, fmt, base, arr):
    """The column typed one value at a time: slower, but it finds (or replaces) bad ones."""
    from gitax.jobs.dstypes import DatasetError, to_arrow_array

    values = []
    for row, text in enumerate(arr.to_pylist()):
        try:
            values.append(_parse_one(kind, fmt, base, text))
        except (ValueError, TypeError, OverflowError):
            if col not in options.defaults:
                raise DatasetError(
                    f"dataset_type: {source} column {col!r}, slice {sliceno}, row {row}: "
                    f"{text!r} is not {options.column2type[col]}; give it a default in "
                    "options.defaults"
                ) from None
            values.append(options.defaults[col])
    return to_arrow_array(kind, values)


def analysis(sliceno, prepare_res):
    import pyarrow as pa

    source = datasets.source
    cols = sorted(options.column2type)
    table = source.to_arrow(sliceno, cols)
    arrays = {}
    for col in cols:
        kind, fmt, base = _spec(options.column2type[col])
        arr = table.column(col).combine_chunks()
        typed = _vectorised(kind, fmt, base, arr)
        if typed is None:
            typed = _by_value(source, col, sliceno, kind, fmt, base, arr)
        arrays[options.rename.get(col, col)] = typed
    prepare_res.write_arrow(pa.table(arrays))
