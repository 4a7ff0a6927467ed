description = """Read a CSV file from the input folder into a list of row dicts.

The first line names the columns; every other line is one row, kept as text."""

options = dict(filename=str, sep=",")


def synthesis(job):
    with job.open_input(options.filename, "rt") as fh:
        header = fh.readline().strip().split(options.sep)
        rows = [dict(zip(header, line.strip().split(options.sep))) for line in fh if line.strip()]
    job.save(rows, "rows.pickle")
    print(f"{len(rows)} rows with columns {', '.join(header)}")
    return len(rows)
