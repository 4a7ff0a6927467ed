"""The example project in a real git repository, driven through the real CLI."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from conftest import example_in_git, git, gitax


def build(repo: Path) -> dict[str, list[str]]:
    return json.loads(gitax("build", "--json", cwd=repo).stdout.splitlines()[-1])


def methods_of(ids: list[str]) -> list[str]:
    return [i.rsplit("-", 1)[0] for i in ids]


def test_example_in_a_git_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    built_at = example_in_git(repo, "example")

    first = build(repo)
    assert methods_of(first["built"]) == ["parse", "clean", "train", "plot_data", "plot_train"]

    graph = repo / "results" / "graph.png"
    data = graph.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (720, 480)
    # .gitax/ and results/ are ignored; gitax.lock is new, to be committed with the code
    assert git("status", "--porcelain", cwd=repo) == "?? gitax.lock\n"
    from gitax.jobs.resultlock import read_lock

    locked = read_lock(repo)["graph.png"]
    assert locked.job == first["built"][-1] and locked.file == "graph.png"
    staged = dict(
        (line.split("\t")[1], line.split()[1])
        for line in git("ls-files", "-s", cwd=repo).splitlines()
    )
    assert dict(locked.sources) == {
        path: staged[path]  # the ids git itself computes
        for path in [
            "methods/a_clean.py",
            "methods/a_parse.py",
            "methods/a_plot_train.py",
            "methods/a_train.py",
            "methods/plotting.py",
        ]
    }
    git("add", "gitax.lock", cwd=repo)
    git("commit", "-qm", "results", cwd=repo)
    head = git("rev-parse", "HEAD", cwd=repo).strip()

    second = build(repo)
    assert second == {"built": [], "reused": first["built"]}

    info = json.loads(gitax("show", first["built"][2], "--json", cwd=repo).stdout)
    assert info["git"] == {"commit": built_at, "dirty": False} and built_at != head

    # Edit one method: exactly it and its downstream jobs run again.
    method = repo / "methods" / "a_train.py"
    method.write_text(method.read_text() + "\n# a comment changes the key\n")
    third = build(repo)
    assert methods_of(third["built"]) == ["train", "plot_train"]
    assert methods_of(third["reused"]) == ["parse", "clean", "plot_data"]
    assert set(third["reused"]) <= set(first["built"])
    assert graph.resolve().parent.name == third["built"][-1]  # the result follows the new job

    # Edit the shared helper: both plots, and nothing else, run again.
    helper = repo / "methods" / "plotting.py"
    helper.write_text(helper.read_text() + "\n# helper edit\n")
    fourth = build(repo)
    assert methods_of(fourth["built"]) == ["plot_data", "plot_train"]
