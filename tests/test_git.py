"""git integration in real repositories: verify, the hooks, and git state in jobs."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, gitax, write

from gitax.jobs.job import Job
from gitax.jobs.project import Project


def git(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=check,
        capture_output=True,
        text=True,
        env=env,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository holding a gitax project (in a subfolder, as in real life), with
    the hooks installed by `gitax init`, built and committed."""
    root = tmp_path / "repo"
    project = root / "analysis"
    write(project / "data" / "in.txt", "3\n")
    write(
        project / "methods" / "a_double.py",
        """
        def synthesis(job):
            n = int(open(job.input_filename("in.txt")).read())
            with job.open("out.txt", "w") as fh:
                fh.write(str(n * 2))
        """,
    )
    write(project / "methods" / "a_other.py", "def synthesis():\n    return 1\n")
    write(
        project / "build.py",
        "def main(urd):\n    urd.build('double').link_result('out.txt')\n    urd.build('other')\n",
    )
    git("init", "-q", cwd=root)
    out = gitax("init", cwd=project).stdout
    assert "installed" in out and "pre-commit" in out
    gitax("build", cwd=project)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "first", cwd=root)
    return project


def edit_method(project: Path, new: str) -> None:
    import re

    path = project / "methods" / "a_double.py"
    path.write_text(re.sub(r"n \* \d", new, path.read_text()))


def test_verify_is_fresh_after_a_build(repo: Path) -> None:
    proc = gitax("verify", cwd=repo)
    assert proc.stdout.strip() == "1 result up to date with the code"
    assert gitax("verify", "--staged", cwd=repo).returncode == 0


def test_verify_names_the_stale_result_the_changed_file_and_the_fix(repo: Path) -> None:
    edit_method(repo, "n * 3")
    proc = gitax("verify", cwd=repo, check=False)
    assert proc.returncode == 1
    assert proc.stdout.strip() == (
        "stale: results/out.txt: methods/a_double.py changed (in the work tree) since it was "
        "built; run `gitax build`"
    )
    doc = json.loads(gitax("verify", "--json", cwd=repo, check=False).stdout)
    assert doc["stale"] == [
        {
            "result": "out.txt",
            "reason": "methods/a_double.py changed (in the work tree) since it was built",
            "changed": ["methods/a_double.py"],
            "fix": "run `gitax build`",
        }
    ]
    # --staged looks at the index, where nothing changed yet
    assert gitax("verify", "--staged", cwd=repo).returncode == 0


def test_an_edited_input_file_is_said_aloud_by_build_and_verify(repo: Path) -> None:
    assert '"data/in.txt"' in (repo / "gitax.lock").read_text()  # its sha256 is locked
    (repo / "data" / "in.txt").write_text("4\n")
    out = gitax("build", cwd=repo).stdout
    assert "note     input data/in.txt changed since double-" in out
    assert "0 built, 2 reused" in out  # exax's rule: inputs are not in the key
    proc = gitax("verify", cwd=repo, check=False)
    assert proc.returncode == 1
    assert "stale: results/out.txt: input data/in.txt changed since it was read" in proc.stdout
    assert "depend_extra" in proc.stdout
    (repo / "data" / "in.txt").write_text("3\n")  # put back: fresh again
    assert gitax("verify", cwd=repo).returncode == 0
    assert "note" not in gitax("build", cwd=repo).stdout


def test_a_result_file_that_no_longer_matches_its_job_is_stale(repo: Path) -> None:
    target = (repo / "results" / "out.txt").resolve()
    os.chmod(target, 0o644)
    target.write_text("tampered")
    proc = gitax("verify", "out.txt", cwd=repo, check=False)
    assert proc.returncode == 1 and "no longer matches double-" in proc.stdout
    bad = gitax("verify", "results/nope.txt", cwd=repo, check=False)
    assert bad.returncode == 1 and "nope.txt is not a result in gitax.lock" in bad.stderr


def test_committing_a_changed_method_without_rebuilding_is_refused(repo: Path) -> None:
    root = repo.parent
    edit_method(repo, "n * 3")
    git("add", "-A", cwd=root)
    proc = git("commit", "-qm", "change", cwd=root, check=False)
    assert proc.returncode != 0
    said = proc.stdout + proc.stderr  # git shows a hook's output on stderr
    assert "stale: results/out.txt: methods/a_double.py changed (staged)" in said
    assert "git commit --no-verify skips this check" in said
    assert git("rev-list", "--count", "HEAD", cwd=root).stdout.strip() == "1"
    # rebuilding, then committing, passes
    gitax("build", cwd=repo)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "change, rebuilt", cwd=root)
    assert git("rev-list", "--count", "HEAD", cwd=root).stdout.strip() == "2"


@pytest.mark.parametrize(
    "how",
    [
        ["commit", "-qam", "change"],
        ["commit", "-qm", "change", "analysis/methods/a_double.py"],
        ["commit", "-q", "--amend", "-a", "-m", "first, amended"],
    ],
    ids=["commit -am", "commit PATH", "commit --amend -a"],
)
def test_commits_of_a_temporary_index_are_checked(repo: Path, how: list[str]) -> None:
    """git commits a temporary index ($GIT_INDEX_FILE) for these: the hook must read it."""
    root = repo.parent
    head = git("rev-parse", "HEAD", cwd=root).stdout
    edit_method(repo, "n * 3")  # changed in the work tree only, not staged
    proc = git(*how, cwd=root, check=False)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "stale: results/out.txt: methods/a_double.py changed (staged)" in proc.stderr
    assert git("rev-parse", "HEAD", cwd=root).stdout == head


def test_a_fresh_commit_am_after_a_build_passes(repo: Path) -> None:
    """The real index holds the new method but the old gitax.lock; the commit's index
    has both new."""
    root = repo.parent
    edit_method(repo, "n * 3")
    git("add", "analysis/methods/a_double.py", cwd=root)
    gitax("build", cwd=repo)
    proc = git("commit", "-qam", "change, rebuilt", cwd=root, check=False)
    assert proc.returncode == 0, proc.stderr
    assert git("rev-list", "--count", "HEAD", cwd=root).stdout.strip() == "2"


def test_no_verify_still_works(repo: Path) -> None:
    edit_method(repo, "n * 3")
    git("add", "-A", cwd=repo.parent)
    git("commit", "-qm", "on purpose", "--no-verify", cwd=repo.parent)


def test_an_unstaged_change_does_not_block_a_fresh_staged_commit(repo: Path) -> None:
    root = repo.parent
    edit_method(repo, "n * 3")
    gitax("build", cwd=repo)
    git("add", "-A", cwd=root)  # fresh: code and lock staged together
    edit_method(repo, "n * 5")  # a later edit, in the work tree only
    git("commit", "-qm", "fresh", cwd=root)
    assert gitax("verify", cwd=repo, check=False).returncode == 1  # the work tree is stale


def test_an_existing_user_hook_still_runs_and_uninstall_restores_it(tmp_path: Path) -> None:
    root = tmp_path / "r"
    write(root / "gitax.toml", "[gitax]\n")
    git("init", "-q", cwd=root)
    marker = tmp_path / "user-hook-ran"
    user_hook = root / ".git" / "hooks" / "pre-commit"
    user_hook.write_text(f"#!/bin/sh\necho ran >> {marker}\nexit 0\n")
    user_hook.chmod(0o755)
    out = gitax("hooks", "install", cwd=root).stdout
    assert "kept" in out and "pre-commit.pre-gitax" in out
    again = gitax("hooks", "install", cwd=root).stdout  # idempotent
    assert "nothing to do" in again
    assert (root / ".git" / "hooks" / "pre-commit.pre-gitax").exists()
    write(root / "f.txt", "x")
    git("add", "-A", cwd=root)
    git("commit", "-qm", "x", cwd=root)
    assert marker.read_text() == "ran\n"
    # a user hook that fails still stops the commit
    user_hook2 = root / ".git" / "hooks" / "pre-commit.pre-gitax"
    user_hook2.write_text("#!/bin/sh\necho 'user says no' >&2\nexit 3\n")
    write(root / "f.txt", "y")
    git("add", "-A", cwd=root)
    proc = git("commit", "-qm", "y", cwd=root, check=False)
    assert proc.returncode != 0 and "user says no" in proc.stderr
    gitax("hooks", "uninstall", cwd=root)
    assert user_hook.read_text() == "#!/bin/sh\necho 'user says no' >&2\nexit 3\n"
    assert not (root / ".git" / "hooks" / "pre-commit.pre-gitax").exists()
    assert not (root / ".git" / "hooks" / "post-merge").exists()


def test_core_hooks_path_is_honoured(tmp_path: Path) -> None:
    root = tmp_path / "r"
    write(root / "gitax.toml", "[gitax]\n")
    git("init", "-q", cwd=root)
    git("config", "core.hooksPath", "githooks", cwd=root)
    gitax("hooks", "install", cwd=root)
    assert (root / "githooks" / "pre-commit").exists()
    assert not (root / ".git" / "hooks" / "pre-commit").exists()


def test_hooks_in_a_shared_hooks_path_do_nothing_outside_a_gitax_project(tmp_path: Path) -> None:
    shared = tmp_path / "team-hooks"
    root, other = tmp_path / "r", tmp_path / "unrelated"
    write(root / "gitax.toml", "[gitax]\n")
    for repo in (root, other):
        repo.mkdir(exist_ok=True)
        git("init", "-q", cwd=repo)
        git("config", "core.hooksPath", str(shared), cwd=repo)
    gitax("hooks", "install", cwd=root)
    assert "# gitax project: ." in (shared / "pre-commit").read_text()
    write(other / "notes.txt", "no gitax here\n")
    git("add", "-A", cwd=other)
    proc = git("commit", "-qm", "unrelated", cwd=other, check=False)
    assert proc.returncode == 0, proc.stderr  # not blocked, and nothing said
    assert "gitax" not in proc.stderr
    write(other / "notes.txt", "again\n")
    git("checkout", "-q", "-b", "x", cwd=other)  # post-checkout too


def test_checking_out_an_older_commit_restores_its_results(repo: Path) -> None:
    root = repo.parent
    git("branch", "old", cwd=root)
    edit_method(repo, "n * 3")
    gitax("build", cwd=repo)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "triple", cwd=root)
    result = repo / "results" / "out.txt"
    assert result.read_text() == "9"
    git("checkout", "-q", "old", cwd=root)  # post-checkout follows
    assert result.read_text() == "6"
    git("checkout", "-q", "-", cwd=root)
    assert result.read_text() == "9"


def test_jobs_record_the_commit_and_whether_the_tree_was_dirty(repo: Path) -> None:
    root = repo.parent
    head = git("rev-parse", "HEAD", cwd=root).stdout.strip()
    write(repo / "methods" / "a_other.py", "def synthesis():\n    return 2\n")
    gitax("build", cwd=repo)
    project = Project.find(repo)
    doc = json.loads(gitax("build", "--json", cwd=repo).stdout.splitlines()[-1])
    jobs = {j.split("-")[0]: Job(j, project) for j in doc["reused"]}
    assert jobs["other"].manifest.git == {"commit": head, "dirty": True}
    # double was built before the first commit, from files git did not track yet
    assert jobs["double"].manifest.git == {"commit": None, "dirty": True}
    assert (
        jobs["other"].manifest.git_blobs["methods/a_other.py"]
        == git("hash-object", "methods/a_other.py", cwd=repo).stdout.strip()
    )


def test_a_job_built_from_an_untracked_method_is_dirty(repo: Path) -> None:
    write(repo / "methods" / "a_new.py", "def synthesis():\n    return 3\n")
    build = repo / "build.py"
    build.write_text(build.read_text() + "    urd.build('new')\n")
    git("add", "analysis/build.py", cwd=repo.parent)
    git("commit", "-qm", "call new", "--no-verify", cwd=repo.parent)
    doc = json.loads(gitax("build", "--json", cwd=repo).stdout.splitlines()[-1])
    project = Project.find(repo)
    (new,) = [Job(j, project) for j in doc["built"]]
    assert new.method == "new" and new.manifest.git["dirty"] is True  # a_new.py untracked
    git("add", "-A", cwd=repo.parent)
    git("commit", "-qm", "add new", "--no-verify", cwd=repo.parent)
    write(repo / "methods" / "a_new.py", "def synthesis():\n    return 4\n")
    git("commit", "-qam", "four", "--no-verify", cwd=repo.parent)
    doc = json.loads(gitax("build", "--json", cwd=repo).stdout.splitlines()[-1])
    (again,) = [Job(j, project) for j in doc["built"]]
    assert again.manifest.git["dirty"] is False  # tracked and committed: clean


def test_two_projects_in_one_repository_both_keep_their_hooks(repo: Path) -> None:
    root = repo.parent
    second = root / "second"
    write(
        second / "methods" / "a_one.py", "def synthesis(job):\n    open('o.txt', 'w').write('1')\n"
    )
    write(second / "build.py", "def main(urd):\n    urd.build('one').link_result('o.txt')\n")
    gitax("init", cwd=second)
    gitax("build", cwd=second)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "second project", cwd=root)
    hook = (root / ".git" / "hooks" / "pre-commit").read_text()
    assert "# gitax project: analysis" in hook and "# gitax project: second" in hook
    edit_method(repo, "n * 3")  # the first project's result goes stale
    proc = git("commit", "-qam", "stale first", cwd=root, check=False)
    assert proc.returncode != 0 and "methods/a_double.py changed (staged)" in proc.stderr
    git("checkout", "--", ".", cwd=root)
    write(
        second / "methods" / "a_one.py", "def synthesis(job):\n    open('o.txt', 'w').write('2')\n"
    )
    proc = git("commit", "-qam", "stale second", cwd=root, check=False)
    assert proc.returncode != 0 and "methods/a_one.py changed (staged)" in proc.stderr
    git("checkout", "--", ".", cwd=root)
    gitax("hooks", "uninstall", cwd=second)
    hook = (root / ".git" / "hooks" / "pre-commit").read_text()
    assert "# gitax project: analysis" in hook and "second" not in hook
    edit_method(repo, "n * 3")
    assert git("commit", "-qam", "still guarded", cwd=root, check=False).returncode != 0


def test_a_clone_without_hooks_is_told_once(repo: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git("clone", "-q", str(repo.parent), str(clone), cwd=tmp_path)
    first = gitax("build", cwd=clone / "analysis").stdout
    assert "no gitax hooks" in first and "gitax hooks install" in first
    assert "no gitax hooks" not in gitax("build", cwd=clone / "analysis").stdout
    assert "no gitax hooks" not in gitax("build", cwd=repo).stdout  # hooks are there


def test_hook_scripts_ship_in_the_package_and_the_repository() -> None:
    from gitax.git.hooks import HOOKS, SCRIPTS

    for name in HOOKS:
        shipped = SCRIPTS / name
        assert os.access(shipped, os.X_OK)
        assert (REPO / "hooks" / name).read_text() == shipped.read_text()
        assert "gitax " in shipped.read_text()
    spec = (REPO / ".pre-commit-hooks.yaml").read_text()
    assert "- id: gitax-verify" in spec and "entry: gitax verify --staged" in spec


def test_pre_push_sends_the_jobs_of_the_pushed_results(repo: Path, tmp_path: Path) -> None:
    from gitax.remote.pathfs import PathTransport

    root = repo.parent
    shared = tmp_path / "gitax-remote"
    gitax("remote", "add", "team", str(shared), "--default", cwd=repo)
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "remote", cwd=root)
    proc = git("push", "-q", "origin", "HEAD:main", cwd=root)
    assert "gitax: pre-push: pushed" in proc.stderr
    from gitax.jobs.resultlock import read_lock

    wanted = {r.key for r in read_lock(repo).values()}
    assert wanted and wanted <= PathTransport(str(shared)).list_index()


def test_pre_push_without_a_remote_says_so_and_lets_the_push_through(
    repo: Path, tmp_path: Path
) -> None:
    root = repo.parent
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=root)
    proc = git("push", "-q", "origin", "HEAD:main", cwd=root)
    assert "no default gitax remote; results not pushed" in proc.stderr
