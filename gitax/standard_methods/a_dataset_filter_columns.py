description = """Keep some columns of a dataset, or leave some out (exax's
dataset_filter_columns): the result points at the source's files; nothing is copied."""

options = dict(keep_columns=[], discard_columns=[])
datasets = ("source",)


def synthesis(job):
    from gitax.jobs.dstypes import DatasetError

    source = datasets.source
    if source is None or bool(options.keep_columns) == bool(options.discard_columns):
        raise DatasetError(
            "dataset_filter_columns: give source=JOB and one of keep_columns, discard_columns"
        )
    cols = options.keep_columns or [c for c in source.columns if c not in options.discard_columns]
    source.link_to_here("default", column_filter=cols)
