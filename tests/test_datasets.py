"""Datasets: exax's typed, sliced, chained columns, written and read through real builds."""

from __future__ import annotations

import datetime
import math
import os
import subprocess
import sys

import pytest

pa = pytest.importorskip("pyarrow")  # noqa: F841 - the test extra installs it

from gitax.jobs.dataset import Dataset  # noqa: E402
from gitax.jobs.dstypes import slice_of  # noqa: E402

from conftest import ProjectDir, gitax, write  # noqa: E402

WRITE_SLICED = """
def prepare(job):
    dw = job.datasetwriter(caption="numbers")
    dw.add("n", "int64")
    dw.add("name", "unicode")
    return dw

def analysis(sliceno, prepare_res):
    for i in range(sliceno * 100, sliceno * 100 + 10 + sliceno):
        prepare_res.write(i, f"row {i}")
"""


def build(proj: ProjectDir, script: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proj.build_script(script)
    return gitax("build", cwd=proj.root, check=check)


@pytest.fixture
def sliced(proj: ProjectDir) -> ProjectDir:
    write(proj.root / "gitax.toml", (proj.root / "gitax.toml").read_text() + "slices = 3\n")
    return proj


def test_slices_write_their_rows_and_the_job_reads_them_back(sliced: ProjectDir) -> None:
    sliced.method("make", WRITE_SLICED)
    build(sliced, "def main(urd):\n    urd.build('make')\n")
    job = sliced.job("make")
    ds = job.dataset()
    assert str(ds) == job.id and ds.caption == "numbers"
    assert ds.lines == [10, 11, 12] and ds.shape == (2, 33)
    assert ds.columns["n"].type == "int64" and not ds.columns["n"].none_support
    assert (ds.min("n"), ds.max("n")) == (0, 211)
    assert list(ds.iterate(1, "n")) == list(range(100, 111))
    assert list(ds.iterate(2, ("name", "n")))[0] == ("row 200", 200)
    every = list(ds.iterate(None))  # all columns, sorted by name
    assert len(every) == 33 and every[0] == (0, "row 0")
    assert Dataset(f"{job.id}/default").lines == ds.lines == Dataset(job.id).lines


def test_a_dataset_is_ordinary_stored_objects(sliced: ProjectDir) -> None:
    sliced.method("make", WRITE_SLICED)
    build(sliced, "def main(urd):\n    urd.build('make')\n")
    job = sliced.job("make")
    files = job.files()
    assert [f for f in files if f.startswith("DATASETS/")] == [
        f"DATASETS/default/{s}.arrow" for s in range(3)
    ]
    # Read by pyarrow alone, from the files `gitax ds --files` lists.
    listed = gitax("ds", "--files", job.id, cwd=sliced.root).stdout.split()
    table = pa.concat_tables(pa.ipc.open_file(p).read_all() for p in listed)
    assert table.num_rows == 33 and table.column("n").to_pylist()[:2] == [0, 1]
    assert gitax("fsck", cwd=sliced.root).returncode == 0
