description = """Import a CSV file as a dataset of text columns (exax's csvimport).

Read with Arrow's multi-threaded CSV reader; compressed files (.gz, .bz2, .zst, .lz4) are
read as they are. Row k of the file goes to slice k % slices, so iterating with
sliceno="roundrobin" gives the file's order. Lines that do not parse (a wrong number of
fields) do not stop the import: they are counted, and kept in the dataset `bad` (columns
lineno, text; lineno is known when lineno_label is set, which reads with one thread). An
empty line is a row of empty fields, so line numbers stay true. The value is
{"lines": rows imported, "bad": lines kept apart}, and "skipped" (comment lines) when
comment is set. Type the columns with dataset_type.

exax's options work as there, with two differences: allow_bad is on by default (a bad line
is kept apart, not fatal; allow_bad=False stops at the first, naming it), and quotes=True
means '"' (Arrow's reader takes one quote character). Lines starting with the comment
character after the labels are skipped and kept in the dataset `skipped` (lineno, text).
"""

options = dict(
    filename="",  # in the project's input folder, or absolute
    separator=",",
    quotes=None,  # the quote character: None or True for '"', "" or False for none
    comment="",  # lines starting with this character are skipped (kept in `skipped`)
    labelsonfirstline=True,
    labels=[],  # the column names, when the file has none (or to replace its own)
    strip_labels=False,  # strip spaces around the labels (before rename)
    allow_bad=True,  # keep bad lines apart in `bad`; False: the first one stops the import
    skip_empty_lines=False,  # leave empty lines out (else a row of empty fields)
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
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    from gitax.jobs.dstypes import DatasetError

    if not options.filename:
        raise DatasetError("csvimport: options.filename is required (a file in the input folder)")
    path = options.filename
    if not os.path.isabs(path):
        path = job.input_filename(path)
    if not os.path.isfile(path):
        raise DatasetError(f"csvimport: no file {path}")
    quotes = options.quotes
    if quotes is None or quotes is True:
        quotes = '"'
    elif quotes is False:
        quotes = ""
    if not isinstance(quotes, str):
        raise DatasetError(f"csvimport: quotes is one character, True or False, not {quotes!r}")
    if len(options.separator) != 1 or len(quotes) > 1 or len(options.comment) > 1:
        raise DatasetError("csvimport: separator, quotes and comment are one character each")
    if options.skip_empty_lines and options.lineno_label:
        raise DatasetError("csvimport: lineno_label cannot count lines skip_empty_lines drops")
    bad_lines = []  # (line number or None, text)
    skipped = []  # comment lines: (line number or None, text)
    fatal = []  # what stopped the import, when allow_bad is off

    def keep_apart(row):
        if options.comment and row.text.startswith(options.comment):
            skipped.append((row.number, row.text))
            return "skip"
        bad_lines.append((row.number, row.text))
        if not options.allow_bad:
            where = f"line {row.number}" if row.number else "a line"
            fatal.append(
                f"csvimport: {options.filename}: {where} has {row.actual_columns} fields, "
                f"not {row.expected_columns}: {row.text!r} (allow_bad=True keeps such lines "
                "apart)"
            )
            return "error"
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
        quote_char=quotes or False,
        double_quote=True,
        newlines_in_values=options.newlines_in_values,
        # An empty line is a line (a row of empty fields), so line numbers stay true.
        ignore_empty_lines=options.skip_empty_lines,
        invalid_row_handler=keep_apart,
    )
    convert = pacsv.ConvertOptions(default_column_type=pa.large_string(), strings_can_be_null=False)
    try:
        table = pacsv.read_csv(
            path, read_options=read, parse_options=parse, convert_options=convert
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as e:
        raise DatasetError(fatal[0] if fatal else f"csvimport: {options.filename}: {e}") from None
    if labels and options.labelsonfirstline:
        if len(labels) != table.num_columns:
            raise DatasetError(f"csvimport: {len(labels)} labels for {table.num_columns} columns")
        table = table.rename_columns(labels)
    if options.strip_labels:
        table = table.rename_columns([n.strip() for n in table.column_names])
    names = [options.rename.get(n, n) for n in table.column_names]
    if len(set(names)) != len(names):
        raise DatasetError(f"csvimport: two columns have the same name: {names}")
    table = table.rename_columns(names)
    keep = [n for n in names if n not in options.discard]
    n = table.num_rows
    linenos = None
    if options.lineno_label:
        if options.newlines_in_values:
            raise DatasetError("csvimport: lineno_label needs newlines_in_values=False")
        first = options.skip_lines + (2 if options.labelsonfirstline else 1)
        apart = [number for number, _ in (*bad_lines, *skipped)]
        taken = numpy.zeros(n + len(apart), dtype=bool)
        for number in apart:
            if number is not None and 0 <= number - first < len(taken):
                taken[number - first] = True
        linenos = numpy.flatnonzero(~taken)[:n] + first
    if options.comment and n:
        # A comment line with as many fields as a row parses as one: take it out here.
        is_comment = pc.starts_with(table.column(0), options.comment)
        is_comment = is_comment.to_numpy(zero_copy_only=False)
        if is_comment.any():
            for k in numpy.flatnonzero(is_comment):
                fields = [table.column(c)[int(k)].as_py() for c in range(table.num_columns)]
                number = None if linenos is None else int(linenos[k])
                skipped.append((number, options.separator.join(fields)))
            rows = numpy.flatnonzero(~is_comment)
            table = table.take(rows)
            linenos = None if linenos is None else linenos[rows]
            n = table.num_rows
    if linenos is not None:
        table = table.append_column(options.lineno_label, pa.array(linenos, pa.int64()))
        keep.append(options.lineno_label)
        skipped.sort(key=lambda line: line[0] if line[0] is not None else -1)
    dw = job.datasetwriter(caption=options.caption or f"csvimport of {options.filename}")
    for name in keep:
        dw.add(name, "int64" if name == options.lineno_label else "unicode")
    table = table.select(keep)
    for s in range(slices):
        dw.write_arrow(table.take(numpy.arange(s, n, slices)), sliceno=s)
    _lines_apart(job, "bad", "lines csvimport could not parse", bad_lines)
    if options.comment:
        _lines_apart(job, "skipped", "comment lines csvimport skipped", skipped)
        return {"lines": n, "bad": len(bad_lines), "skipped": len(skipped)}
    return {"lines": n, "bad": len(bad_lines)}


def _lines_apart(job, name, caption, lines):
    """A dataset of (lineno, text) lines kept out of the import, all in slice 0."""
    dw = job.datasetwriter(name=name, caption=caption, allow_missing_slices=True)
    dw.add("lineno", "int64", none_support=True)
    dw.add("text", "unicode")
    dw.set_slice(0)
    for number, text in lines:
        dw.write(number, text)
    dw.finish()
