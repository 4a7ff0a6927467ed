"""Stores and remotes shared between users: real second and third uids (setpriv), the
umask honoured everywhere, and `[gitax] shared = "group"` for a team's common store."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, _need, write

GROUP = 50000
ALICE, BOB = 50001, 50002


def as_user(uid: int, *args: str, cwd: Path, umask: int = 0o022) -> subprocess.CompletedProcess:
    """gitax run by another uid (its own primary group, and the team's group)."""
    env = dict(os.environ, PYTHONPATH=str(REPO), USER=f"u{uid}", HOME=str(cwd))
    cmd = [
        "setpriv", f"--reuid={uid}", f"--regid={uid}", f"--groups={GROUP}", "--",
        "sh", "-c", f'umask {umask:03o}; exec "$@"', "sh", sys.executable, "-m", "gitax", *args,
    ]  # fmt: skip
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture
def place() -> Iterator[Path]:
    """A folder every test uid can reach (pytest's own tmp is 0700), owned by the team."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        _need("root and setpriv", "run the tests as root, as CI does")
    probe = subprocess.run(
        ["setpriv", f"--reuid={ALICE}", f"--regid={ALICE}", "--clear-groups", sys.executable,
         "-c", "import click, dulwich, zstandard"],
        capture_output=True,
    )  # fmt: skip
    if probe.returncode != 0:
        _need(
            "a second uid that can run this Python",
            "let other users search the folders above it: .ci/run does chmod o+x",
        )
    root = Path(tempfile.mkdtemp(prefix="gitax-shared-", dir="/tmp"))
    os.chown(root, 0, GROUP)
    os.chmod(root, 0o2775)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def project(root: Path, owner: int, shared: bool) -> Path:
    write(root / "gitax.toml", '[gitax]\nshared = "group"\n' if shared else "[gitax]\n")
    write(root / "methods" / "a_sq.py", "options = dict(x=2)\ndef synthesis(job):\n"
          "    job.save(options.x ** 2, 'sq')\n    return options.x ** 2\n")  # fmt: skip
    write(root / "build.py", "import os\ndef main(urd):\n"
          "    urd.build('sq', x=int(os.environ.get('X', '2')))\n")  # fmt: skip
    for p in [root, *root.rglob("*")]:
        os.chown(p, owner, GROUP)
    return root


def test_a_private_store_is_readable_by_others_as_the_umask_says(place: Path) -> None:
    alice = project(place / "alice", ALICE, shared=False)
    os.chmod(alice, 0o755)
    out = json.loads(ok(as_user(ALICE, "build", "--json", cwd=alice)).splitlines()[-1])
    (jid,) = out["built"]
    files = [p for p in (alice / ".gitax").rglob("*") if p.is_file() and p.name != "lock"]
    assert files and all(p.stat().st_mode & stat.S_IROTH for p in files)  # umask 022, not 0600
    shown = json.loads(ok(as_user(BOB, "show", jid, "--json", cwd=alice)))
    assert shown["value"] == "4"
    copy = place / "bob-copy"
    copy.mkdir()
    os.chown(copy, BOB, BOB)
    ok(as_user(BOB, "checkout", jid, str(copy / "sq"), cwd=alice))
    assert (copy / "sq" / "manifest.json").is_file()
    # Bob may reuse alice's jobs (his run cannot be recorded there, and he is told so)...
    reused = ok(as_user(BOB, "build", cwd=alice))
    assert "0 built, 1 reused" in reused and "this run is not recorded" in reused
    # ...but a new job is refused in one line naming the path.
    os.environ["X"] = "7"
    try:
        proc = as_user(BOB, "build", cwd=alice)
    finally:
        del os.environ["X"]
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "permission denied" in line.lower() and "/alice/" in line


def test_a_store_others_may_only_read_serves_a_reused_build_and_gc_dry_run(place: Path) -> None:
    alice = project(place / "alice", ALICE, shared=False)
    os.chmod(alice, 0o755)
    ok(as_user(ALICE, "build", cwd=alice))
    (alice / ".gitax" / "lock").unlink()  # as a copied or read-only mounted store may lack
    assert "0 built, 1 reused" in ok(as_user(BOB, "build", cwd=alice))
    dry = ok(as_user(BOB, "gc", "--dry-run", "--grace", "0", cwd=alice))
    assert "would remove 0 jobs" in dry and "kept 1 job," in dry
    assert not (alice / ".gitax" / "lock").exists()  # the reader wrote nothing


def test_an_existing_gitignore_keeps_its_mode(place: Path) -> None:
    root = place / "p"
    write(root / ".gitignore", "*.pyc\n")
    os.chmod(root / ".gitignore", 0o644)
    for p in (root, root / ".gitignore"):
        os.chown(p, ALICE, GROUP)
    ok(as_user(ALICE, "init", cwd=root))
    assert stat.S_IMODE((root / ".gitignore").stat().st_mode) == 0o644
    assert "/.gitax/" in (root / ".gitignore").read_text()
    assert stat.S_IMODE((root / "gitax.toml").stat().st_mode) == 0o644


def test_a_team_shares_one_store(place: Path) -> None:
    team = project(place / "team", ALICE, shared=True)
    os.chmod(team, 0o2775)
    ok(as_user(ALICE, "build", cwd=team, umask=0o022))
    store = team / ".gitax"
    assert store.stat().st_mode & 0o2070 == 0o2070  # setgid, group rwx
    assert all(
        p.stat().st_gid == GROUP and (not p.is_dir() or p.stat().st_mode & 0o2070 == 0o2070)
        for p in store.rglob("*")
    )
    # bob reuses alice's job, builds a new one, and alice reuses bob's.
    assert "0 built, 1 reused" in ok(as_user(BOB, "build", cwd=team))
    env_x = {"X": "3"}
    os.environ.update(env_x)
    try:
        assert "1 built, 0 reused" in ok(as_user(BOB, "build", cwd=team))
        assert "0 built, 1 reused" in ok(as_user(ALICE, "build", cwd=team))
    finally:
        del os.environ["X"]
    assert json.loads(ok(as_user(ALICE, "fsck", "--json", cwd=team)))["problems"] == []
    assert "removed" in ok(as_user(BOB, "gc", "--workdirs", cwd=team))


def test_a_team_shares_one_path_remote(place: Path) -> None:
    remote = place / "remote"  # inherits the team folder's setgid: shared by the team
    alice = project(place / "alice", ALICE, shared=False)
    bob = project(place / "bob", BOB, shared=False)
    for root, uid in ((alice, ALICE), (bob, BOB)):
        ok(as_user(uid, "remote", "add", "team", str(remote), "--default", cwd=root))
    ok(as_user(ALICE, "build", cwd=alice))
    ok(as_user(ALICE, "push", cwd=alice))
    assert remote.stat().st_mode & 0o2070 == 0o2070
    ok(as_user(BOB, "pull", cwd=bob))
    assert "0 built, 1 reused" in ok(as_user(BOB, "build", cwd=bob))
    os.environ["X"] = "5"
    try:
        ok(as_user(BOB, "build", cwd=bob))
    finally:
        del os.environ["X"]
    ok(as_user(BOB, "push", cwd=bob))  # into folders alice made: group-writable
    ok(as_user(ALICE, "pull", cwd=alice))
    logs = json.loads(ok(as_user(ALICE, "log", "--builds", "--json", cwd=alice)))
    assert {d["user"] for d in logs} == {f"u{ALICE}", f"u{BOB}"}
