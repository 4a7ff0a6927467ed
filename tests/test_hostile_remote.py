"""A hostile remote cannot make pull read or write outside the store: every id it sends
(urd log keys, manifest inputs and subjobs, list names, index entries) is checked where
it enters, and the error names the remote and the record."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import gitax, write

from gitax.jobs.manifest import format_tree
from gitax.jobs.urdlog import UrdError
from gitax.remote.memory import MemoryTransport
from gitax.remote.transfer import pull
from gitax.store.hashing import canonical_json
from gitax.store.store import Store

EVIL = "...." + "/../pwned"  # 12 characters later, the split key still stays "relative"
GOOD = "ab" * 32


def snapshot(root: Path, skip: Path) -> dict[str, bytes]:
    """Every file under root (outside `skip`) and its bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and not p.is_relative_to(skip)
    }


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    root = tmp_path / "victim"
    remote = tmp_path / "remote" / "store"
    write(root / "gitax.toml", f'[gitax]\n\n[remotes.team]\nurl = "{remote}"\ndefault = true\n')
    (root / "methods").mkdir()
    Store.open(remote)
    (remote / "lock").touch()  # taken by every transport to it, as by a build
    # What a traversal one folder above the remote would read: a plausible index entry.
    write(tmp_path / "remote" / "pwned", GOOD + "\n")
    return root


def session_line(key: str, jid: str = "load-abababababab") -> bytes:
    doc = {
        "v": 1,
        "op": "session",
        "list": "main",
        "timestamp": "2023-01-05",
        "recorded": "2023-01-05T00:00:00",
        "user": "mallory",
        "caption": "",
        "script": "build.py",
        "script_blob": "",
        "joblist": [["load", "load", jid, key, True]],
        "deps": [],
    }
    return canonical_json(doc) + b"\n"


def pull_fails(victim: Path, tmp_path: Path) -> str:
    before = snapshot(tmp_path, victim / ".gitax")
    proc = gitax("pull", cwd=victim, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert snapshot(tmp_path, victim / ".gitax") == before  # nothing written outside
    origin = victim / ".gitax" / "origin"
    assert not origin.exists() or not any(p.is_file() for p in origin.rglob("*"))
    return proc.stderr.strip().splitlines()[-1]


def test_an_urd_log_naming_a_hostile_key(victim: Path, tmp_path: Path) -> None:
    write(tmp_path / "remote" / "store" / "urd" / "main.urd", session_line(EVIL).decode())
    error = pull_fails(victim, tmp_path)
    assert "remote team" in error and "urd list main:1" in error and "pwned" in error


def test_an_urd_log_naming_a_hostile_job_id(victim: Path, tmp_path: Path) -> None:
    line = session_line(GOOD, jid="../../x-abababababab")
    write(tmp_path / "remote" / "store" / "urd" / "main.urd", line.decode())
    error = pull_fails(victim, tmp_path)
    assert "remote team" in error and "urd list main" in error


def _hostile_job(remote: Store, inputs: dict, subjobs: list) -> str:
    """A well-hashed manifest on the remote whose job references are hostile; its key."""
    tree = remote.objects.put_bytes("tree", format_tree({}))
    src = remote.objects.put_bytes("blob", b"def synthesis():\n    return 1\n")
    key = hashlib.sha256(b"hostile").hexdigest()
    manifest = {
        "format": 1,
        "key": key,
        "method": "load",
        "id": f"load-{key[:12]}",
        "options": {},
        "jobs": inputs,
        "sources": {"methods/a_load.py": src},
        "files": tree,
        "value": None,
        "subjobs": subjobs,
    }
    mid = remote.objects.put_bytes("manifest", canonical_json(manifest))
    remote.index.put(key, mid)
    return key


@pytest.mark.parametrize("where", ["input", "subjob"])
def test_a_manifest_naming_a_hostile_job(victim: Path, tmp_path: Path, where: str) -> None:
    remote = Store.open(tmp_path / "remote" / "store")
    ref = {"id": "load-....", "key": EVIL}
    key = _hostile_job(remote, {"src": ref} if where == "input" else {}, [ref] * (where != "input"))
    write(remote.root / "urd" / "main.urd", session_line(key, f"load-{key[:12]}").decode())
    error = pull_fails(victim, tmp_path)
    assert "remote team" in error and f"job {key}" in error and "bad job reference" in error


def test_a_damaged_index_entry_on_the_remote(victim: Path, tmp_path: Path) -> None:
    remote = Store.open(tmp_path / "remote" / "store")
    key = hashlib.sha256(b"k").hexdigest()
    write(remote.index.path(key), "../../../../etc/passwd\n")
    write(remote.root / "urd" / "main.urd", session_line(key, f"load-{key[:12]}").decode())
    error = pull_fails(victim, tmp_path)
    assert f"index entry {key} is damaged" in error


def test_a_hostile_urd_list_name_over_any_transport(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s")
    remote = MemoryTransport()
    remote.urd["../../pwned"] = b""  # a transport that lists a name no store could hold
    with pytest.raises(UrdError, match="not a valid urd list name"):
        pull(store, remote, set(), None, remote_name="team")
    assert not any(p.name.startswith("pwned") for p in tmp_path.rglob("*"))
