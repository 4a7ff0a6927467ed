"""Job scripts written for exax run on gitax with only their imports changed: each test
is a behaviour exax's own test methods check."""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

import pytest
from conftest import ProjectDir, gitax

from gitax.jobs.options import OptionError
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


def test_timedelta_options_key_and_arrive_as_timedelta(proj: ProjectDir) -> None:
    proj.method(
        "wait",
        "import datetime\nfrom datetime import timedelta\n"
        "options = dict(step=timedelta(hours=1), given=timedelta, when=datetime.timedelta)\n"
        "def synthesis():\n    return options.step, options.given, options.when\n",
    )
    proj.build_script(
        "from datetime import timedelta\n"
        "def main(urd):\n"
        "    urd.build('wait', given=timedelta(minutes=2), when=90)\n"
        "    urd.build('wait', given=timedelta(seconds=120), when=90.0)\n"
    )
    summary = run_build(proj.project())
    (job,) = proj.stored("wait")  # 2 minutes == 120 s, 90 == 90.0 s: the same key
    assert len(summary.built) == 1 and len(summary.reused) == 1
    hour, two, ninety = job.load()
    assert (hour, two, ninety) == (
        datetime.timedelta(hours=1),
        datetime.timedelta(minutes=2),
        datetime.timedelta(seconds=90),
    )
    assert job.options["given"] == datetime.timedelta(minutes=2)  # read back from the store
    proj.build_script("def main(urd):\n    urd.build('wait', given='soon')\n")
    with pytest.raises(OptionError, match="option 'given' must be timedelta, not str"):
        run_build(proj.project())


OPTIONENUM = """
from gitax.extras import OptionEnum
from gitax import subjobs

abcd = OptionEnum("a b c d", none_ok=True)
efgh = OptionEnum(["e", "f", "g", "h"])
ijkl = OptionEnum(list("ijkl"), none_ok=True)
mnSTARop = OptionEnum("m n* o p")
qSTARrSTARst = OptionEnum("q* r* s t")
uni = OptionEnum("b l ä")
required = OptionEnum("x y")
mdefault = mnSTARop.m

options = dict(
    abcd=abcd,
    efgh=efgh.g,
    ijkl=ijkl["k"],
    mnSTARop=mdefault,
    qSTARrSTARst=qSTARrSTARst["quu"],
    uni=uni.b,
    dict=dict(ijkl=ijkl),
    list=[mnSTARop.o],
    required=required,
    inner=False,
)

def synthesis():
    if options.inner:
        return dict(options)
"""


@pytest.mark.parametrize(
    "given, changed",
    [
        (dict(abcd="a", efgh="h"), {}),
        (dict(ijkl="j", efgh="e"), {}),
        (dict(uni="ä"), {}),
        (dict(ijkl=None, dict=dict(foo="j")), {}),
        (dict(mnSTARop="p", qSTARrSTARst="qwe", ijkl="k"), {}),
        (dict(mnSTARop="nah", qSTARrSTARst="really good value\n"), {}),
        (dict(list=["noo"]), {}),
    ],
)
def test_optionenum_values_are_checked_and_defaulted(
    proj: ProjectDir, given: dict, changed: dict
) -> None:
    proj.method("test_optionenum", OPTIONENUM)
    described = gitax("methods", "test_optionenum", cwd=proj.root).stdout
    assert "option   abcd: OptionEnum('a b c d', none_ok=True)" in described
    assert "option   mnSTARop: OptionEnum('m n* o p') = 'm'" in described
    proj.build_script(
        f"def main(urd):\n    urd.build('test_optionenum', options=dict(inner=True, "
        f"required='x', **{given!r}))\n"
    )
    run_build(proj.project())
    defaults = dict(
        abcd=None,
        efgh="g",
        ijkl="k",
        mnSTARop="m",
        qSTARrSTARst="quu",
        uni="b",
        dict={},
        list=["o"],
        required="x",
        inner=True,
    )
    got = proj.stored("test_optionenum")[0].load()
    assert got == {**defaults, **given}
    assert all(type(v) is str for v in got.values() if isinstance(v, str))  # plain strs


@pytest.mark.parametrize(
    "given, message",
    [
        (dict(abcd="A"), r"option 'abcd': 'A' is not one of a b c d"),
        (dict(efgh="a"), "option 'efgh': 'a' is not one of e f g h"),
        (dict(qSTARrSTARst="sdf"), "option 'qSTARrSTARst': 'sdf' is not one of"),
        (dict(mnSTARop=None), r"option 'mnSTARop' must be one of m n\* o p \(None"),
        (dict(ijkl=None, dict=dict(foo="b")), r"option \"dict\['foo'\]\": 'b' is not one of"),
        (dict(list=["moo"]), r"option 'list\[0\]': 'moo' is not one of"),
        ({}, "option 'required' is required"),
    ],
)
def test_optionenum_refuses_what_is_not_a_member(
    proj: ProjectDir, given: dict, message: str
) -> None:
    proj.method("test_optionenum", OPTIONENUM)
    with_required = {"required": "y", **given} if given else {}
    proj.build_script(
        f"def main(urd):\n    urd.build('test_optionenum', options={with_required!r})\n"
    )
    with pytest.raises(OptionError, match=message):
        run_build(proj.project())
    assert proj.stored("test_optionenum") == []


def test_required_option_and_option_string(proj: ProjectDir) -> None:
    proj.method(
        "req",
        "from gitax.extras import RequiredOption, OptionString, OptionDefault\n"
        "options = dict(n=RequiredOption(int), label=OptionString('example'),\n"
        "               maybe=OptionDefault(int, 7), opt=RequiredOption(str, none_ok=True))\n"
        "def synthesis():\n    return dict(options)\n",
    )
    proj.build_script(
        "def main(urd):\n    urd.build('req', n=3, label='x', opt=None)\n"
        "    urd.build('req', n=3, label='x', opt='o', maybe=2)\n"
    )
    run_build(proj.project())
    values = sorted((j.load() for j in proj.stored("req")), key=lambda v: v["maybe"])
    assert values == [
        dict(n=3, label="x", maybe=2, opt="o"),
        dict(n=3, label="x", maybe=7, opt=None),
    ]
    for call, message in [
        ("n=3, opt=None", "option 'label' is required"),
        ("n=3, label='', opt=None", "option 'label' requires a non-empty string"),
        ("label='x', opt=None", "option 'n' is required"),
        ("n=None, label='x', opt=None", "option 'n' requires a value that is not None"),
        ("n='3', label='x', opt=None", "option 'n' must be int, not str"),
    ]:
        proj.build_script(f"def main(urd):\n    urd.build('req', {call})\n")
        with pytest.raises(OptionError, match=message):
            run_build(proj.project())


JOBWITHFILE = """
from gitax import JobWithFile, build
from gitax.extras import pickle_load
import json

options = dict(file=JobWithFile, inner=False)

def analysis(sliceno, job):
    data = {sliceno}
    if options.inner:
        if options.file.sliced:
            assert options.file.load(sliceno) == data
            assert pickle_load(options.file.filename(sliceno)) == data
        else:
            try:
                options.file.load(sliceno)
                raise Exception("Allowed sliced load of unsliced file")
            except AssertionError:
                pass
        job.save({'inner': sliceno}, 'inner.pickle', sliceno)
        job.json_save({'inner': sliceno}, 'inner.json', sliceno)
    else:
        job.save(data, 'data', sliceno)

def verify(params, jwf):
    jid = build('test_jobwithfile', options=dict(inner=True, file=jwf))
    jj = jid.withfile('inner.json', True)
    for sliceno in range(params.slices):
        assert jid.load('inner.pickle', sliceno) == {'inner': sliceno}
        assert jid.json_load('inner.json', sliceno) == {'inner': sliceno}
        assert json.load(jj.open(sliceno=sliceno)) == {'inner': sliceno}
    assert jid.load('inner.pickle') == {'inner': None}
    assert jid.json_load('inner.json') == {'inner': None}
    jj = JobWithFile(jid, 'inner.json')
    assert json.load(jj.open()) == {'inner': None}
    return jid

def synthesis(params, job):
    data = {'foo'}
    if options.inner:
        if options.file.sliced:
            try:
                options.file.load()
                raise Exception("Allowed unsliced load of sliced file")
            except AssertionError:
                pass
        else:
            assert options.file.load() == data
            assert pickle_load(options.file.filename()) == data
        job.save({'inner': None}, 'inner.pickle')
        job.json_save({'inner': None}, 'inner.json')
        return repr(options.file)
    job.save(data, 'data')
    # Both ways of making one, naming this job while it runs (it is not stored yet).
    a = verify(params, JobWithFile(params.jobid, 'data'))
    b = verify(params, job.withfile('data', True))
    return str(a), str(b)
"""


def test_jobwithfile_as_option_sliced_and_not(proj: ProjectDir, tmp_path: Path) -> None:
    config = proj.root / "gitax.toml"
    config.write_text(config.read_text().replace("[gitax]", "[gitax]\nslices = 3"))
    proj.method("test_jobwithfile", JOBWITHFILE)
    proj.build_script(
        "from gitax import JobWithFile\n"
        "def main(urd):\n    outer = urd.build('test_jobwithfile')\n"
        "    again = urd.build('test_jobwithfile', inner=True, file=(outer, 'data'))\n"
        "    same = urd.build('test_jobwithfile', inner=True, file=outer.withfile('data'))\n"
        "    assert again == same, (again, same)\n"
    )
    run_build(proj.project())
    (outer,) = [j for j in proj.stored("test_jobwithfile") if not j.options["inner"]]
    unsliced_id, sliced_id = outer.load()
    inner = {j.id: j for j in proj.stored("test_jobwithfile") if j.options["inner"]}
    assert set(inner) == {unsliced_id, sliced_id}
    # Keyed by the job and the file, read back from the store as a JobWithFile.
    stored = inner[sliced_id].options["file"]
    assert (stored.job, stored.name, stored.sliced) == (outer, "data", True)
    assert stored.load(1) == {1}
    assert inner[unsliced_id].load() == f"JobWithFile({outer.id!r}, 'data', sliced=False)"
    # A job named by an option is upstream of it: the subjob given its running parent
    # closes a cycle (parent -> subjob -> parent), which push, pull, gc and fsck follow.
    assert outer in inner[sliced_id].upstream()
    gitax("remote", "add", "team", str(tmp_path / "remote"), "--default", cwd=proj.root)
    gitax("push", cwd=proj.root)
    bob = tmp_path / "bob"
    shutil.copytree(proj.root, bob, ignore=shutil.ignore_patterns(".gitax"))
    gitax("pull", cwd=bob)
    assert json.loads(gitax("build", "--json", cwd=bob).stdout.splitlines()[-1])["built"] == []
    assert "clean" in gitax("fsck", cwd=bob).stdout
    gitax("gc", "--grace", "0", cwd=bob)  # keeps the build's jobs and what they name
    assert json.loads(gitax("build", "--json", cwd=bob).stdout.splitlines()[-1])["built"] == []
    assert "clean" in gitax("fsck", cwd=bob).stdout


def test_jobs_as_option_values_key_by_job(proj: ProjectDir) -> None:
    proj.method("src", "options = dict(n=0)\ndef synthesis():\n    return options.n\n")
    proj.method(
        "collect",
        "options = dict(joblist=[], one=None, label='')\n"
        "def synthesis():\n"
        "    return [j.load() for j in options.joblist], options.one.load(), options.label\n",
    )
    proj.build_script(
        "def main(urd):\n"
        "    a = urd.build('src', n=1)\n    b = urd.build('src', n=2)\n"
        "    urd.build('collect', joblist=urd.joblist, one=b, label=a)\n"
        "    urd.build('collect', joblist=[a, b], one=b, label=a)\n"
    )
    summary = run_build(proj.project())
    (job,) = proj.stored("collect")  # urd.joblist and [a, b]: the same jobs, one key
    assert [j.method for j in summary.built] == ["src", "src", "collect"]
    a, b = sorted(proj.stored("src"), key=lambda j: j.load())
    assert job.load() == ([1, 2], 2, a.id)  # a str option takes a job as its id
    assert job.options["joblist"] == [a, b]
    assert set(job.upstream()) == {job, a, b}  # so gc keeps them, push sends them
    shown = gitax("show", job.id, cwd=proj.root).stdout
    assert f"joblist=[Job('{a.id}'), Job('{b.id}')]" in shown
    # Another job of the same method and parameters is another key.
    proj.build_script(
        "def main(urd):\n    a = urd.build('src', n=1)\n    c = urd.build('src', n=3)\n"
        "    urd.build('collect', joblist=[a, c], one=c)\n"
    )
    run_build(proj.project())
    assert len(proj.stored("collect")) == 2


def test_a_name_both_option_and_job_needs_options_or_jobs(proj: ProjectDir) -> None:
    proj.method("src", "def synthesis():\n    return 's'\n")
    proj.method(
        "test_build_kws",
        "options = {'foo': 'foo', 'a': 'a'}\njobs = ('foo', 'c')\n"
        "def synthesis():\n    return dict(options), {k: v and str(v) for k, v in jobs.items()}\n",
    )
    proj.build_script(
        "def main(urd):\n"
        "    s = urd.build('src')\n"
        "    assert urd.build('test_build_kws').load() == "
        "({'foo': 'foo', 'a': 'a'}, {'foo': None, 'c': None})\n"
        "    j = urd.build('test_build_kws', options=dict(foo='bar', a='over'), a='A', c=s)\n"
        "    assert j.load() == ({'foo': 'bar', 'a': 'A'}, {'foo': None, 'c': str(s)}), j.load()\n"
        "    j = urd.build('test_build_kws', jobs=dict(foo=s))\n"
        "    assert j.load() == ({'foo': 'foo', 'a': 'a'}, {'foo': str(s), 'c': None})\n"
    )
    run_build(proj.project())
    proj.build_script("def main(urd):\n    urd.build('test_build_kws', foo='baz')\n")
    with pytest.raises(OptionError, match="'foo' is both an option and a job input; pass it as"):
        run_build(proj.project())


def test_urd_peek_finish_flags_and_an_emptied_list(proj: ProjectDir) -> None:
    proj.method("m", "options = dict(x=0)\ndef synthesis():\n    return options.x\n")
    proj.build_script(
        """
def main(urd):
    urd.truncate("tests_urd", "1970-01-01")
    assert not urd.peek_latest("tests_urd").joblist
    assert not urd.peek_latest("tests_urd") and not urd.latest("nosuchlist")
    urd.begin("tests_urd", "2020-01-01", caption="first")
    urd.build("m")
    fin = urd.finish("tests_urd")
    assert fin == {'new': True, 'changed': False, 'is_ghost': False}, fin.flags()
    assert fin.new and not fin.changed and fin.joblist[0].load() == 0
    urd.begin("tests_urd", "2020-01-01")
    job = urd.build("m")
    fin = urd.finish("tests_urd", caption="first")
    assert fin == {'new': False, 'changed': False, 'is_ghost': False}, fin.flags()
    urd.begin("tests_urd", "2020-01-01")
    urd.build("m", x=1)
    fin = urd.finish("tests_urd", update=True)
    assert fin == {'new': False, 'changed': True, 'is_ghost': False}, fin.flags()
    urd.begin("tests_urd")
    jl = urd.latest("tests_urd").joblist
    urd.build("m", x=2)
    urd.truncate("tests_urd", "2020-01-01")  # the session just read is gone
    fin = urd.finish("tests_urd", "2021-01-01", caption="second")
    assert fin == {'new': True, 'changed': False, 'is_ghost': True}, fin.flags()
    assert jl[0].load() == 1
    assert urd.peek_first("tests_urd").caption == "second"
    assert urd.peek("tests_urd", "2021-01-01").joblist[0].load() == 2
    assert not urd.peek("tests_urd", "2020-01-01")
    urd.begin("other")
    urd.peek_latest("tests_urd")
    urd.peek("tests_urd", "2021-01-01")
    urd.peek_first("tests_urd")
    urd.build("m", x=3)
    return urd.finish("other")
"""
    )
    run_build(proj.project())
    from gitax.jobs.urdlog import UrdLists

    lists = UrdLists(proj.project().store.urd)
    assert lists.latest("other").deps == ()  # peeking records no dependency
    assert [s.caption for s in lists.sessions("tests_urd")] == ["second"]


def test_job_specifiers_resolve_as_in_exax(proj: ProjectDir) -> None:
    from gitax.jobs.job import Job, JobNotFound

    proj.method(
        "step",
        "options = dict(n=0)\njobs = ('previous',)\ndef synthesis():\n    return options.n\n",
    )
    proj.method("other", "def synthesis():\n    return 'o'\n")
    proj.build_script(
        "def main(urd):\n"
        "    prev = None\n"
        "    for day in (1, 2, 3):\n"
        "        urd.begin('main', f'2023-01-0{day}')\n"
        "        prev = urd.build('step', n=day, previous=prev)\n"
        "        urd.build('other', name='extra')\n"
        "        urd.finish('main')\n"
    )
    run_build(proj.project())
    project = proj.project()
    by_n = {j.load(): j for j in proj.stored("step")}
    (other,) = proj.stored("other")

    def n(ref: str) -> object:
        return Job(ref, project).load()

    assert n("step") == 3  # a method name: its newest job
    assert n("step~") == 2 and n("step~2") == 1 and n("step~~") == 1
    assert n(f"{by_n[3].id}^") == 2 and n(f"{by_n[3].key[:6]}^2") == 1
    assert n("step^~") == 1  # moves combine: up the previous chain, then back in time
    assert Job(":main:", project) == other  # the last job of the newest session
    assert n(":main:0") == 3 and n(":main:step") == 3 and n(":main:-2") == 3
    assert Job(":main:extra", project) == other
    assert n(":main/2023-01-02:step") == 2 and n(":main/first:0") == 1
    assert n(":main^:0") == 2 and n(":main/first~:0") == 2  # ^ earlier, ~ later
    for ref, message in [
        ("nosuch", r"not a job id: 'nosuch'; methods with jobs: other, step"),
        ("abcdef", r"no stored job or method 'abcdef'; methods with jobs: other, step"),
        ("step~5", r"has 2 earlier jobs of step"),
        ("step^3", r"only 2 `previous` job\(s\) back"),
        (":nolist:", r"no urd list 'nolist' with sessions; lists: main"),
        (":main:9", r"session main@2023-01-03 has no job '9'; it has 0:step, 1:extra"),
        (":main/2022-12-31:", r"no session there; the sessions run from 2023-01-01 to"),
        (":main^^^:", "list 'main' has 3 sessions, 2023-01-01 to 2023-01-03"),
        (":main", "partial :LIST:"),
    ]:
        with pytest.raises(JobNotFound, match=message):
            Job(ref, project)
    # The CLI takes them wherever it takes a JOB.
    shown = json.loads(gitax("show", "step~1", "--json", cwd=proj.root).stdout)
    assert shown["id"] == by_n[2].id
    diff = gitax("diff", "step^", ":main/first:step", cwd=proj.root).stdout
    assert "n" in diff and by_n[2].id in diff
    bad = gitax("show", "step~9", cwd=proj.root, check=False)
    assert bad.returncode != 0 and "earlier jobs of step" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_equivalent_hashes_keep_jobs_across_a_cosmetic_edit(proj: ProjectDir) -> None:
    v1 = (
        "from helper import k\noptions = dict(x=1)\n"
        "def synthesis(job):\n    job.json_save(options.x * k)\n    return options.x * k\n"
    )
    path = proj.method("calc", v1)
    (path.parent / "helper.py").write_text("k = 10\n")
    proj.build_script("def main(urd):\n    urd.build('calc').link_result('result.json')\n")
    gitax("build", cwd=proj.root)
    (first,) = proj.stored("calc")
    shown = gitax("show", first.id, cwd=proj.root).stdout
    source_hash = json.loads(gitax("show", first.id, "--json", cwd=proj.root).stdout)["source_hash"]
    assert f"hash     {source_hash}" in shown
    # A cosmetic edit with a wrong verifier: the job runs, and gitax says what to write.
    edited = v1.replace("def synthesis", "# just a comment\ndef synthesis")
    declaration = "equivalent_hashes = {'%s': ('%s',)}\n"
    path.write_text(declaration % ("0" * 64, source_hash) + edited)
    out = gitax("build", "--dry-run", cwd=proj.root)
    verifier = json.loads(gitax("methods", "calc", "--json", cwd=proj.root).stdout)[
        "equivalent_hashes"
    ]["verifier"]
    assert f"write {{'{verifier}': ('{source_hash}',)}}" in out.stdout + out.stderr
    assert gitax("verify", cwd=proj.root, check=False).returncode != 0  # a_calc.py changed
    # The right verifier: the earlier job is reused, verify and why agree.
    path.write_text(declaration % (verifier, source_hash) + edited)
    assert "(verifier holds)" in gitax("methods", "calc", cwd=proj.root).stdout
    out = gitax("build", cwd=proj.root)
    assert proj.stored("calc") == [first] and "0 built" in out.stdout, out.stdout
    assert gitax("verify", cwd=proj.root).returncode == 0
    # Another option runs a job, and "why" does not call the source changed.
    proj.build_script("def main(urd):\n    urd.build('calc', x=2)\n")
    out = gitax("build", cwd=proj.root).stdout
    assert "option x: 1 -> 2" in out and "source changed: methods/a_calc.py" not in out, out
    # A helper keeps its own hash in the key: editing it runs the job.
    proj.build_script("def main(urd):\n    urd.build('calc')\n")
    (path.parent / "helper.py").write_text("k = 11\n")
    gitax("build", cwd=proj.root)
    assert sorted(j.load() for j in proj.stored("calc")) == [10, 11, 20]
    (path.parent / "helper.py").write_text("k = 10\n")
    # Any later edit voids the equivalence: the job runs again, with the note.
    path.write_text(declaration % (verifier, source_hash) + edited + "# more\n")
    out = gitax("build", cwd=proj.root)
    assert "does not" not in out.stdout and "write {'" in out.stdout + out.stderr
    assert sorted(j.load() for j in proj.stored("calc")) == [10, 10, 11, 20]
    assert gitax("verify", cwd=proj.root, check=False).returncode != 0


def test_exax_datetime_method_runs_with_its_imports_changed(proj: ProjectDir) -> None:
    """exax's test_methods/a_test_datetime.py, `accelerator` replaced by `gitax`."""
    proj.method(
        "test_datetime",
        """
from datetime import datetime, date, time, timedelta

from gitax import subjobs
from gitax.extras import DotDict

options = dict(
    datetime=datetime,
    time=time,
    date=date,
    timedelta=timedelta,
    inner=False,
)

def synthesis():
    if options.inner:
        res = DotDict()
        res.datetime = options.datetime + options.timedelta
        res.time = options.time.replace(minute=0)
        res.date = options.date.replace(month=1)
        return res
    else:
        opts = dict(
            datetime=datetime(2019, 11, 6, 17, 37, 2, 987654),
            time=time(17, 37, 2, 987654),
            date=date(2019, 11, 6),
            timedelta=timedelta(microseconds=987654),
            inner=True,
        )
        jid = subjobs.build('test_datetime', options=opts)
        res = jid.load()
        assert res.datetime == datetime(2019, 11, 6, 17, 37, 3, 975308)
        assert res.time == time(17, 0, 2, 987654)
        assert res.date == date(2019, 1, 6)
        return 'ok'
""",
    )
    proj.build_script("def main(urd):\n    urd.build('test_datetime')\n")
    run_build(proj.project())
    outer = [j for j in proj.stored("test_datetime") if not j.options["inner"]]
    assert [j.load() for j in outer] == ["ok"]


def test_exax_helpers_blob_and_json(proj: ProjectDir) -> None:
    proj.method(
        "helpers",
        """
from gitax import blob
from gitax.extras import json_encode, json_decode, json_save, json_load, OptionEnum

efgh = OptionEnum(chr(n) for n in range(101, 105))
options = dict(efgh=efgh.g)

def synthesis(job):
    blob.save({'a': 1}, 'x.pickle')
    json_save({'b': (1, 2), 's': {3}}, 'y.json')
    assert blob.load('x.pickle') == {'a': 1}
    assert json_load('y.json').b == [1, 2]
    assert json_decode(json_encode({'z': 1})).z == 1
    return options.efgh, sorted(job.files())
""",
    )
    proj.build_script(
        "def main(urd):\n    j = urd.build('helpers', efgh='h')\n"
        "    from gitax.extras import pickle_load, json_load\n"
        "    assert pickle_load('x.pickle', jobid=j) == {'a': 1}\n"
        "    assert json_load('y.json', jobid=j.id) == {'b': [1, 2], 's': [3]}\n"
    )
    run_build(proj.project())
    assert proj.stored("helpers")[0].load() == ("h", ["x.pickle", "y.json"])
    proj.build_script("def main(urd):\n    urd.build('helpers', efgh='a')\n")
    with pytest.raises(OptionError, match="'a' is not one of e f g h"):
        run_build(proj.project())
