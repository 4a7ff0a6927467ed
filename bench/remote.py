"""Remotes on the path transport: no-op push and pull with many objects on each side, and
the throughput of pushing one large output, beside `cp` of the same file.

    python bench/remote.py [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

METHOD = """\
options = dict(n=0)

def synthesis(job):
    with job.open("part.txt", "w") as fh:
        fh.write("part %d\\n" % options.n)
    return options.n
"""

BIG = """\
import os
options = dict(mib=1)

def synthesis(job):
    block = os.urandom(1 << 20)
    with job.open("big.bin", "wb") as fh:
        for i in range(options.mib):
            fh.write(block[:-8] + i.to_bytes(8, "big"))
"""


def gitax(args: list[str], cwd: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "gitax", *args], cwd=cwd, env=env, check=True, capture_output=True
    )
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    jobs = 400 if args.quick else 3400  # 3 objects each: ~10,000 objects in the full run
    mib = 128 if args.quick else 1024
    repeat = 3 if args.quick else 5
    with tempfile.TemporaryDirectory(prefix="gitax-bench-remote-") as tmp:
        root, shared = Path(tmp) / "proj", Path(tmp) / "shared"
        (root / "methods").mkdir(parents=True)
        (root / "gitax.toml").write_text(
            f'[gitax]\n\n[remotes.r]\nurl = "{shared}"\ndefault = true\n'
        )
        (root / "methods" / "a_part.py").write_text(METHOD)
        (root / "methods" / "a_big.py").write_text(BIG)
        (root / "build.py").write_text(
            "def main(urd):\n    urd.begin('many', '2023-01-01')\n"
            f"    for n in range({jobs}):\n        urd.build('part', n=n)\n    urd.finish('many')\n"
        )
        gitax(["build"], root)
        objects = sum(1 for _ in (root / ".gitax" / "objects").rglob("*") if _.is_file())
        gitax(["push"], root)
        baseline = statistics.median(gitax(["--version"], root) for _ in range(repeat))
        noop_push = statistics.median(gitax(["push"], root) for _ in range(repeat))
        noop_pull = statistics.median(gitax(["pull"], root) for _ in range(repeat))

        (root / "build.py").write_text(
            f"def main(urd):\n    urd.begin('big', '2023-01-02')\n    urd.build('big', mib={mib})\n"
            "    urd.finish('big')\n"
        )
        gitax(["build"], root)
        big = next((root / ".gitax" / "work").glob("big-*")) / "big.bin"
        t0 = time.perf_counter()
        subprocess.run(["cp", str(big), str(Path(tmp) / "copy.bin")], check=True)
        os.sync()
        cp = time.perf_counter() - t0
        os.unlink(Path(tmp) / "copy.bin")
        push_big = gitax(["push", "--list", "big"], root) - noop_push
    results = {
        "objects": objects,
        "gitax_version_s": baseline,
        "noop_push_s": noop_push,
        "noop_pull_s": noop_pull,
        "push_big_mib": mib,
        "push_big_s": push_big,
        "push_big_mib_per_s": mib / push_big,
        "cp_sync_mib_per_s": mib / cp,
    }
    print(f"gitax remote benchmarks ({'quick' if args.quick else 'full'}), path transport")
    print(f"  gitax --version                        {baseline * 1e3:8.1f} ms   (baseline)")
    print(
        f"  no-op push, {objects:>6} objects each side {noop_push * 1e3:8.1f} ms   "
        f"{noop_push / baseline:5.1f}x baseline"
    )
    print(
        f"  no-op pull, {objects:>6} objects each side {noop_pull * 1e3:8.1f} ms   "
        f"{noop_pull / baseline:5.1f}x baseline"
    )
    print(
        f"  push one {mib} MiB output                {mib / push_big:8.0f} MiB/s  "
        f"cp + sync of the same file: {mib / cp:.0f} MiB/s ({cp / push_big:.2f}x)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
