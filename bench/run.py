"""gitax benchmarks: every row of the performance targets, each beside a baseline
measured in the same run (these machines are shared and noisy).

    python bench/run.py [--quick] [--json FILE]

Rows: no-op build of 1,000 reused jobs (and the cost per reused job); the overhead of a
new trivial job, from 10 to 10,000 jobs; storing a 1 GiB output (and 1 MiB .. 4 GiB);
reading it back cold; --version; a no-op push with 10,000 objects; verify with nothing
changed; log and show with 100,000 jobs in the store; joblib.Memory's cache hit when
joblib is installed. See docs/performance.md for how to read them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
GITAX = [sys.executable, "-m", "gitax"]

NOOP = "options = dict(n=0)\n\ndef synthesis():\n    return options.n\n"
PART = (
    "options = dict(n=0)\n\ndef synthesis(job):\n"
    "    with job.open('part.txt', 'w') as fh:\n        fh.write('part %d\\n' % options.n)\n"
)
SCRIPT = "def main(urd):\n    for i in range({start}, {stop}):\n        urd.build('noop', n=i)\n"


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Wall time of one whole process."""
    t0 = time.perf_counter()
    subprocess.run(
        cmd,
        cwd=cwd,
        check=True,
        capture_output=True,
        env=env or dict(os.environ, PYTHONPATH=str(REPO)),
    )
    return time.perf_counter() - t0


def median(cmd: list[str], cwd: Path, repeat: int) -> float:
    run(cmd, cwd)  # warm
    return statistics.median(run(cmd, cwd) for _ in range(repeat))


def project(root: Path) -> Path:
    (root / "methods").mkdir(parents=True)
    (root / "gitax.toml").write_text("[gitax]\n")
    (root / "methods" / "a_noop.py").write_text(NOOP)
    return root


def set_script(root: Path, start: int, stop: int, name: str = "build.py") -> None:
    (root / name).write_text(SCRIPT.format(start=start, stop=stop))


def new_job_cost(root: Path, count: int, offset: int, repeat: int) -> float:
    """Seconds per new trivial job in a build of `count` new jobs, less a build of one
    (the median of `repeat` tries: a small build's figure is mostly noise otherwise)."""
    tries = []
    for _ in range(repeat):
        set_script(root, offset, offset + count)
        many = run([*GITAX, "build"], root)
        set_script(root, offset + count, offset + count + 1)
        one = run([*GITAX, "build"], root)
        tries.append((many - one) / max(count - 1, 1))
        offset += count + 2
    return statistics.median(tries)


def cold_read(path: Path, read: Callable[[], None], times: int) -> float:
    """Median seconds of `read()` with `path` evicted from the page cache before each."""
    took = []
    for _ in range(times):
        fd = os.open(path, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
        t0 = time.perf_counter()
        read()
        took.append(time.perf_counter() - t0)
    return statistics.median(took)


def store_throughput(tmp: Path, mib: int, kind: str) -> dict[str, float]:
    """Store an output of `mib` MiB through the store API; then read it back cold."""
    from gitax.store.odb import DiskObjectDB

    src = tmp / f"out-{mib}.bin"
    block = os.urandom(1 << 20)
    with open(src, "wb") as fh:
        for i in range(mib):
            if kind == "random":
                fh.write(block[:-8] + i.to_bytes(8, "big"))
            else:  # smooth: counting integers, what a feature column often looks like
                fh.write(b"".join((i * 131072 + j).to_bytes(8, "little") for j in range(0, 131072)))
    os.sync()
    t0 = time.perf_counter()
    with open(src, "rb") as fh:
        h = hashlib.sha256()
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    sha = time.perf_counter() - t0
    t0 = time.perf_counter()
    shutil.copyfile(src, tmp / "copy.bin")
    fd = os.open(tmp / "copy.bin", os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    cp = time.perf_counter() - t0
    # Cold reads swing with the shared disk: the median of a few, each after evicting
    # the file from the page cache (posix_fadvise DONTNEED), for gitax and baseline alike.
    reads = 3 if mib <= 1024 else 1

    def sha_copy() -> None:
        with open(tmp / "copy.bin", "rb") as fh:
            os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
            h = hashlib.sha256()
            while chunk := fh.read(1 << 20):
                h.update(chunk)

    cold_sha = cold_read(tmp / "copy.bin", sha_copy, reads)
    os.unlink(tmp / "copy.bin")
    db = DiskObjectDB(tmp / f"store-{mib}")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    oid = db.put_file("blob", src)
    store = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    path = db.path(oid)

    def read_object() -> None:
        for _ in db.read_chunks(oid):
            pass

    read = cold_read(path, read_object, reads)
    stored = path.stat().st_size
    os.chmod(path, 0o644)
    shutil.rmtree(tmp / f"store-{mib}")
    src.unlink()
    return {
        "mib": mib,
        "store_mib_s": mib / store,
        "read_cold_mib_s": mib / read,
        "cp_sync_mib_s": mib / cp,
        "sha256_mib_s": mib / sha,
        "cold_sha256_mib_s": mib / cold_sha,
        "stored_mib": stored / 2**20,
        "rss_growth_mib": max(rss - rss0, 0) / 1024,
    }


def synthesize_jobs(root: Path, count: int) -> str:
    """A store holding `count` jobs (manifests, trees, index entries) written directly,
    without fsync (this is set-up, not what is measured); returns one job id."""
    from gitax.jobs.manifest import Manifest, format_manifest, format_tree
    from gitax.store.hashing import object_id
    from gitax.store.index import format_entry
    from gitax.store.objects import encode
    from gitax.store.store import Store

    store = Store.open(root / ".gitax")
    tree = format_tree({})
    value = b"\x80\x04N."  # pickle of None

    def put(obj_type: str, data: bytes) -> str:
        oid = object_id(obj_type, data)
        path = store.objects.path(oid)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as fh:
                encode(obj_type, [data], fh)
        return oid

    tree_id, value_id = put("tree", tree), put("blob", value)
    jid = ""
    for n in range(count):
        key = hashlib.sha256(b"synthetic %d" % n).hexdigest()
        m = Manifest(key, "noop", f"noop-{key[:12]}", {"n": n}, {}, {}, tree_id, value_id)
        mid = put("manifest", format_manifest(m))
        path = store.index.root / key[:2] / key[2:]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(format_entry(mid, key))
        jid = m.id
    return jid


def job_floor(tmp: Path, repeat: int = 200) -> dict[str, float]:
    """What any new job costs on this machine whatever the tool: forking this (already
    loaded) Python process and reaping the child, and the two durable small writes a
    crash-safe store cannot do without (the job's manifest and its index entry), each a
    temp file, fsync, rename and folder fsync. Seconds, medians of `repeat`."""
    from gitax.store.fsutil import atomic_write

    def fork_reap() -> float:
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        return time.perf_counter() - t0

    def durable_write(i: int) -> float:
        path = tmp / "floor" / f"{i % 256:02x}" / f"{i:062x}"
        t0 = time.perf_counter()
        atomic_write(path, b"%064x\n" % i)
        return time.perf_counter() - t0

    fork = statistics.median(fork_reap() for _ in range(repeat))
    write = statistics.median(durable_write(i) for i in range(repeat))
    shutil.rmtree(tmp / "floor")
    return {"fork_reap_s": fork, "durable_write_s": write, "floor_s": fork + 2 * write}


def joblib_hit() -> float | None:
    """Seconds per joblib.Memory cache hit, in process, if joblib is installed."""
    try:
        import joblib
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as d:
        memory = joblib.Memory(d, verbose=0)

        @memory.cache
        def f(n: int) -> int:
            return n

        for i in range(200):
            f(i)
        t0 = time.perf_counter()
        for i in range(200):
            f(i)
        return (time.perf_counter() - t0) / 200


def gitax_hit_in_process(root: Path, count: int) -> float:
    """Seconds per reused urd.build, in process (the same measure as joblib's)."""
    from gitax.jobs.project import Project
    from gitax.run.urd import Urd

    urd = Urd(Project.find(root))
    for i in range(count):
        urd.build("noop", n=i)
    t0 = time.perf_counter()
    for i in range(count):
        urd.build("noop", n=i)
    return (time.perf_counter() - t0) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    quick = args.quick
    repeat = 3 if quick else 7
    rows: list[tuple[str, str, str, str]] = []  # (row, gitax, baseline, target)
    out: dict[str, object] = {"quick": quick, "python": sys.version.split()[0]}
    with tempfile.TemporaryDirectory(prefix="gitax-bench-") as t:
        tmp = Path(t)
        root = project(tmp / "proj")
        base = median([sys.executable, "-c", "pass"], root, repeat)
        version = median([*GITAX, "--version"], root, repeat)
        out |= {"python_c_pass_s": base, "version_s": version}
        rows.append(
            (
                "--version",
                f"{version * 1e3:.0f} ms",
                f"python -c pass {base * 1e3:.0f} ms ({version / base:.1f}x)",
                "<= 100 ms",
            )
        )

        # No-op builds: 1 and 1,000 reused jobs; the slope is the cost per reused job.
        set_script(root, 0, 1000)
        run([*GITAX, "build"], root)
        set_script(root, 0, 1, "build_one.py")
        run([*GITAX, "build", "one"], root)
        # Interleaved: the per-job figure is a difference of two noisy whole-process
        # times, so drift in the machine's load must hit both alike.
        alls, ones = [], []
        for _ in range(2 * repeat):
            alls.append(run([*GITAX, "build"], root))
            ones.append(run([*GITAX, "build", "one"], root))
        noop, one = statistics.median(alls), statistics.median(ones)
        # The median of the paired differences: a pair runs back to back, so a swing in
        # the machine's load that lasts seconds hits both of its builds alike.
        per = statistics.median(a - o for a, o in zip(alls, ones, strict=True)) / 999
        out |= {"noop_1000_s": noop, "noop_1_s": one, "per_reused_us": per * 1e6}
        rows.append(
            (
                "no-op build, 1,000 reused jobs",
                f"{noop * 1e3:.0f} ms",
                f"python -c pass {base * 1e3:.0f} ms ({noop / base:.1f}x)",
                "<= 300 ms",
            )
        )
        rows.append(("  per reused job beyond start-up", f"{per * 1e6:.0f} us", "-", "<= 50 us"))
        hit = gitax_hit_in_process(root, 1000)
        jl = joblib_hit()
        out |= {"gitax_hit_in_process_us": hit * 1e6, "joblib_hit_us": jl and jl * 1e6}
        rows.append(
            (
                "  reused urd.build, in process",
                f"{hit * 1e6:.0f} us",
                f"joblib.Memory hit {jl * 1e6:.0f} us" if jl else "joblib not installed",
                "-",
            )
        )

        # New trivial jobs: cost per job at several build sizes (flat is the target).
        sizes = [10, 100, 1000] if quick else [10, 100, 1000, 10000]
        costs = {}
        offset = 10**6
        for n in sizes:
            costs[n] = new_job_cost(root, n, offset, 5 if n <= 100 else 1)
            offset += 6 * (n + 2)
        out["new_job_ms"] = {str(n): c * 1e3 for n, c in costs.items()}
        floor = job_floor(tmp)
        out |= {"new_job_floor": floor}
        floor_text = (
            f"floor {floor['floor_s'] * 1e3:.1f} ms = fork+reap {floor['fork_reap_s'] * 1e3:.1f}"
            f" + 2 durable writes x {floor['durable_write_s'] * 1e3:.2f}"
        )
        for i, (n, c) in enumerate(costs.items()):
            rows.append(
                (
                    f"new trivial job, build of {n:>5}",
                    f"{c * 1e3:.1f} ms",
                    f"{c / floor['floor_s']:.1f}x the floor"
                    + (f"; {floor_text}" if i == 0 else ""),
                    "<= 10 ms",
                )
            )

        # Large outputs.
        sizes_mib = [1, 64, 1024] if quick else [1, 64, 1024, 4096]
        stores = []
        for mib in sizes_mib:
            for kind in ("random", "smooth") if mib == 1024 else ("random",):
                s = store_throughput(tmp, mib, kind) | {"kind": kind}
                stores.append(s)
        out["store"] = stores
        for s in stores:
            rows.append(
                (
                    f"store {s['mib']} MiB ({s['kind']})",
                    f"{s['store_mib_s']:.0f} MiB/s",
                    f"cp+fsync {s['cp_sync_mib_s']:.0f}, sha256 {s['sha256_mib_s']:.0f} MiB/s",
                    ">= 400 MiB/s" if s["mib"] == 1024 else "-",
                )
            )
            rows.append(
                (
                    f"  read back cold, rss +{s['rss_growth_mib']:.0f} MiB",
                    f"{s['read_cold_mib_s']:.0f} MiB/s",
                    f"cold sha256 of a copy {s['cold_sha256_mib_s']:.0f} MiB/s; "
                    f"stored in {s['stored_mib']:.0f} MiB",
                    ">= 500 MiB/s" if s["mib"] == 1024 else "-",
                )
            )

        # verify with nothing changed, on the example in git.
        cars = tmp / "cars"
        shutil.copytree(
            REPO / "examples" / "cars",
            cars,
            ignore=shutil.ignore_patterns(".gitax", "results", "gitax.lock"),
        )
        for cmd in (["git", "init", "-q"], ["git", "add", "-A"]):
            subprocess.run(cmd, cwd=cars, check=True, capture_output=True)
        run([*GITAX, "build"], cars)
        verify = median([*GITAX, "verify"], cars, repeat)
        out["verify_s"] = verify
        rows.append(
            (
                "verify, nothing changed",
                f"{verify * 1e3:.0f} ms",
                f"python -c pass {base * 1e3:.0f} ms ({verify / base:.1f}x)",
                "<= 200 ms",
            )
        )

        # A no-op push with ~10,000 objects on each side (path transport).
        pushp = project(tmp / "pushp")
        (pushp / "gitax.toml").write_text(
            f'[gitax]\n\n[remotes.r]\nurl = "{tmp / "shared"}"\ndefault = true\n'
        )
        # Each job stores a file: a blob, a tree and a manifest of its own (a value as
        # small as a trivial job's stays inside the manifest).
        (pushp / "methods" / "a_part.py").write_text(PART)
        n_jobs = 600 if quick else 3400
        (pushp / "build.py").write_text(
            f"def main(urd):\n    urd.begin('l', '2023-01-01')\n    for i in range({n_jobs}):\n"
            "        urd.build('part', n=i)\n    urd.finish('l')\n"
        )
        run([*GITAX, "build"], pushp)
        run([*GITAX, "push"], pushp)
        objects = sum(1 for p in (pushp / ".gitax" / "objects").rglob("*") if p.is_file())
        push = median([*GITAX, "push"], pushp, repeat)
        out |= {"noop_push_s": push, "push_objects": objects}
        rows.append(
            (
                f"no-op push, {objects} objects",
                f"{push * 1e3:.0f} ms",
                f"--version {version * 1e3:.0f} ms ({push / version:.1f}x)",
                "<= 200 ms",
            )
        )

        # log and show with many jobs in the store.
        big = project(tmp / "big")
        count = 10000 if quick else 100000
        jid = synthesize_jobs(big, count)
        (big / "build.py").write_text(
            "def main(urd):\n    urd.begin('main', '2023-01-01')\n"
            "    for i in range(100):\n        urd.build('noop', n=i)\n    urd.finish('main')\n"
        )
        run([*GITAX, "build"], big)
        log = median([*GITAX, "log"], big, repeat)
        show = median([*GITAX, "show", jid[:-4]], big, repeat)
        out |= {"log_s": log, "show_s": show, "store_jobs": count}
        rows.append(
            (
                f"log, {count:,} jobs in the store",
                f"{log * 1e3:.0f} ms",
                f"python -c pass {base * 1e3:.0f} ms ({log / base:.1f}x)",
                "<= 200 ms",
            )
        )
        rows.append(
            (
                f"show, {count:,} jobs in the store",
                f"{show * 1e3:.0f} ms",
                f"python -c pass {base * 1e3:.0f} ms ({show / base:.1f}x)",
                "<= 200 ms",
            )
        )

    width = max(len(r[0]) for r in rows)
    print(
        f"gitax benchmarks ({'quick' if quick else 'full'}), Python {out['python']}, "
        f"{os.cpu_count()} cores"
    )
    print(f"  {'':{width}}  {'gitax':>12}  {'target':>13}  baseline (same run)")
    for name, value, baseline, target in rows:
        print(f"  {name:{width}}  {value:>12}  {target:>13}  {baseline}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
