description = """A checksum of a dataset's values (exax's dataset_checksum): with `sort`
(the default) the order of rows does not matter, so two datasets of the same rows in other
slices or orders have the same sum. The value is the checksum, in hex."""

options = dict(columns=[], sort=True, chain=False)
datasets = ("source",)


def analysis(sliceno):
    import hashlib

    source = datasets.source
    cols = list(options.columns) or sorted(source.columns)
    rows = source.iterate_chain(sliceno, cols) if options.chain else source.iterate(sliceno, cols)
    if options.sort:
        total = 0
        for row in rows:
            total += int.from_bytes(hashlib.blake2b(repr(row).encode(), digest_size=16).digest())
        return total
    h = hashlib.sha256()
    for row in rows:
        h.update(repr(row).encode() + b"\n")
    return h.hexdigest()


def synthesis(analysis_res):
    import hashlib

    from gitax.jobs.dstypes import DatasetError

    if datasets.source is None:
        raise DatasetError("dataset_checksum: give it a dataset: source=JOB")
    parts = list(analysis_res)
    if options.sort:
        return format(sum(parts) % (1 << 128), "032x")
    return hashlib.sha256("".join(parts).encode()).hexdigest()
