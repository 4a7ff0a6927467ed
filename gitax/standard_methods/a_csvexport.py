description = """Write a dataset (or its chain) as a CSV file of the job (exax's
csvexport): columns in the order given (all, by name, when none are), slices in order, a
line of labels first; None is written as `none_as`."""

options = dict(
    filename="result.csv",
    separator=",",
    labels=[],  # the columns to write
    chain_source=False,  # the whole chain, oldest first
    none_as="",
    labelsonfirstline=True,
)
datasets = ("source",)


def synthesis(job):
    import csv

    from gitax.jobs.dstypes import DatasetError

    source = datasets.source
    if source is None:
        raise DatasetError("csvexport: give it a dataset: source=JOB")
    cols = list(options.labels) or sorted(source.columns)
    rows = source.iterate_chain(None, cols) if options.chain_source else source.iterate(None, cols)
    none_as = options.none_as

    def text(v):
        if v is None:
            return none_as
        if isinstance(v, bytes):
            return v.decode("utf-8", "backslashreplace")
        return v

    with job.open(options.filename, "w", newline="") as fh:
        out = csv.writer(fh, delimiter=options.separator, lineterminator="\n")
        if options.labelsonfirstline:
            out.writerow(cols)
        written = 0
        for row in rows:
            out.writerow([text(v) for v in row])
            written += 1
    return written
