description = """Sort a dataset by one or more columns (exax's dataset_sort): each slice
on its own, or with sort_across_slices the whole dataset, whose rows are then dealt out to
the slices in order (slice 0 the first rows)."""

options = dict(
    sort_columns=[],  # a column name, or a list of them, most significant first
    sort_order="ascending",  # or "descending"
    sort_across_slices=False,
    caption="",
)
datasets = ("source",)


def _check():
    from gitax.jobs.dstypes import DatasetError

    source = datasets.source
    cols = options.sort_columns
    cols = [cols] if isinstance(cols, str) else list(cols)
    if source is None or not cols:
        raise DatasetError("dataset_sort: give source=JOB and options.sort_columns")
    for c in cols:
        if c not in source.columns:
            raise DatasetError(f"dataset_sort: {source} has no column {c!r}")
        if source.columns[c].type in ("json", "pickle", "complex32", "complex64", "number"):
            raise DatasetError(f"dataset_sort: a {source.columns[c].type} column has no order")
    if options.sort_order not in ("ascending", "descending"):
        raise DatasetError("dataset_sort: sort_order is 'ascending' or 'descending'")
    return source, cols


def _writer(job, source, cols):
    dw = job.datasetwriter(
        hashlabel=None if options.sort_across_slices else source.hashlabel,
        caption=options.caption or f"{source} sorted by {', '.join(cols)}",
    )
    for col, c in sorted(source.columns.items()):
        dw.add(col, c.type, none_support=c.none_support)
    return dw


def prepare(job):
    source, cols = _check()
    # Sorted across slices, one process writes every slice: the writer is made there.
    return None if options.sort_across_slices else _writer(job, source, cols)


def analysis(sliceno, prepare_res):
    if prepare_res is None:
        return
    source, cols = _check()
    table = source.to_arrow(sliceno)
    prepare_res.write_arrow(table.sort_by([(c, options.sort_order) for c in cols]))


def synthesis(job, slices):
    if not options.sort_across_slices:
        return
    source, cols = _check()
    dw = _writer(job, source, cols)
    table = source.to_arrow().sort_by([(c, options.sort_order) for c in cols])
    per = -(-table.num_rows // slices) if table.num_rows else 0
    for s in range(slices):
        dw.write_arrow(table.slice(s * per, per), sliceno=s)
