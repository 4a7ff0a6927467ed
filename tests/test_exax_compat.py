"""Job scripts written for exax run on gitax with only their imports changed: each test
is a behaviour exax's own test methods check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ProjectDir, gitax

from gitax.run.build import run_build


def test_slices_is_the_configured_count_in_every_phase(proj: ProjectDir) -> None:
    config = proj.root / "gitax.toml"
    config.write_text(config.read_text().replace("[gitax]", "[gitax]\nslices = 3"))
    proj.method(
        "plain",
        "def prepare(slices):\n    return slices\n"
        "def synthesis(prepare_res, slices, params):\n"
        "    return prepare_res, slices, params.slices\n",
    )
    proj.method(
        "sliced",
        "def analysis(sliceno, slices):\n    return slices\n"
        "def synthesis(analysis_res, slices):\n    return list(analysis_res), slices\n",
    )
    proj.build_script("def main(urd):\n    urd.build('plain')\n    urd.build('sliced')\n")
    run_build(proj.project())
    assert proj.stored("plain")[0].load() == (3, 3, 3)
    assert proj.stored("sliced")[0].load() == ([3, 3, 3], 3)


def test_phases_get_params_as_exax_passes_them(proj: ProjectDir) -> None:
    proj.method("src", "def synthesis():\n    return 1\n")
    proj.method(
        "m",
        "options = dict(x=7)\njobs = ('src',)\n"
        "def prepare(params):\n    return params.options.x\n"
        "def synthesis(job, params, prepare_res):\n"
        "    return (prepare_res, params.method, params.jobid == job.id,\n"
        "            str(params.jobs.src) == str(jobs.src), params.hash == job.key,\n"
        "            params.datasets, job.params.options.x)\n",
    )
    proj.build_script("def main(urd):\n    urd.build('m', src=urd.build('src'), x=9)\n")
    run_build(proj.project())
    assert proj.stored("m")[0].load() == (9, "m", True, True, True, {}, 9)


def test_open_takes_open_keywords_and_json_save_takes_sort_keys(proj: ProjectDir) -> None:
    proj.method(
        "files",
        """
def synthesis(job):
    with job.open("latin.txt", "w", encoding="latin-1") as fh:
        fh.write("café")
    with job.open("utf8.txt", "w") as fh:  # text is UTF-8 by default, as in exax
        fh.write("café")
    with job.open("crlf.txt", "w", newline="\\r\\n") as fh:
        fh.write("a\\n")
    job.json_save({"b": 1, "a": {3, 1, 2}, "t": (1, 2)}, "sorted.json")
    job.json_save({"b": 1, "a": 2}, "ordered.json", sort_keys=False)
    job.json_save([1])  # exax's default name
    with job.open("latin.txt", encoding="latin-1") as fh:
        return fh.read()
""",
    )
    proj.build_script("def main(urd):\n    urd.build('files')\n")
    run_build(proj.project())
    job = proj.stored("files")[0]
    assert job.load() == "café"
    assert Path(job.filename("latin.txt")).read_bytes() == "café".encode("latin-1")
    assert Path(job.filename("utf8.txt")).read_bytes() == "café".encode()
    assert Path(job.filename("crlf.txt")).read_bytes() == b"a\r\n"
    with job.open("latin.txt", encoding="latin-1") as fh:  # a stored job's files alike
        assert fh.read() == "café"
    assert job.open("utf8.txt").read() == "café"
    assert json.loads(Path(job.filename("sorted.json")).read_text()) == {
        "a": [1, 2, 3],
        "b": 1,
        "t": [1, 2],
    }
    assert list(json.loads(Path(job.filename("ordered.json")).read_text())) == ["b", "a"]
    assert job.json_load("result.json") == [1]


def test_job_chain_follows_previous(proj: ProjectDir) -> None:
    proj.method(
        "step",
        "options = dict(n=0)\njobs = ('previous',)\n"
        "def synthesis(job):\n    return [str(j) for j in job.chain()]\n",
    )
    proj.build_script(
        "def main(urd):\n    prev = None\n    for n in range(4):\n"
        "        prev = urd.build('step', n=n, previous=prev)\n"
    )
    run_build(proj.project())
    by_n = {j.options["n"]: j for j in proj.stored("step")}
    last = by_n[3]
    assert last.chain() == [by_n[0], by_n[1], by_n[2], by_n[3]]
    assert last.chain(reverse=True) == [by_n[3], by_n[2], by_n[1], by_n[0]]
    assert last.chain(length=2) == [by_n[2], by_n[3]]
    assert last.chain(stop_job=by_n[1]) == [by_n[2], by_n[3]]
    assert last.chain(stop_job=by_n[1].id) == [by_n[2], by_n[3]]
    assert last.chain(stop_job={by_n[2].id: "previous"}) == [by_n[2], by_n[3]]
    # Inside a running job, the chain ends with the job itself.
    assert last.load() == [j.id for j in (by_n[0], by_n[1], by_n[2])] + [last.id]


def test_subjobs_nest_exactly_five_levels(proj: ProjectDir) -> None:
    proj.method(
        "nest",
        """
from gitax import subjobs
from gitax.subjobs import JobError
options = {'level': 0}
def synthesis():
    assert options.level < 5, "Too deep subjob nesting allowed"
    try:
        subjobs.build('nest', options={'level': options.level + 1})
    except JobError as e:
        assert options.level == 4, "Not enough subjob nesting allowed"
        return str(e)
""",
    )
    proj.build_script("def main(urd):\n    urd.build('nest')\n")
    run_build(proj.project())
    (deepest,) = [j for j in proj.stored("nest") if j.options["level"] == 4]
    assert deepest.load().startswith("Too deep subjob nesting")
    assert len(proj.stored("nest")) == 5


@pytest.mark.parametrize("mode", ["r", "rb"])
def test_a_stored_jobs_files_cannot_be_written(proj: ProjectDir, mode: str) -> None:
    proj.method("w", "def synthesis(job):\n    job.json_save(1, 'x')\n")
    proj.build_script("def main(urd):\n    urd.build('w')\n")
    gitax("build", cwd=proj.root)
    job = proj.stored("w")[0]
    assert job.open("x", mode).read(1)
    with pytest.raises(Exception, match="cannot be changed"):
        job.open("x", mode.replace("r", "w"))
