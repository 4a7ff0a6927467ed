"""gitax benchmarks: how fast is "up to date", and what does one new job cost?

    python bench/run.py [--quick] [--json FILE]

Every figure is printed beside a baseline measured in the same run (these machines are
shared and noisy): whole-process times beside `python -c pass`.
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

def synthesis():
    return options.n
"""

SCRIPT = """\
def main(urd):
    for i in range({start}, {stop}):
        urd.build("noop", n=i)
"""


def run(cmd: list[str], cwd: Path) -> float:
    """Wall time of one whole process."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


def timed(cmd: list[str], cwd: Path, repeat: int) -> float:
    """Median wall time over `repeat` runs (after one warm-up)."""
    run(cmd, cwd)
    return statistics.median(run(cmd, cwd) for _ in range(repeat))


def make_project(root: Path, jobs: int) -> None:
    (root / "methods").mkdir(parents=True)
    (root / "gitax.toml").write_text("[gitax]\n")
    (root / "methods" / "a_noop.py").write_text(METHOD)
    (root / "build.py").write_text(SCRIPT.format(start=0, stop=jobs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer jobs and repeats")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    n_reused = 200 if args.quick else 1000
    n_new = 50 if args.quick else 200
    repeat = 3 if args.quick else 7
    gitax = [sys.executable, "-m", "gitax"]
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="gitax-bench-") as tmp:
        root = Path(tmp) / "proj"
        make_project(root, n_reused)

        baseline = timed([sys.executable, "-c", "pass"], root, repeat)
        version = timed([*gitax, "--version"], root, repeat)

        t0 = time.perf_counter()
        run([*gitax, "build"], root)  # fills the store
        fill = time.perf_counter() - t0
        noop = timed([*gitax, "build"], root, repeat)
        (root / "build_one.py").write_text(SCRIPT.format(start=0, stop=1))
        noop_one = timed([*gitax, "build", "one"], root, repeat)

        # New trivial jobs: the per-job cost is the slope between a small and a large
        # build of new jobs, so start-up and the reused part cancel out.
        def new_jobs(count: int, offset: int) -> float:
            (root / "build.py").write_text(SCRIPT.format(start=offset, stop=offset + count))
            return run([*gitax, "build"], root)

        small = statistics.median(new_jobs(1, 10**6 + i) for i in range(repeat))
        large = statistics.median(new_jobs(n_new, 2 * 10**6 + i * n_new) for i in range(3))
        per_new = (large - small) / (n_new - 1)

        # verify with nothing changed: the example project in a git repository.
        import shutil

        cars = Path(tmp) / "cars"
        shutil.copytree(
            REPO / "examples" / "cars", cars, ignore=shutil.ignore_patterns(".gitax", "results")
        )
        for cmd in (["git", "init", "-q"], ["git", "add", "-A"]):
            subprocess.run(cmd, cwd=cars, check=True, capture_output=True)
        run([*gitax, "build"], cars)
        subprocess.run(["git", "add", "-A"], cwd=cars, check=True, capture_output=True)
        verify = timed([*gitax, "verify"], cars, repeat)
        verify_staged = timed([*gitax, "verify", "--staged"], cars, repeat)

        results = {
            "python_c_pass_s": baseline,
            "version_s": version,
            f"noop_build_{n_reused}_reused_s": noop,
            "noop_build_1_reused_s": noop_one,
            "noop_per_reused_job_us": (noop - noop_one) / (n_reused - 1) * 1e6,
            "new_job_overhead_ms": per_new * 1e3,
            f"first_build_{n_reused}_new_s": fill,
            "verify_s": verify,
            "verify_staged_s": verify_staged,
        }

    print(
        f"gitax benchmarks ({'quick' if args.quick else 'full'}), Python {sys.version.split()[0]}"
    )
    print(f"  python -c pass                          {baseline * 1e3:8.1f} ms   (baseline)")
    print(
        f"  gitax --version                         {version * 1e3:8.1f} ms   "
        f"{version / baseline:5.1f}x baseline"
    )
    print(
        f"  no-op build, {n_reused:>5} reused jobs        {noop * 1e3:8.1f} ms   "
        f"{noop / baseline:5.1f}x baseline"
    )
    print(
        f"  no-op build,     1 reused job          {noop_one * 1e3:8.1f} ms   "
        f"{noop_one / baseline:5.1f}x baseline"
    )
    print(
        f"    per reused job (slope 1..{n_reused})       "
        f"{results['noop_per_reused_job_us']:8.1f} us"
    )
    print(
        f"  one new trivial job (slope 1..{n_new})     {per_new * 1e3:8.2f} ms   "
        f"{per_new / baseline:5.2f}x baseline"
    )
    print(f"  first build of {n_reused} new jobs           {fill:8.2f} s")
    print(
        f"  verify, nothing changed (example)       {verify * 1e3:8.1f} ms   "
        f"{verify / baseline:5.1f}x baseline"
    )
    print(
        f"  verify --staged, nothing changed        {verify_staged * 1e3:8.1f} ms   "
        f"{verify_staged / baseline:5.1f}x baseline"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
