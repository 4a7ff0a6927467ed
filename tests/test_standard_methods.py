"""The standard methods gitax ships (csvimport, dataset_type, ...), run in real builds."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess

import pytest
from conftest import REPO, ProjectDir, gitax, write

from gitax.jobs.dstypes import slice_of


def build(proj: ProjectDir, script: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proj.build_script(script)
    return gitax("build", cwd=proj.root, check=check)


@pytest.fixture
def data(proj: ProjectDir) -> ProjectDir:
    write(proj.root / "gitax.toml", (proj.root / "gitax.toml").read_text() + "slices = 2\n")
    (proj.root / "data").mkdir(exist_ok=True)
    return proj


CSV = "id,name,price,day\n1,apple,1.5,2024-01-02\n2,pear,x,2024-01-03\n3,plum,2.25,bad\n"


def test_csvimport_keeps_bad_lines_apart_and_numbers_lines(data: ProjectDir) -> None:
    text = 'a;b\n1;x\n2;y;extra\n\n3;"q;uoted"\n4;z\n'
    write(data.root / "data" / "f.csv", text)
    build(
        data,
        "def main(urd):\n    urd.build('csvimport', filename='f.csv', separator=';',"
        " lineno_label='line')\n",
    )
    job = data.job("csvimport")
    assert job.load() == {"lines": 4, "bad": 1}
    ds = job.dataset()
    assert sorted(ds.columns) == ["a", "b", "line"] and ds.columns["a"].type == "unicode"
    # row k went to slice k % 2, so roundrobin gives the file's order
    assert list(ds.iterate("roundrobin", ("a", "b", "line"))) == [
        ("1", "x", 2),
        ("", "", 4),  # an empty line is a row of empty fields
        ("3", "q;uoted", 5),
        ("4", "z", 6),
    ]
    bad = job.dataset("bad")
    assert list(bad.iterate(None, ("lineno", "text"))) == [(3, "2;y;extra")]


def test_csvimport_takes_exaxs_options(data: ProjectDir) -> None:
    text = " a ;b\n1;'x'\n# a comment;here\n#short\n\n2;y;extra\n3;z\n"
    write(data.root / "data" / "f.csv", text)
    build(
        data,
        "def main(urd):\n    urd.build('csvimport', filename='f.csv', separator=';',"
        " quotes=False, comment='#', strip_labels=True, skip_empty_lines=True,"
        " allow_bad=True)\n",
    )
    job = data.job("csvimport")
    assert job.load() == {"lines": 2, "bad": 1, "skipped": 2}
    ds = job.dataset()
    assert list(ds.iterate("roundrobin", ("a", "b"))) == [("1", "'x'"), ("3", "z")]
    skipped = sorted(job.dataset("skipped").iterate(None, "text"))
    assert skipped == ["# a comment;here", "#short"]

    write(data.root / "data" / "g.csv", "a,b\n1,2\n3\n")
    proc = build(
        data,
        "def main(urd):\n    urd.build('csvimport', filename='g.csv', allow_bad=False,"
        " lineno_label='n')\n",
        check=False,
    )
    assert proc.returncode != 0
    assert "line 3 has 1 fields, not 2: '3' (allow_bad=True" in proc.stderr
    assert [j.id for j in data.stored("csvimport")] == [job.id]


def test_csvimport_reads_compressed_files_and_given_labels(data: ProjectDir) -> None:
    with gzip.open(data.root / "data" / "f.csv.gz", "wt") as fh:
        fh.write("1,2\n3,4\n")
    build(
        data,
        "def main(urd):\n    urd.build('csvimport', filename='f.csv.gz',"
        " labelsonfirstline=False, labels=['x', 'y'])\n",
    )
    ds = data.job("csvimport").dataset()
    assert sorted(ds.iterate(None, ("x", "y"))) == [("1", "2"), ("3", "4")]


def test_dataset_type_types_columns_with_formats_and_defaults(data: ProjectDir) -> None:
    write(data.root / "data" / "f.csv", CSV)
    build(
        data,
        """
def main(urd):
    imp = urd.build('csvimport', filename='f.csv')
    urd.build('dataset_type', source=imp, column2type={'id': 'int64', 'price': 'float64',
              'day': 'date:%Y-%m-%d'}, defaults={'price': None, 'day': None})
""",
    )
    typed = data.job("dataset_type").dataset()
    assert typed.parent == data.job("csvimport").dataset()
    assert typed.columns["id"].type == "int64" and typed.columns["name"].type == "unicode"
    rows = sorted(typed.iterate(None, ("id", "name", "price", "day")))
    import datetime

    assert rows == [
        (1, "apple", 1.5, datetime.date(2024, 1, 2)),
        (2, "pear", None, datetime.date(2024, 1, 3)),
        (3, "plum", 2.25, None),
    ]
    assert typed.min("id") == 1 and typed.max("price") == 2.25


def test_dataset_type_names_a_bad_value_without_a_default(data: ProjectDir) -> None:
    write(data.root / "data" / "f.csv", CSV)
    proc = build(
        data,
        "def main(urd):\n    imp = urd.build('csvimport', filename='f.csv')\n"
        "    urd.build('dataset_type', source=imp, column2type={'price': 'float64'})\n",
        check=False,
    )
    assert proc.returncode != 0
    assert "column 'price'" in proc.stderr and "'x' is not float64" in proc.stderr
    assert "options.defaults" in proc.stderr


def test_dataset_type_understands_exaxs_type_names(data: ProjectDir) -> None:
    write(data.root / "data" / "f.csv", "a,h,o,t\n12,ff,0x10,x\n-3,10,0o7,y\n")
    build(
        data,
        """
def main(urd):
    imp = urd.build('csvimport', filename='f.csv')
    urd.build('dataset_type', source=imp, column2type={'a': 'int64_10', 'h': 'int32_16',
              'o': 'int64_0', 't': 'unicode:utf-8'})
""",
    )
    typed = data.job("dataset_type").dataset()
    assert typed.columns["h"].type == "int32" and typed.columns["t"].type == "unicode"
    assert sorted(typed.iterate(None, ("a", "h", "o", "t"))) == [
        (-3, 16, 7, "y"),
        (12, 255, 16, "x"),
    ]
    proc = build(
        data,
        "def main(urd):\n    imp = urd.build('csvimport', filename='f.csv')\n"
        "    urd.build('dataset_type', source=imp, column2type={'t': 'unicode:latin-1'})\n",
        check=False,
    )
    assert proc.returncode != 0 and "cannot type 't' as 'unicode:latin-1'" in proc.stderr


def test_hashpart_sort_filter_export_and_checksum(data: ProjectDir) -> None:
    rows = [(i, f"k{i % 7}", (i * 37) % 101) for i in range(200)]
    write(
        data.root / "data" / "f.csv",
        "id,key,v\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows),
    )
    build(
        data,
        """
def main(urd):
    imp = urd.build('csvimport', filename='f.csv')
    typed = urd.build('dataset_type', source=imp, column2type={'id': 'int64', 'v': 'int64'})
    hashed = urd.build('dataset_hashpart', source=typed, hashlabel='key')
    urd.build('dataset_sort', source=hashed, sort_columns=['v', 'id'], name='sorted')
    urd.build('dataset_sort', source=typed, sort_columns=['v'], sort_order='descending',
              sort_across_slices=True, name='across')
    urd.build('dataset_filter_columns', source=typed, keep_columns=['id'])
    urd.build('csvexport', source=typed, labels=['id', 'v'], filename='out.csv')
    urd.build('dataset_checksum', source=typed, name='sum_typed')
    urd.build('dataset_checksum', source=hashed, name='sum_hashed')
""",
    )
    hashed = data.job("dataset_hashpart").dataset()
    assert hashed.hashlabel == "key" and sum(hashed.lines) == 200
    for s in range(2):
        assert all(slice_of(k, 2) == s for k in hashed.iterate(s, "key"))
    for job in data.stored("dataset_sort"):
        ds = job.dataset()
        if job.options["sort_across_slices"]:
            vs = list(ds.iterate(None, "v"))
            assert vs == sorted((v for _, _, v in rows), reverse=True)
        else:
            for s in range(2):
                got = list(ds.iterate(s, ("v", "id")))
                assert got == sorted(got) and len(got) == hashed.lines[s]
    kept = data.job("dataset_filter_columns").dataset()
    assert list(kept.columns) == ["id"] and sum(kept.lines) == 200
    exported = data.job("csvexport")
    lines = (exported.path / "out.csv").read_text().splitlines()
    assert lines[0] == "id,v" and sorted(lines[1:]) == sorted(f"{a},{c}" for a, _, c in rows)
    sums = {j.load() for j in data.stored("dataset_checksum")}
    assert len(sums) == 1  # the same rows in other slices and orders


def test_the_cars_example_written_with_datasets(tmp_path) -> None:
    """The seeds' example (parse -> clean -> train -> plot) from a CSV through csvimport
    and dataset_type."""
    root = tmp_path / "cars"
    shutil.copytree(REPO / "examples" / "cars" / "data", root / "data")
    proj = ProjectDir(root)
    proj.method(
        "train",
        """
        datasets = ("data",)
        def synthesis(job):
            pts = list(datasets.data.iterate(None, ("speed_mph", "dist_ft")))
            n = len(pts)
            mx = sum(x for x, _ in pts) / n
            my = sum(y for _, y in pts) / n
            slope = sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts)
            model = {"slope": slope, "intercept": my - slope * mx, "n": n}
            job.json_save(model, "model.json")
            return model
        """,
    )
    proj.method(
        "plot",
        """
        datasets = ("data",)
        jobs = ("model",)
        def synthesis(job):
            m = jobs.model.json_load("model.json")
            with job.open("plot.txt", "w") as fh:
                for x, y in datasets.data.iterate(None, ("speed_mph", "dist_ft")):
                    fh.write(f"{x} {y} {m['intercept'] + m['slope'] * x:.3f}\\n")
        """,
    )
    build(
        proj,
        """
def main(urd):
    parsed = urd.build('csvimport', filename='cars.csv')
    clean = urd.build('dataset_type', source=parsed,
                      column2type={'speed_mph': 'float64', 'dist_ft': 'float64'})
    model = urd.build('train', data=clean)
    urd.build('plot', data=clean, model=model).link_result('plot.txt')
""",
    )
    model = proj.job("train").load()
    assert model["n"] == 50 and round(model["slope"], 3) == 3.932  # R's cars: 3.932
    assert len((root / "results" / "plot.txt").read_text().splitlines()) == 50
    assert "csvimport" in gitax("methods", cwd=root).stdout
    info = json.loads(gitax("show", "--json", proj.job("csvimport").id, cwd=root).stdout)
    assert "gitax:standard_methods/a_csvimport.py" in info["sources"]
    assert gitax("verify", cwd=root, check=False).returncode in (0, 1)
