"""Parallel jobs: CPU-bound analysis() on 2 slices against 1, and the cost of a slice.

    python bench/parallel.py [--quick] [--json FILE]

Both figures come from whole `gitax build` processes run in this same process's
neighbourhood, so machine noise hits baseline and measurement alike.
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

CPU_METHOD = """\
options = dict(n=0, seed=0)

def analysis(sliceno, slices):
    total = 0
    for i in range(sliceno, options.n, slices):
        total += (i * i) % 7
    return total

def synthesis(analysis_res):
    return analysis_res.merge_auto()
"""

EMPTY_METHOD = """\
options = dict(seed=0)

def analysis(sliceno):
    pass
"""


def build(root: Path, slices: int, script: str) -> float:
    """Wall time of one whole `gitax build` with this many slices."""
    (root / "gitax.toml").write_text(f"[gitax]\nslices = {slices}\n")
    (root / "build.py").write_text(script)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "gitax", "build"], cwd=root, env=env, check=True, capture_output=True
    )
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    n = 5_000_000 if args.quick else 40_000_000
    repeat = 3 if args.quick else 5
    with tempfile.TemporaryDirectory(prefix="gitax-bench-par-") as tmp:
        root = Path(tmp)
        (root / "methods").mkdir()
        (root / "methods" / "a_cpu.py").write_text(CPU_METHOD)
        (root / "methods" / "a_empty.py").write_text(EMPTY_METHOD)
        seed = iter(range(10**6))

        def cpu(slices: int) -> float:
            return build(
                root, slices, f"def main(urd):\n    urd.build('cpu', n={n}, seed={next(seed)})\n"
            )

        def empty(slices: int, jobs: int = 30) -> float:
            calls = "".join(f"    urd.build('empty', seed={next(seed)})\n" for _ in range(jobs))
            return build(root, slices, "def main(urd):\n" + calls) / jobs

        one = statistics.median(cpu(1) for _ in range(repeat))
        two = statistics.median(cpu(2) for _ in range(repeat))
        # Per-slice overhead: the slope of an empty job's cost from 1 to 16 slices.
        e1 = statistics.median(empty(1) for _ in range(repeat))
        e16 = statistics.median(empty(16) for _ in range(repeat))
        per_slice = (e16 - e1) / 15
    results = {
        "cpu_1_slice_s": one,
        "cpu_2_slices_s": two,
        "speedup_2_over_1": one / two,
        "empty_job_1_slice_ms": e1 * 1e3,
        "per_slice_overhead_ms": per_slice * 1e3,
        "cores": os.cpu_count(),
    }
    print(
        f"gitax parallel benchmarks ({'quick' if args.quick else 'full'}), {os.cpu_count()} cores"
    )
    print(f"  CPU-bound analysis, 1 slice            {one:7.2f} s   (baseline)")
    print(f"  CPU-bound analysis, 2 slices           {two:7.2f} s   speed-up {one / two:4.2f}x")
    print(f"  empty analysis job, 1 slice            {e1 * 1e3:7.1f} ms")
    print(f"  each further slice (slope 1..16)       {per_slice * 1e3:7.2f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
