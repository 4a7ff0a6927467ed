"""Why a job runs, `gitax build --dry-run`, and a reader that goes away."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, ProjectDir, gitax, write

from gitax.jobs.urdlog import UrdLists


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under the project (store included), with its bytes or link target."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = Path(dirpath) / f
            out[str(p.relative_to(root))] = (
                os.readlink(p).encode() if p.is_symlink() else p.read_bytes()
            )
    return out


@pytest.fixture
def chain(proj: ProjectDir) -> ProjectDir:
    write(proj.root / "methods" / "helper.py", "K = 1\n")
    proj.method("a", "options = dict(lr=0.1)\ndef synthesis():\n    return options.lr\n")
    proj.method(
        "b",
        "from helper import K\njobs = ('src',)\n"
        "def synthesis(job):\n    job.save(K, 'k')\n    return jobs.src.load() * K\n",
    )
    proj.build_script(
        """
        def main(urd):
            urd.begin("main", "2023-01-05")
            a = urd.build("a", lr=0.1)
            urd.build("b", src=a).link_result("k")
            urd.finish("main")
        """
    )
    return proj


def building_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(("building", "would build"))]


def test_each_built_job_says_why(chain: ProjectDir) -> None:
    first = building_lines(gitax("build", cwd=chain.root).stdout)
    assert [line.split("  ", 1)[1] for line in first] == ["(new method)", "(new method)"]
    chain.build_script(
        """
        def main(urd):
            urd.begin("main", "2023-01-06")
            a = urd.build("a", lr=0.2)
            urd.build("b", src=a).link_result("k")
            urd.finish("main")
        """
    )
    second = building_lines(gitax("build", cwd=chain.root).stdout)
    assert second[0].endswith("(option lr: 0.1 -> 0.2)")
    assert "(input src: a-" in second[1] and " -> a-" in second[1]
    write(chain.root / "methods" / "helper.py", "K = 2\n")
    script = chain.root / "build.py"
    script.write_text(script.read_text().replace("2023-01-06", "2023-01-07"))
    third = building_lines(gitax("build", cwd=chain.root).stdout)
    assert len(third) == 1 and third[0].endswith("(source changed: methods/helper.py)")


def test_a_job_says_why_against_one_built_earlier_in_the_same_build(chain: ProjectDir) -> None:
    chain.build_script(
        """
        def main(urd):
            urd.build("a", lr=0.1)
            urd.build("a", lr=0.3)
        """
    )
    lines = building_lines(gitax("build", cwd=chain.root).stdout)
    assert lines[0].endswith("(new method)") and lines[1].endswith("(option lr: 0.1 -> 0.3)")
    # ...and the next build compares with what the same line built last time: the first.
    chain.build_script("def main(urd):\n    urd.build('a', lr=0.5)\n")
    again = building_lines(gitax("build", cwd=chain.root).stdout)
    assert again == [again[0]] and again[0].endswith("(option lr: 0.1 -> 0.5)")


def test_dry_run_lists_what_would_run_and_why_and_writes_nothing(chain: ProjectDir) -> None:
    gitax("build", cwd=chain.root)
    chain.method("a", "options = dict(lr=0.1)\ndef synthesis():\n    return options.lr * 1\n")
    chain.build_script(
        """
        def main(urd):
            urd.begin("main", "2023-01-06")
            a = urd.build("a", lr=0.1)
            urd.build("b", src=a).link_result("k")
            urd.finish("main")
        """
    )
    before = snapshot(chain.root)
    proc = gitax("build", "--dry-run", "--json", cwd=chain.root)
    assert snapshot(chain.root) == before  # no job, no lock, no link, no urd session
    doc = json.loads(proc.stdout.splitlines()[-1])
    assert [w["id"].split("-")[0] for w in doc["would_build"]] == ["a", "b"]
    assert doc["would_build"][0]["why"] == ["source changed: methods/a_a.py"]
    assert doc["would_build"][1]["why"][0].startswith("input src: a-")
    assert doc["would_build"][1]["why"][0].endswith(f"-> {doc['would_build'][0]['id']}")
    assert doc["stopped"] == ""
    assert "dry run: 2 would be built, 0 reused; nothing ran" in proc.stderr
    assert len(UrdLists(chain.root / ".gitax" / "urd").sessions("main")) == 1


def test_dry_run_stops_where_the_script_needs_a_value_that_would_be_built(
    chain: ProjectDir,
) -> None:
    chain.build_script(
        """
        def main(urd):
            a = urd.build("a", lr=0.5)
            urd.build("a", lr=a.load() * 2)
        """
    )
    out = gitax("build", "--dry-run", cwd=chain.root).stdout
    assert "would build a-" in out
    assert "dry run stopped: build.py:3: the build script reads a-" in out
    assert "which would be built first" in out
    assert list((chain.root / ".gitax" / "index").iterdir()) == []


def test_a_reader_that_goes_away_does_not_stop_the_build(chain: ProjectDir) -> None:
    chain.method(
        "a",
        "options = dict(lr=0.1)\ndef synthesis():\n"
        "    for i in range(20000):\n        print('line', i)\n    return options.lr\n",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitax", "build"],
        cwd=chain.root,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.read(100)
    proc.stdout.close()  # like `gitax build | head`
    proc.wait(timeout=60)
    out = gitax("build", "--json", cwd=chain.root).stdout
    assert json.loads(out.splitlines()[-1])["built"] == []  # every job got stored
