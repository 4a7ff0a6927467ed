"""Stores on real mounts: a full disk (a 1 MiB tmpfs) is one line naming the job and
where, the space given back and nothing half stored; a read-only mount serves every
command that only reads."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import _need, gitax, write


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "disk"
    mnt.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True
    )
    if proc.returncode != 0:
        _need("a tmpfs mount (root)", "run the tests as root, as CI does")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_is_one_line_and_gives_the_space_back(small_disk: Path, tmp_path: Path) -> None:
    root = tmp_path / "p"
    store = small_disk / "store"
    write(root / "gitax.toml", f'[gitax]\nstore = "{store}"\n')
    write(
        root / "methods" / "a_big.py",
        "import os\noptions = dict(n=600_000)\ndef synthesis(job):\n"
        "    with job.open('big.bin', 'wb') as fh:\n        fh.write(os.urandom(options.n))\n",
    )
    write(root / "build.py", "import os\ndef main(urd):\n"
          "    urd.build('big', n=int(os.environ.get('N', '600000')))\n")  # fmt: skip
    proc = gitax("build", cwd=root, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "job big-" in line and "could not be stored in" in line and str(store) in line
    assert "No space left on device" in line
    assert list((store / "tmp").iterdir()) == []  # the run folder's space is back
    assert gitax("fsck", cwd=root).returncode == 0
    os.environ["N"] = "1000"  # a job that fits: the build finishes
    try:
        assert "1 built" in gitax("build", cwd=root).stdout
    finally:
        del os.environ["N"]
    assert gitax("fsck", cwd=root).returncode == 0


def test_a_read_only_mounted_store_serves_what_only_reads(proj_on_ro: Path) -> None:
    root = proj_on_ro
    out = gitax("build", cwd=root).stdout
    assert "0 built, 1 reused" in out and "this run is not recorded" in out
    assert "would remove 0 jobs" in gitax("gc", "--dry-run", cwd=root).stdout
    assert gitax("fsck", cwd=root).returncode == 0


@pytest.fixture
def proj_on_ro(tmp_path: Path) -> Iterator[Path]:
    """A built project whose store is then mounted read-only over itself."""
    root = tmp_path / "p"
    write(root / "gitax.toml", "[gitax]\n")
    write(root / "methods" / "a_m.py", "def synthesis(job):\n    job.save(1, 'one')\n")
    write(root / "build.py", "def main(urd):\n    urd.build('m').link_result('one')\n")
    gitax("build", cwd=root)
    store = root / ".gitax"
    for args in (["--bind", str(store), str(store)], ["-o", "remount,bind,ro", str(store)]):
        if subprocess.run(["mount", *args], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(store)], check=False)
            _need("a read-only bind mount (root)", "run the tests as root, as CI does")
    try:
        yield root
    finally:
        subprocess.run(["umount", "-l", str(store)], check=False)
