"""Datasets: exax's typed, sliced, chained columns, written and read through real builds."""

from __future__ import annotations

import datetime
import json
import math
import os
import signal
import subprocess
import sys
import time

import pyarrow as pa
import pytest
from conftest import REPO, ProjectDir, gitax, write

from gitax.jobs.dataset import Dataset
from gitax.jobs.dstypes import slice_of

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


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if line.startswith("gitax: error:")]
    assert len(errors) == 1, proc.stderr
    return errors[0]


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
    build(
        sliced, "def main(urd):\n    urd.begin('l')\n    urd.build('make')\n    urd.finish('l')\n"
    )
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
    # Evicted, the workdir comes back from the store's objects, and reads the same.
    gitax("gc", "--workdirs", cwd=sliced.root)
    assert list(sliced.job("make").dataset().iterate(0, "n")) == list(range(10))


ALL_TYPES = {
    "i32": ("int32", [0, -(2**31), 2**31 - 1]),
    "i64": ("int64", [0, -(2**63), 2**63 - 1]),
    "f32": ("float32", [1.5, math.inf, -math.inf, math.nan]),
    "f64": ("float64", [0.1, math.inf, -math.inf, math.nan, 1e308]),
    "num": ("number", [1, 2.5, -(2**63), math.nan, 7]),
    "b": ("bool", [True, False]),
    "c32": ("complex32", [1 + 2j, -0.5j]),
    "c64": ("complex64", [1e100 + 1j, complex(math.inf, 0)]),
    "a": ("ascii", ["plain", ""]),
    "u": ("unicode", ["räksmörgås", "日本語", "\U0001f600", ""]),
    "by": ("bytes", [b"\x00\xff", b""]),
    "j": ("json", [{"a": [1, 2]}, [None], "x", 3]),
    "p": ("pickle", [{1, 2}, ("t",), None]),
    "d": ("date", [datetime.date(1, 1, 1), datetime.date(9999, 12, 31)]),
    "dt": ("datetime", [datetime.datetime(2024, 2, 29, 23, 59, 59, 999999)]),
    "t": ("time", [datetime.time(0, 0), datetime.time(23, 59, 59, 1)]),
}


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, complex) and isinstance(b, complex):
        return _same(a.real, b.real) and _same(a.imag, b.imag)
    return a == b and type(a) is type(b)


def test_every_type_round_trips_with_none_and_limits(proj: ProjectDir) -> None:
    values = {c: v for c, (_, v) in ALL_TYPES.items()}
    write(
        proj.root / "methods" / "values.py",
        f"import datetime\nfrom math import inf, nan\nVALUES = {values!r}\n",
    )
    proj.method(
        "types",
        f"""
        SPEC = { ({c: t for c, (t, _) in ALL_TYPES.items()})!r}

        def synthesis(job):
            from values import VALUES
            dw = job.datasetwriter()
            for col, t in SPEC.items():
                dw.add(col, t, none_support=True)
            dw.set_slice(0)
            rows = max(len(v) for v in VALUES.values()) + 1
            for i in range(rows):
                dw.write(*(VALUES[c][i] if i < len(VALUES[c]) else None for c in SPEC))
            dw.set_slice(1)
        """,
    )
    build(proj, "def main(urd):\n    urd.build('types')\n")
    ds = proj.job("types").dataset()
    rows = list(ds.iterate(0, list(ALL_TYPES)))
    for i, col in enumerate(ALL_TYPES):
        want = ALL_TYPES[col][1]
        got = [r[i] for r in rows]
        assert all(_same(a, b) for a, b in zip(want, got, strict=False)), (col, want, got)
        assert got[len(want) :] == [None] * (len(got) - len(want)), col
    assert ds.lines == [len(rows), 0]
    assert ds.min("i64") == -(2**63) and ds.max("i64") == 2**63 - 1
    assert ds.max("f64") == math.inf and ds.min("d") == datetime.date(1, 1, 1)
    table = ds.to_arrow()
    assert table.schema.field("u").type == pa.large_string()
    assert table.column("u").to_pylist()[:2] == ["räksmörgås", "日本語"]


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("int64", "'7'", "a str, not a int64 value"),
        ("int32", "2**40", "out of int32's range"),
        ("int64", "True", "a bool, not a int64 value"),
        ("ascii", "'ö'", "not ASCII text"),
        ("unicode", "None", "None, and the column has no None support"),
        ("date", "datetime.datetime(2024, 1, 1)", "a datetime, not a date"),
    ],
)
def test_a_value_of_the_wrong_type_names_where_it_is(
    sliced: ProjectDir, column: str, value: str, reason: str
) -> None:
    sliced.method(
        "bad",
        f"""
        import datetime
        def prepare(job):
            dw = job.datasetwriter(name="rows")
            dw.add("c", {column!r})
            return dw

        def analysis(sliceno, prepare_res):
            if sliceno == 1:
                for i in range(5):
                    prepare_res.write(prepare_res_ok := {value} if i == 3 else OK)
        OK = {{"int64": 1, "int32": 1, "ascii": "a", "unicode": "u",
              "date": datetime.date(2024, 1, 1)}}[{column!r}]
        """,
    )
    line = one_line_error(build(sliced, "def main(urd):\n    urd.build('bad')\n", check=False))
    assert "dataset 'rows'" in line and "column 'c'" in line and "slice 1" in line
    assert "row 3" in line and reason in line
    assert sliced.stored("bad") == []


def test_a_job_that_fails_after_writing_leaves_no_dataset(sliced: ProjectDir) -> None:
    sliced.method(
        "fails",
        WRITE_SLICED
        + "\ndef synthesis(job):\n    job.dataset  # written\n    raise RuntimeError('late')\n",
    )
    proc = build(sliced, "def main(urd):\n    urd.build('fails')\n", check=False)
    assert proc.returncode != 0 and "late" in proc.stderr
    assert sliced.stored("fails") == []
    assert gitax("fsck", cwd=sliced.root).returncode == 0


def test_a_job_killed_while_writing_leaves_nothing_half(sliced: ProjectDir, tmp_path) -> None:
    started = tmp_path / "started"
    sliced.method(
        "make",
        WRITE_SLICED.split("def analysis")[0]
        + f"""
def analysis(sliceno, prepare_res):
    import os, time
    for i in range(200_000):  # several record batches reach the file first
        prepare_res.write(i, "x")
    if sliceno == 1:
        open({str(started)!r}, "w").close()
        time.sleep(60)
""",
    )
    sliced.build_script("def main(urd):\n    urd.build('make')\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitax", "build"],
        cwd=sliced.root,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not started.exists():
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.02)
    half = list((sliced.root / ".gitax").rglob("*.arrow"))
    assert half and all(p.stat().st_size > 0 for p in half)  # killed mid-write, truly
    os.killpg(proc.pid, signal.SIGKILL)  # the build, its job and every slice at once
    proc.wait()
    assert gitax("fsck", cwd=sliced.root).returncode == 0
    assert sliced.stored("make") == []
    sliced.method("make", WRITE_SLICED)
    build(sliced, "def main(urd):\n    urd.build('make')\n")
    ds = sliced.job("make").dataset()
    assert ds.lines == [10, 11, 12] and list(ds.iterate(0, "n")) == list(range(10))
    assert gitax("fsck", cwd=sliced.root).returncode == 0


CHAIN_LINK = """
options = dict(day=0)
datasets = ('previous',)

def synthesis(job):
    dw = job.datasetwriter(previous=datasets.previous)
    dw.add("day", "int32")
    dw.add("x", "float64")
    dw.set_slice(0)
    for i in range(3):
        dw.write(options.day, i / 2)
    dw.set_slice(1)
"""


def test_a_chain_of_100_datasets_iterates_in_order(proj: ProjectDir) -> None:
    proj.method("day", CHAIN_LINK)
    build(
        proj,
        """
        def main(urd):
            prev = None
            for day in range(100):
                prev = urd.build('day', day=day, previous=prev)
        """.replace("\n        ", "\n"),
    )
    last = max(proj.stored("day"), key=lambda j: j.options["day"])
    ds = last.dataset()
    chain = ds.chain()
    assert len(chain) == 100 and chain[-1] == ds and chain[0].previous is None
    days = [d for d, _ in ds.iterate_chain(0, ("day", "x"))]
    assert days == [d for d in range(100) for _ in range(3)]
    assert chain.lines() == 300 and chain.min("day") == 0 and chain.max("day") == 99
    assert len(ds.chain(length=5)) == 5
    stop = chain[90]
    assert [d for d in ds.iterate_chain(0, "day", stop_ds=stop)][0] == 91
    assert list(ds.iterate_chain(0, "day", length=2, reverse=True))[:3] == [99, 99, 99]
    # Appending a day made one dataset of three rows, not a copy of the chain.
    assert sum(ds.lines) == 3


def test_a_parent_gets_new_columns_without_a_copy(sliced: ProjectDir) -> None:
    sliced.method("make", WRITE_SLICED)
    sliced.method(
        "double",
        """
        datasets = ('source',)
        def prepare(job):
            dw = job.datasetwriter(parent=datasets.source)
            dw.add("twice", "int64")
            return dw
        def analysis(sliceno, prepare_res):
            for n in datasets.source.iterate(sliceno, "n"):
                prepare_res.write(n * 2)
        """,
    )
    build(
        sliced,
        "def main(urd):\n    m = urd.build('make')\n    urd.build('double', source=m)\n",
    )
    ds = sliced.job("double").dataset()
    assert ds.parent == sliced.job("make").dataset()
    assert sorted(ds.columns) == ["n", "name", "twice"] and ds.lines == [10, 11, 12]
    assert list(ds.iterate(1, ("n", "twice")))[:2] == [(100, 200), (101, 202)]
    own = pa.ipc.open_file(str(ds.slice_path(0))).read_all()
    assert own.column_names == ["twice"]  # the parent's columns are not copied
    assert ds.to_arrow(columns=["name", "twice"]).num_rows == 33


def test_a_parent_with_other_line_counts_is_refused(sliced: ProjectDir) -> None:
    sliced.method("make", WRITE_SLICED)
    sliced.method(
        "short",
        """
        datasets = ('source',)
        def synthesis(job):
            dw = job.datasetwriter(parent=datasets.source)
            dw.add("x", "int64")
            for s in range(3):
                dw.set_slice(s)
                dw.write(1)
        """,
    )
    proc = build(
        sliced, "def main(urd):\n    urd.build('short', source=urd.build('make'))\n", check=False
    )
    line = one_line_error(proc)
    assert "[1, 1, 1] rows" in line and "[10, 11, 12]" in line


def test_hashlabel_places_rows_and_refuses_the_wrong_slice(sliced: ProjectDir) -> None:
    sliced.method(
        "hashed",
        """
        def synthesis(job):
            dw = job.datasetwriter(hashlabel="user")
            dw.add("user", "unicode")
            dw.add("n", "int64")
            w = dw.get_split_write()
            for i in range(300):
                w(f"user{i % 17}", i)
        """,
    )
    build(sliced, "def main(urd):\n    urd.build('hashed')\n")
    ds = sliced.job("hashed").dataset()
    assert ds.hashlabel == "user" and sum(ds.lines) == 300 and min(ds.lines) > 0
    for s in range(3):
        assert all(slice_of(u, 3) == s for u in ds.iterate(s, "user", hashlabel="user"))
    with pytest.raises(Exception, match="hashed on 'user', not 'n'"):
        list(ds.iterate(0, "n", hashlabel="n"))
    rehashed = [n for s in range(3) for n in ds.iterate(s, "n", hashlabel="n", rehash=True)]
    assert sorted(rehashed) == list(range(300))
    assert all(slice_of(n, 3) == 1 for n in ds.iterate(1, "n", hashlabel="n", rehash=True))
    sliced.method(
        "wrong",
        """
        def prepare(job):
            dw = job.datasetwriter(hashlabel="n")
            dw.add("n", "int64")
            return dw
        def analysis(sliceno, prepare_res):
            for i in range(20):
                prepare_res.write(i)
        """,
    )
    line = one_line_error(build(sliced, "def main(urd):\n    urd.build('wrong')\n", check=False))
    assert "hashlabel 'n' value" in line and "belongs in slice" in line


def test_iterate_range_filters_translators_and_roundrobin(sliced: ProjectDir) -> None:
    sliced.method("make", WRITE_SLICED)
    build(sliced, "def main(urd):\n    urd.build('make')\n")
    ds = sliced.job("make").dataset()
    assert list(ds.iterate(None, "n", range={"n": (105, 108)})) == [105, 106, 107]
    assert list(ds.iterate(0, "n", range={"n": (None, 2)})) == [0, 1]
    odd = list(ds.iterate(1, ("n", "name"), filters={"n": lambda n: n % 2}))
    assert [n for n, _ in odd] == list(range(101, 111, 2))
    assert list(ds.iterate(0, "n", filters=lambda n: n > 7)) == [8, 9]
    names = {0: "zero"}
    assert list(ds.iterate(0, "n", translators={"n": names}))[:2] == ["zero", None]
    assert list(ds.iterate(0, ("n",), translators={"n": str}))[0] == ("0",)
    rr = list(ds.iterate("roundrobin", "n"))
    assert rr[:4] == [0, 100, 200, 1] and len(rr) == 33
    assert list(Dataset.iterate_list(2, "n", [ds, ds]))[:1] == [200]
    assert len(list(Dataset.iterate_list(2, "n", [ds, ds]))) == 24


def test_arrow_pandas_and_polars_see_the_same_rows(sliced: ProjectDir) -> None:
    sliced.method("make", WRITE_SLICED)
    build(sliced, "def main(urd):\n    urd.build('make')\n")
    ds = sliced.job("make").dataset()
    total = sum(ds.iterate(None, "n"))
    assert pa.compute.sum(ds.to_arrow(columns=["n"]).column("n")).as_py() == total
    assert int(ds.to_pandas(sliceno=2)["n"].sum()) == sum(ds.iterate(2, "n"))
    assert ds.to_polars()["n"].sum() == total


def test_the_files_gitax_ds_lists_open_in_polars_and_duckdb(sliced: ProjectDir) -> None:
    import duckdb
    import polars as pl

    sliced.method("make", WRITE_SLICED)
    build(sliced, "def main(urd):\n    urd.build('make')\n")
    ds = sliced.job("make").dataset()
    files = gitax("ds", "--files", ds, cwd=sliced.root).stdout.split()
    assert len(files) == 3
    frame = pl.concat([pl.read_ipc(f) for f in files])
    assert frame["n"].to_list() == list(ds.iterate(None, "n"))
    db = duckdb.connect()
    db.register("rows", pa.concat_tables(pa.ipc.open_file(f).read_all() for f in files))
    got = db.execute("select count(*), sum(n), min(name) from rows").fetchall()[0]
    assert got == (33, sum(ds.iterate(None, "n")), "row 0")


def test_a_job_given_a_dataset_is_keyed_on_it(sliced: ProjectDir) -> None:
    sliced.method("make", WRITE_SLICED + "\noptions = dict(k=0)\n")
    sliced.method(
        "count",
        """
        datasets = ('source', ['more'])
        def synthesis(job):
            return sum(datasets.source.lines), [str(d) for d in datasets.more]
        """,
    )
    script = """
def main(urd):
    a = urd.build('make', k=K)
    b = urd.build('make', k=9)
    urd.build('count', source=a, more=[b.dataset(), f"{b}/default"])
"""
    build(sliced, script.replace("K", "0"))
    build(sliced, script.replace("K", "0"))
    assert len(sliced.stored("count")) == 1  # same datasets: reused
    build(sliced, script.replace("K", "1"))
    jobs = sliced.stored("count")
    assert len(jobs) == 2 and {j.load()[0] for j in jobs} == {33}
    b = next(j for j in sliced.stored("make") if j.options["k"] == 9)
    assert jobs[0].load()[1] == [b.id, b.id]
    assert jobs[0].params["datasets"]["more"] == [b.id, b.id]
    # the dataset's job is upstream of the job given it
    assert b in jobs[0].upstream()
    proc = build(sliced, "def main(urd):\n    urd.build('count', source='nosuchjob-1234')\n", False)
    assert "dataset parameter 'source'" in one_line_error(proc)


def test_link_to_here_shows_a_subjobs_dataset_as_the_jobs_own(sliced: ProjectDir) -> None:
    sliced.method("make", WRITE_SLICED)
    sliced.method(
        "outer",
        """
        from gitax import Dataset, subjobs  # exax's `from accelerator import Dataset`
        def synthesis(job):
            sub = subjobs.build('make')
            Dataset(sub).link_to_here("numbers", column_filter=["n"])
            return sum(job.dataset("numbers").iterate(None, "n"))
        """,
    )
    build(sliced, "def main(urd):\n    urd.build('outer')\n")
    outer = sliced.job("outer")
    ds = outer.dataset("numbers")
    assert list(ds.columns) == ["n"] and outer.load() == sum(ds.iterate(None, "n"))
    assert not [f for f in outer.files() if f.startswith("DATASETS/")]  # linked, not copied


def test_gc_keeps_a_dataset_that_another_points_at(proj: ProjectDir) -> None:
    proj.method("day", CHAIN_LINK)
    proj.method(
        "later",
        """
        options = dict(prev="")
        def synthesis(job):
            dw = job.datasetwriter(previous=options.prev)
            dw.add("day", "int32")
            dw.add("x", "float64")
            dw.set_slice(0)
            dw.write(1, 0.5)
            dw.set_slice(1)
        """,
    )
    build(proj, "def main(urd):\n    urd.build('day')\n")
    first = proj.job("day")
    build(
        proj,
        "def main(urd):\n    urd.begin('l')\n"
        f"    urd.build('later', prev='{first.id}')\n    urd.finish('l')\n",
    )
    later = proj.job("later").dataset()
    assert later.previous == first.dataset()
    gitax("gc", cwd=proj.root)
    # only the list names `later`; the dataset before it is kept through its reference
    assert [d for d, _ in later.iterate_chain(0, ("day", "x"))] == [0, 0, 0, 1]
    assert gitax("fsck", cwd=proj.root).returncode == 0
    lineage = json.loads(gitax("lineage", "--json", proj.job("later").id, cwd=proj.root).stdout)
    assert first.id in lineage["nodes"]


def test_cli_ds_cat_grep_and_show(sliced: ProjectDir) -> None:
    sliced.method("make", WRITE_SLICED)
    build(sliced, "def main(urd):\n    urd.build('make')\n")
    job = sliced.job("make")
    info = json.loads(gitax("ds", "--json", job.id, cwd=sliced.root).stdout)
    assert info["lines"] == [10, 11, 12] and info["columns"]["n"]["type"] == "int64"
    text = gitax("ds", job.id, cwd=sliced.root).stdout
    assert "33 in 3 slices" in text and "int64" in text and "min 0  max 211" in text
    out = gitax("cat", job.id, "-n", "2", "--columns", "name,n", cwd=sliced.root).stdout
    assert out.splitlines() == ["name\tn", "row 0\t0", "row 1\t1"]
    csv_out = gitax("cat", job.id, "--slice", "2", "--csv", "--no-header", cwd=sliced.root)
    assert csv_out.stdout.splitlines()[0] == "200,row 200"
    found = gitax("grep", "^row 10[0-2]$", job.id, "name", cwd=sliced.root).stdout
    assert found.splitlines() == ["100\trow 100", "101\trow 101", "102\trow 102"]
    assert gitax("grep", "nothing", job.id, cwd=sliced.root, check=False).returncode == 1
    shown = gitax("show", job.id, cwd=sliced.root).stdout
    assert "datasets default (2 columns, 33 lines)" in shown
    bad = gitax("cat", f"{job.id}/other", cwd=sliced.root, check=False)
    assert "has no dataset 'other' (it has: default)" in one_line_error(bad)
    bad = gitax("cat", job.id, "--columns", "zz", cwd=sliced.root, check=False)
    assert "has no column 'zz'" in one_line_error(bad)


def test_a_build_without_datasets_never_imports_pyarrow(proj: ProjectDir) -> None:
    proj.method("plain", "def synthesis():\n    return 1\n")
    build(proj, "def main(urd):\n    urd.build('plain')\n")
    proc = subprocess.run(
        [__import__("sys").executable, "-X", "importtime", "-m", "gitax", "build"],
        cwd=proj.root,
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "PYTHONPATH": str(proj.root.parent)},
    )
    assert proc.returncode == 0, proc.stderr
    assert "gitax.cli" in proc.stderr and "pyarrow" not in proc.stderr


def test_a_pushed_chain_is_pulled_whole_and_reads_the_same(proj: ProjectDir, tmp_path) -> None:
    remote = tmp_path / "remote"
    toml = proj.root / "gitax.toml"
    write(toml, toml.read_text() + f'\n[remotes.team]\nurl = "{remote}"\ndefault = true\n')
    proj.method("day", CHAIN_LINK)
    build(
        proj,
        "def main(urd):\n    urd.begin('days')\n    prev = None\n    for d in range(3):\n"
        "        prev = urd.build('day', day=d, previous=prev)\n    urd.finish('days')\n",
    )
    gitax("push", cwd=proj.root)
    bob = tmp_path / "bob"
    import shutil

    shutil.copytree(proj.root, bob, ignore=shutil.ignore_patterns(".gitax"))
    gitax("pull", cwd=bob)
    last = max(proj.stored("day"), key=lambda j: j.options["day"])
    out = gitax(
        "cat", "--chain", "--columns", "day", "--no-header", last.id, "--slice", "0", cwd=bob
    )
    assert out.stdout.split() == ["0", "0", "0", "1", "1", "1", "2", "2", "2"]
    assert gitax("fsck", cwd=bob).returncode == 0


def test_keying_a_job_on_a_dataset_reads_no_files_of_it(sliced: ProjectDir) -> None:
    sliced.method("make", WRITE_SLICED)
    sliced.method("count", "datasets = ('source',)\ndef synthesis():\n    return 1\n")
    build(sliced, "def main(urd):\n    urd.build('make')\n")
    gitax("gc", "--workdirs", cwd=sliced.root)
    work = sliced.root / ".gitax" / "work"
    assert not any(work.glob("make-*"))
    build(sliced, "def main(urd):\n    urd.build('count', source=urd.build('make'))\n")
    assert not any(work.glob("make-*"))  # the dataset's description is in the manifest
