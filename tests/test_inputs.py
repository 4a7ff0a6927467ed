"""Input files: not in the key (exax's rule), but changes are said aloud; depend_extra
puts one in the key."""

from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import ProjectDir, gitax, write

from gitax.jobs.inputs import InputHashes, sha256_file


def test_hashes_are_cached_by_size_and_mtime(tmp_path: Path) -> None:
    data = write(tmp_path / "d.csv", "1,2\n")
    hashes = InputHashes(tmp_path / "store")
    first = hashes.sha256(data)
    assert first == sha256_file(data)[0]
    hashes.save()
    st = data.stat()
    data.write_text("3,4\n")  # same size: restore the mtime, and the cache answers
    os.utime(data, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert InputHashes(tmp_path / "store").sha256(data) == first
    os.utime(data, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # touched: hashed again
    assert InputHashes(tmp_path / "store").sha256(data) == sha256_file(data)[0] != first
    assert InputHashes(tmp_path / "store").changed(tmp_path, {"gone.csv": {"sha256": "x"}}) == [
        "gone.csv"
    ]


def test_depend_extra_puts_an_input_file_in_the_key(proj: ProjectDir) -> None:
    write(proj.root / "data" / "nums.csv", "1\n2\n")
    proj.method(
        "parse",
        "depend_extra = ('../data/nums.csv',)\n"
        "def synthesis(job):\n    return len(job.open_input('nums.csv').readlines())\n",
    )
    proj.build_script("def main(urd):\n    urd.build('parse')\n")
    gitax("build", cwd=proj.root)
    (proj.root / "data" / "nums.csv").write_text("1\n2\n3\n")
    proc = gitax("build", "--json", cwd=proj.root)
    assert "source changed: data/nums.csv" in proc.stderr and "note" not in proc.stderr
    assert len(json.loads(proc.stdout.splitlines()[-1])["built"]) == 1
