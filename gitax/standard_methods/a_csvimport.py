description = """Import a CSV file as a dataset of text columns (exax's csvimport).

Read with Arrow's multi-threaded CSV reader; compressed files (.gz, .bz2, .zst, .lz4) are
read as they are. Row k of the file goes to slice k % slices, so iterating with
sliceno="roundrobin" gives the file's order. Lines that do not parse (a wrong number of
fields) do not stop the import: they are counted, and kept in the dataset `bad` (columns
lineno, text; lineno is known when lineno_label is set, which reads with one thread). An
empty line is a row of empty fields, so line numbers stay true. The value is
{"lines": rows imported, "bad": lines kept apart}. Type the columns with dataset_type.
"""

options = dict(
    filename="",  # in the project's input folder, or absolute
    separator=",",
    quotes='"',  # the quote character; "" for none
    labelsonfirstline=True,
    labels=[],  # the column names, when the file has none (or to replace its own)
    rename={},  # {label in the file: column name}
    discard=[],  # labels to leave out
    lineno_label="",  # a column of each row's line number in the file, if named
    skip_lines=0,  # lines to skip before the labels (or the data)
    newlines_in_values=False,  # quoted fields may hold line breaks (slower; lineno off)
    encoding="utf-8",
    caption="",
)


def synthesis(job, slices):
    import os

    import numpy
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from gitax.jobs.dstypes import DatasetError

    if not options.filename:
        raise DatasetError("csvimport: options.filename is required (a file in the input folder)")
    path = options.filename
    if not os.path.isabs(path):
        path = job.input_filename(path)
    if not os.path.isfile(path):
        raise DatasetError(f"csvimport: no file {path}")
    if len(options.separator) != 1 or len(options.quotes) > 1:
        raise DatasetError("csvimport: separator and quotes are one character each")
    bad_lines = []  # (line number or None, text)

    def keep_apart(row):
        bad_lines.append((row.number, row.text))
        return "skip"

    labels = list(options.labels)
    read = pacsv.ReadOptions(
        skip_rows=options.skip_lines,
        column_names=labels if labels and not options.labelsonfirstline else None,
        skip_rows_after_names=0,
        encoding=options.encoding,
        block_size=16 << 20,
        # Arrow knows a bad line's number only when one thread reads the file in order.
        use_threads=not options.lineno_label,
    )
    parse = pacsv.ParseOptions(
        delimiter=options.separator,
        quote_char=options.quotes or False,
        double_quote=True,
        newlines_in_values=options.newlines_in_values,
        ignore_empty_lines=False,  # an empty line is a line: line numbers stay true
        invalid_row_handler=keep_apart,
    )
    convert = pacsv.ConvertOptions(default_column_type=pa.large_string(), strings_can_be_null=False)
    try:
        table = pacsv.read_csv(
            path, read_options=read, parse_options=parse, convert_options=convert
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as e:
        raise DatasetError(f"csvimport: {options.filename}: {e}") from None
    if labels and options.labelsonfirstline:
        if len(labels) != table.num_columns:
            raise DatasetError(f"csvimport: {len(labels)} labels for {table.num_columns} columns")
        table = table.rename_columns(labels)
    names = [options.rename.get(n, n) for n in table.column_names]
    if len(set(names)) != len(names):
        raise DatasetError(f"csvimport: two columns have the same name: {names}")
    table = table.rename_columns(names)
    keep = [n for n in names if n not in options.discard]
    n = table.num_rows
    if options.lineno_label:
        if options.newlines_in_values:
            raise DatasetError("csvimport: lineno_label needs newlines_in_values=False")
        first = options.skip_lines + (2 if options.labelsonfirstline else 1)
        taken = numpy.zeros(n + len(bad_lines), dtype=bool)
        for number, _ in bad_lines:
            if number is not None and 0 <= number - first < len(taken):
                taken[number - first] = True
        linenos = numpy.flatnonzero(~taken)[:n] + first
        table = table.append_column(options.lineno_label, pa.array(linenos, pa.int64()))
        keep.append(options.lineno_label)
    dw = job.datasetwriter(caption=options.caption or f"csvimport of {options.filename}")
    for name in keep:
        dw.add(name, "int64" if name == options.lineno_label else "unicode")
    table = table.select(keep)
    for s in range(slices):
        dw.write_arrow(table.take(numpy.arange(s, n, slices)), sliceno=s)
    bad = job.datasetwriter(
        name="bad", caption="lines csvimport could not parse", allow_missing_slices=True
    )
    bad.add("lineno", "int64", none_support=True)
    bad.add("text", "unicode")
    bad.set_slice(0)
    for number, text in bad_lines:
        bad.write(number, text)
    bad.finish()
    return {"lines": n, "bad": len(bad_lines)}
