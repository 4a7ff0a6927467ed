"""The real CLI in real processes: output formats, -C, and one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click
import pytest
from conftest import REPO, ProjectDir, gitax, write


@pytest.fixture
def example(tmp_path: Path) -> Path:
    dest = tmp_path / "cars"
    shutil.copytree(
        REPO / "examples" / "cars", dest, ignore=shutil.ignore_patterns(".gitax", "results")
    )
    return dest


def test_version() -> None:
    from gitax import __version__

    assert gitax("--version").stdout.strip() == f"gitax {__version__}"


def test_build_prints_a_line_per_job_and_a_summary(example: Path) -> None:
    out = gitax("-C", str(example), "build").stdout
    lines = out.splitlines()
    built = [line.split()[1] for line in lines if line.startswith("built ")]
    assert [b.split("-")[0] for b in built] == [
        "parse",
        "clean",
        "train",
        "plot_data",
        "plot_train",
    ]
    assert "50 rows with columns speed_mph, dist_ft" in out  # live job output
    assert lines[-1].startswith("5 built, 0 reused in ")
    again = gitax("-C", str(example), "build").stdout.splitlines()
    assert [line.split()[1] for line in again if line.startswith("reused ")] == built
    assert again[-1].startswith("0 built, 5 reused in ")


def test_build_json_is_the_last_stdout_line_and_output_goes_to_stderr(example: Path) -> None:
    proc = gitax("build", "--json", cwd=example)
    doc = json.loads(proc.stdout.splitlines()[-1])
    assert len(doc["built"]) == 5 and doc["reused"] == []
    assert "50 rows" in proc.stderr and "50 rows" not in proc.stdout
    doc2 = json.loads(gitax("build", "--json", cwd=example / "methods").stdout.splitlines()[-1])
    assert doc2 == {"built": [], "reused": doc["built"]}


def test_show_text_json_source_output_files(example: Path) -> None:
    doc = json.loads(gitax("build", "--json", cwd=example).stdout.splitlines()[-1])
    train = next(j for j in doc["built"] if j.startswith("train-"))
    clean = next(j for j in doc["built"] if j.startswith("clean-"))
    text = gitax("show", train, cwd=example).stdout
    assert f"job      {train}" in text
    assert f"jobs     data={clean}" in text
    assert "'slope': 0.74" in text
    assert "model.json" in text
    info = json.loads(gitax("show", train[:10], "--json", cwd=example).stdout)
    assert info["id"] == train and info["method"] == "train"
    assert info["jobs"]["data"]["id"] == clean
    assert set(info["sources"]) == {"methods/a_train.py"}
    assert info["files"]["model.json"]["size"] > 0
    assert info["timing"]["wall"] > 0 and info["env"]["python"]
    src = gitax("show", train, "--source", cwd=example).stdout
    assert src == (example / "methods" / "a_train.py").read_text()
    assert "distance = -5.358" in gitax("show", train, "--output", cwd=example).stdout
    assert "model.json" in gitax("show", train, "--files", cwd=example).stdout
    plot = next(j for j in doc["built"] if j.startswith("plot_train-"))
    src = gitax("show", plot, "--source", cwd=example).stdout
    assert "==> methods/plotting.py <==" in src


def test_methods_and_scripts(example: Path) -> None:
    listing = gitax("methods", cwd=example).stdout
    assert "parse" in listing and "Read a CSV file" in listing
    one = gitax("methods", "parse", cwd=example).stdout
    assert "option   filename: str (default None)" in one
    assert "option   sep: str = ','" in one
    doc = json.loads(gitax("methods", "plot_train", "--json", cwd=example).stdout)
    assert doc["jobs"] == {"data": "one", "model": "one"}
    assert doc["sources"] == ["methods/a_plot_train.py", "methods/plotting.py"]
    scripts = json.loads(gitax("scripts", "--json", cwd=example).stdout)
    assert list(scripts) == ["build.py"] and "parse -> clean" in scripts["build.py"]


def test_init_keeps_existing_methods_and_data(tmp_path: Path) -> None:
    write(tmp_path / "methods" / "a_mine.py", "def synthesis():\n    return 1\n")
    write(tmp_path / "data" / "in.csv", "x\n")
    out = gitax("-C", str(tmp_path), "init").stdout
    assert "created  gitax.toml" in out and "kept     methods/" in out
    assert (tmp_path / "methods" / "a_mine.py").read_text().startswith("def synthesis")
    assert (tmp_path / "data" / "in.csv").read_text() == "x\n"
    assert (tmp_path / ".gitax" / "format").read_text() == "gitax-store 1\n"
    assert (tmp_path / ".gitignore").read_text().splitlines() == ["/.gitax/", "/results/"]
    again = gitax("-C", str(tmp_path), "init").stdout
    assert "kept     gitax.toml" in again
    assert (tmp_path / ".gitignore").read_text().splitlines() == ["/.gitax/", "/results/"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["build"], "no gitax project (gitax.toml) in"),
        (["-C", "/no/such/dir", "build"], "-C /no/such/dir: no such directory"),
    ],
)
def test_errors_outside_a_project(tmp_path: Path, args: list[str], message: str) -> None:
    proc = gitax(*args, cwd=tmp_path, check=False)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gitax: error: ")
    assert message in proc.stderr


def test_errors_are_one_line_and_exit_non_zero(proj: ProjectDir) -> None:
    (proj.root / "gitax.toml").write_text("[gitax]\nslice = 2\n")
    proc = gitax("build", cwd=proj.root, check=False)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1
    assert "unknown key gitax.slice" in proc.stderr
    (proj.root / "gitax.toml").write_text("[gitax]\n")
    proc = gitax("show", "nothing-abcd", cwd=proj.root, check=False)
    assert proc.returncode == 1 and "no stored job 'nothing-abcd'" in proc.stderr
    proc = gitax("methods", "nope", cwd=proj.root, check=False)
    assert proc.returncode == 1 and "no method 'nope'" in proc.stderr


def test_failed_job_shows_traceback_and_where_it_is_kept(proj: ProjectDir) -> None:
    proj.method("boom", "def synthesis():\n    raise KeyError('missing column')\n")
    proj.build_script("def main(urd):\n    urd.build('boom')\n")
    proc = gitax("build", cwd=proj.root, check=False)
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "a_boom.py" in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("gitax: error: build.py:2: job boom-")
    assert "failed in synthesis: KeyError: 'missing column'" in last
    assert ".gitax/failed/boom-" in last


def test_show_survives_a_value_it_cannot_unpickle(proj: ProjectDir) -> None:
    proj.method(
        "custom",
        "class Point:\n    pass\n\ndef synthesis():\n    return Point()\n",
    )
    proj.build_script("def main(urd):\n    urd.build('custom')\n")
    doc = json.loads(gitax("build", "--json", cwd=proj.root).stdout.splitlines()[-1])
    out = gitax("show", doc["built"][0], cwd=proj.root).stdout
    assert "value    <cannot unpickle here: " in out


def test_init_ignores_a_configured_store_and_results(tmp_path: Path) -> None:
    write(tmp_path / "gitax.toml", '[gitax]\nstore = "cache/store"\nresults = "out"\n')
    write(tmp_path / ".gitignore", "*.pyc")  # no trailing newline: kept intact
    gitax("init", cwd=tmp_path)
    assert (tmp_path / ".gitignore").read_text() == "*.pyc\n/cache/store/\n/out/\n"


def test_every_command_has_help() -> None:
    from click.testing import CliRunner

    from gitax.cli.main import cli

    def commands(group: click.Group, path: list[str]) -> list[tuple[list[str], click.Command]]:
        found = []
        for name in group.list_commands(click.Context(group)):
            command = group.get_command(click.Context(group), name)
            assert command is not None, f"gitax {' '.join([*path, name])} does not load"
            found.append(([*path, name], command))
            if isinstance(command, click.Group):
                found += commands(command, [*path, name])
        return found

    every = commands(cli, [])
    assert {"build", "show", "push", "remote add", "hooks install"} <= {
        " ".join(p) for p, _ in every
    }
    for path, command in every:
        result = CliRunner().invoke(cli, [*path, "--help"], prog_name="gitax")
        where = f"gitax {' '.join(path)} --help"
        assert result.exit_code == 0, f"{where}: {result.output}"
        assert result.output.startswith(f"Usage: gitax {' '.join(path)} "), where
        assert command.get_short_help_str().strip(), f"{where} says nothing of what it does"
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert param.help, f"{where}: {param.opts[0]} has no help"
