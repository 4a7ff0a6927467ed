description = """Partition a dataset's rows to slices by the hash of one column (exax's
dataset_hashpart): the result is hashed on `hashlabel`, so rows with equal values are in
the same slice, where exax's (and gitax's) documented hash puts them."""

options = dict(hashlabel="", caption="")
datasets = ("source",)


def synthesis(job, slices):
    import numpy

    from gitax.jobs.dstypes import DatasetError, slice_of

    source = datasets.source
    label = options.hashlabel
    if source is None or label not in (source.columns if source else ()):
        raise DatasetError("dataset_hashpart: give source=JOB and a hashlabel among its columns")
    dw = job.datasetwriter(hashlabel=label, caption=options.caption or f"{source} by {label}")
    for col, c in sorted(source.columns.items()):
        dw.add(col, c.type, none_support=c.none_support)
    for s in range(len(source.lines)):
        table = source.to_arrow(s)
        where = numpy.fromiter(
            (slice_of(v, slices) for v in table.column(label).to_pylist()),
            dtype=numpy.int64,
            count=table.num_rows,
        )
        for dest in range(slices):
            dw.write_arrow(table.take(numpy.flatnonzero(where == dest)), sliceno=dest)
