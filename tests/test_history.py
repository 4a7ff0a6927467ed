"""History: checkout of jobs and results, diff, lineage, log and show of sessions."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import pytest
from conftest import ProjectDir, example_in_git, git, gitax

from gitax.jobs.checkout import CheckoutError, checkout_job
from gitax.jobs.job import Job
from gitax.run.build import run_build


@pytest.fixture
def history(proj: ProjectDir) -> ProjectDir:
    """A project in git with one method whose output depends on an option."""
    proj.method(
        "make",
        """
        options = dict(text="one")
        def synthesis(job):
            with job.open("out.txt", "w") as fh:
                fh.write(options.text)
            print("made", options.text)
            return len(options.text)
        """,
    )
    proj.build_script(
        """
        def main(urd):
            urd.build("make", text="one").link_result("out.txt")
        """
    )
    git("init", "-q", cwd=proj.root)
    return proj


def build_and_commit(proj: ProjectDir, text: str) -> str:
    proj.build_script(
        f'def main(urd):\n    urd.build("make", text={text!r}).link_result("out.txt")\n'
    )
    run_build(proj.project())
    git("add", "-A", cwd=proj.root)
    git("commit", "-qm", text, cwd=proj.root)
    return git("rev-parse", "HEAD", cwd=proj.root).strip()


def test_checkout_job_after_its_workdir_was_evicted(history: ProjectDir, tmp_path: Path) -> None:
    job = run_build(history.project()).built[0]
    shutil.rmtree(job.path)  # evict
    dest = checkout_job(Job(job.id, history.project()), tmp_path / "co")
    assert (dest / "out.txt").read_text() == "one"
    assert (dest / "OUTPUT" / "synthesis").read_text() == "made one\n"
    assert (dest / "source" / "methods" / "a_make.py").read_text().lstrip().startswith("options")
    assert json.loads((dest / "params.json").read_text())["options"] == {"text": "one"}
    assert pickle.loads((dest / "value.pickle").read_bytes()) == 3
    assert json.loads((dest / "manifest.json").read_text())["id"] == job.id
    with pytest.raises(CheckoutError, match="not empty"):
        checkout_job(job, dest)


def test_checkout_job_cli_defaults_to_a_folder_named_by_the_id(history: ProjectDir) -> None:
    job = run_build(history.project()).built[0]
    out = gitax("checkout", job.id[:10], cwd=history.root).stdout
    assert out.strip() == f"{job.id} checked out in {job.id}"
    assert (history.root / job.id / "out.txt").read_text() == "one"


def test_checkout_results_follows_git_revisions(history: ProjectDir) -> None:
    old = build_and_commit(history, "one")
    build_and_commit(history, "two")
    result = history.root / "results" / "out.txt"
    assert result.read_text() == "two"
    out = gitax("checkout", "--results", old, cwd=history.root).stdout
    assert "linked   results/out.txt" in out
    assert result.read_text() == "one"
    gitax("checkout", "--results", cwd=history.root)  # HEAD
    assert result.read_text() == "two"


def test_checkout_results_names_what_is_missing(history: ProjectDir) -> None:
    build_and_commit(history, "one")
    shutil.rmtree(history.root / ".gitax")  # a fresh clone: no local store
    proc = gitax("checkout", "--results", cwd=history.root, check=False)
    assert proc.returncode == 1
    assert "not in the local store: results/out.txt (make-" in proc.stderr
    assert "gitax build" in proc.stderr


def test_checkout_results_removes_stale_links_but_not_user_files(history: ProjectDir) -> None:
    build_and_commit(history, "one")
    results = history.root / "results"
    stale_target = next((history.root / ".gitax" / "work").iterdir()) / "out.txt"
    os.symlink(os.path.relpath(stale_target, results), results / "old.txt")
    (results / "mine.txt").write_text("keep me")
    out = gitax("checkout", "--results", cwd=history.root).stdout
    assert "removed  results/old.txt" in out
    assert not (results / "old.txt").exists() and (results / "mine.txt").read_text() == "keep me"


def test_bad_revision_is_a_clear_error(history: ProjectDir) -> None:
    build_and_commit(history, "one")
    proc = gitax("checkout", "--results", "nosuchrev", cwd=history.root, check=False)
    assert proc.returncode == 1 and "no git revision 'nosuchrev'" in proc.stderr


def test_log_and_show_sessions(proj: ProjectDir) -> None:
    proj.method("a", "options = dict(x=0)\ndef synthesis():\n    return options.x\n")
    proj.build_script(
        """
        def main(urd):
            for day, x in ((5, 1), (6, 2)):
                urd.begin("main", "2023-01-0%d" % day, caption="day %d" % day)
                urd.build("a", x=x)
                urd.finish("main")
            urd.begin("other", "2023-01-07")
            urd.build("a", x=1)
            urd.finish("other")
        """
    )
    run_build(proj.project())
    out = gitax("log", "main", cwd=proj.root).stdout
    assert out.index("main@2023-01-06  day 6") < out.index("main@2023-01-05  day 5")
    assert "built   a-" in out
    every = json.loads(gitax("log", "--sessions", "--json", cwd=proj.root).stdout)
    assert [s["ref"] for s in every] == ["other@2023-01-07", "main@2023-01-06", "main@2023-01-05"]
    assert every[0]["joblist"][0]["built"] is False  # a=1 was reused in "other"
    assert len(json.loads(gitax("log", "-n", "1", "--json", cwd=proj.root).stdout)) == 1
    builds = json.loads(gitax("log", "--builds", "--json", cwd=proj.root).stdout)
    assert [b["kind"] for b in builds] == ["build"] and builds[0]["ok"] is True
    shown = gitax("show", "main~1", cwd=proj.root).stdout
    assert "session  main@2023-01-05" in shown and "caption  day 5" in shown
    doc = json.loads(gitax("show", "main@2023-01-06", "--json", cwd=proj.root).stdout)
    assert doc["caption"] == "day 6"
    doc = json.loads(gitax("show", "main@2023-02-01", "--json", cwd=proj.root).stdout)
    assert doc["caption"] == "day 6"  # the latest at or before
    proc = gitax("show", "main@2023-01-01", cwd=proj.root, check=False)
    assert proc.returncode == 1 and "sessions run from 2023-01-05" in proc.stderr


def test_diff_of_two_real_builds(proj: ProjectDir) -> None:
    proj.method(
        "make",
        """
        options = dict(text="one", scale=1)
        def synthesis(job):
            job.json_save({"text": options.text}, "out.json")
            if options.scale > 1:
                job.json_save({}, "extra.json")
            return options.text * options.scale
        """,
    )
    proj.method("use", "jobs = ('src',)\ndef synthesis():\n    return jobs.src.load()\n")
    proj.build_script(
        """
        def main(urd):
            urd.begin("main", "2023-01-05")
            urd.build("use", src=urd.build("make"))
            urd.finish("main")
        """
    )
    run_build(proj.project())
    path = proj.root / "methods" / "a_make.py"
    path.write_text(path.read_text().replace("return options.text", "return 'v2 ' + options.text"))
    proj.build_script(
        """
        def main(urd):
            urd.begin("main", "2023-01-06")
            urd.build("use", src=urd.build("make", scale=2))
            urd.finish("main")
        """
    )
    run_build(proj.project())
    sessions = json.loads(gitax("diff", "main~1", "main", "--json", cwd=proj.root).stdout)
    assert [(j["name"], j["status"]) for j in sessions["jobs"]] == [
        ("make", "changed"),
        ("use", "changed"),
    ]
    ids = [j["a"] for j in sessions["jobs"]] + [j["b"] for j in sessions["jobs"]]
    doc = json.loads(gitax("diff", ids[0], ids[2], "--json", cwd=proj.root).stdout)
    assert doc["options"] == {"scale": [1, 2]}
    assert doc["files"] == {"extra.json": {"status": "added", "size": [None, 3]}}
    assert doc["value"] == ["'one'", "'v2 oneone'"]
    assert "-    return options.text" in doc["sources"]["methods/a_make.py"]["diff"]
    text = gitax("diff", ids[0], ids[2], cwd=proj.root).stdout
    assert "option   scale: 1 -> 2" in text and "file     added    extra.json" in text
    use = json.loads(gitax("diff", ids[1], ids[3], "--json", cwd=proj.root).stdout)
    assert use["jobs"] == {"src": [ids[0], ids[2]]} and use["sources"] == {}
    same = gitax("diff", ids[0], ids[0], cwd=proj.root).stdout
    assert "are the same job" in same


def test_lineage_of_the_examples_graph(tmp_path: Path) -> None:
    repo = tmp_path / "cars"
    head = example_in_git(repo, "cars")
    gitax("build", cwd=repo)
    graph = json.loads(gitax("lineage", "results/graph.png", "--json", cwd=repo).stdout)
    nodes = graph["nodes"]
    assert graph["result"]["path"] == "graph.png"
    assert sorted(n["method"] for n in nodes.values()) == ["clean", "parse", "plot_train", "train"]
    assert all(n["commit"] == head for n in nodes.values())
    parse = next(n for n in nodes.values() if n["method"] == "parse")
    import hashlib

    data = (repo / "data" / "cars.csv").read_bytes()
    assert parse["inputs"] == [
        {"path": "data/cars.csv", "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    ]
    staged = {
        line.split("\t")[1]: line.split()[1]
        for line in git("ls-files", "-s", cwd=repo).splitlines()
    }
    for node in nodes.values():
        for s in node["sources"]:
            assert s["git"] == staged[s["path"]]
    tree = gitax("lineage", "graph.png", cwd=repo).stdout
    assert tree.splitlines()[0] == "results/graph.png  = graph.png of"
    assert "input  data/cars.csv  sha256 " in tree and "(see above)" in tree
    dot = gitax("lineage", graph["root"], "--dot", cwd=repo).stdout
    assert dot.startswith("digraph lineage {") and dot.rstrip().endswith("}")
    assert '"data/cars.csv@' in dot
    proc = gitax("lineage", "results/nope.png", cwd=repo, check=False)
    assert proc.returncode == 1 and "not a result in gitax.lock" in proc.stderr
