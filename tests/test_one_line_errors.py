"""Bad input of every kind is one line naming the thing (never a traceback), and loses
nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ProjectDir, gitax

from gitax.jobs.manifest import ManifestError, TreeEntry, parse_tree
from gitax.store.hashing import canonical_json


def one_line(proc, *wanted: str) -> str:  # type: ignore[no-untyped-def]
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("gitax: error: ") and len(line) < 600, line
    for w in wanted:
        assert w in line, line
    return line


@pytest.mark.parametrize(
    "declaration, wanted",
    [
        ('options = dict(x=1 + "a")', "TypeError"),
        ("from datetime import date\noptions = dict(d=date(2023, 13, 1))", "month must be"),
    ],
)
def test_a_declaration_that_fails_is_one_line(
    proj: ProjectDir, declaration: str, wanted: str
) -> None:
    proj.method("m", f"{declaration}\ndef synthesis():\n    pass\n")
    proj.build_script("def main(urd):\n    urd.build('m')\n")
    one_line(gitax("build", cwd=proj.root, check=False), "a_m.py:", "declaration fails", wanted)


@pytest.mark.parametrize(
    "call, wanted",
    [
        ("urd.build('m', x=chr(0xd800))", "lone surrogate"),
        ("urd.build('m', n=10**5000)", "too large to key"),
        ("urd.build('m', x=10**5000)", "must be str, not int"),
        ("urd.build('m', f=10**400)", "must be float"),
        ("urd.build('m', x=['a' * 5000])", "must be str, not list"),
        ("urd.build('m', **{'y' * 5000: 1})", "unknown parameter"),
    ],
)
def test_an_option_value_no_key_can_hold_is_one_short_line(
    proj: ProjectDir, call: str, wanted: str
) -> None:
    proj.method("m", "options = dict(x='', n=0, f=0.5)\ndef synthesis():\n    pass\n")
    proj.build_script(f"def main(urd):\n    {call}\n")
    one_line(gitax("build", cwd=proj.root, check=False), wanted)
    assert list(proj.project().store.index.keys()) == []


@pytest.mark.parametrize(
    "body, wanted",
    [
        ("open('OUTPUT', 'w').write('x')\n    print('output')", "a file named OUTPUT"),
        ("job.save(1, 'OUTPUT/x')", "OUTPUT holds the job's captured output"),
        ("open('a\\nb', 'w').write('x')", "unsafe path in a job"),
        ("open(b'caf\\xe9', 'w').write('x')", "is not UTF-8"),
    ],
)
def test_a_file_no_store_can_hold_fails_the_job_cleanly(
    proj: ProjectDir, body: str, wanted: str
) -> None:
    proj.method("m", f"def synthesis(job):\n    {body}\n")
    proj.build_script("def main(urd):\n    urd.build('m')\n")
    proc = gitax("build", cwd=proj.root, check=False)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert "job m-" in last and "failed" in last and wanted in last
    assert list(proj.project().store.index.keys()) == []
    assert gitax("fsck", cwd=proj.root).returncode == 0


def test_a_tree_holding_a_file_and_a_folder_of_one_name_is_refused() -> None:
    entry = {"id": "ab" * 32, "size": 1, "exec": False}
    data = canonical_json({"format": 1, "files": {"x": entry, "x/y": entry}})
    with pytest.raises(ManifestError, match="tree holds both 'x' and 'x/y'"):
        parse_tree(data)
    assert parse_tree(canonical_json({"format": 1, "files": {"x/y": entry}})) == {
        "x/y": TreeEntry("ab" * 32, 1, False)
    }


@pytest.fixture
def built(proj: ProjectDir) -> ProjectDir:
    proj.method("m", "def synthesis(job):\n    job.save(1, 'one')\n")
    proj.build_script(
        "def main(urd):\n    urd.begin('main')\n    urd.build('m')\n    urd.finish('main')\n"
    )
    gitax("build", cwd=proj.root)
    return proj


def test_checkout_where_no_folder_can_be_made_is_one_line(built: ProjectDir) -> None:
    (jid,) = json.loads(gitax("build", "--json", cwd=built.root).stdout.splitlines()[-1])["reused"]
    (built.root / "afile").write_text("x")
    one_line(gitax("checkout", jid, "/proc/x", cwd=built.root, check=False), "/proc")
    one_line(
        gitax("checkout", jid, str(built.root / "afile" / "x"), cwd=built.root, check=False),
        "afile",
    )
    assert (built.root / "afile").read_text() == "x"


def test_a_malformed_urd_line_is_one_line_naming_the_list(
    built: ProjectDir, tmp_path: Path
) -> None:
    with open(built.root / ".gitax" / "urd" / "main.urd", "a") as fh:
        fh.write('{"v": 1, "op": "session"}\n')
    gitax("remote", "add", "r", str(tmp_path / "r"), cwd=built.root)
    for command in (["gc"], ["push", "r"], ["log", "main"]):
        one_line(gitax(*command, cwd=built.root, check=False), "main", "malformed urd entry")


def test_a_5000_character_argument_makes_a_short_line(built: ProjectDir) -> None:
    long = "a" * 5000
    for command in (["show", long], ["log", long], ["checkout", long, "/tmp/x"], ["pull", long]):
        one_line(gitax(*command, cwd=built.root, check=False))
