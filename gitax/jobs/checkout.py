"""Materialising stored jobs and results as plain files, from the store alone."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gitax.errors import GitaxError
from gitax.jobs.job import OUTPUT_DIR, Job, link_file, materialise
from gitax.jobs.manifest import check_relpath, parse_tree
from gitax.jobs.project import Project
from gitax.jobs.resultlock import LockedResult
from gitax.store.fsutil import file_mode
from gitax.store.hashing import from_jsonable, object_id_of_file


class CheckoutError(GitaxError):
    """A checkout cannot be made."""


def checkout_job(job: Job, dest: Path) -> Path:
    """Write a job as plain files into `dest` (new or empty): its files, OUTPUT/ (logs),
    source/ (every file that joined its key), params.json, value.pickle, manifest.json."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise CheckoutError(f"{dest} exists and is not empty; name a new folder")
    objects = job.project.store.objects
    m = job.manifest
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    except OSError as e:
        raise CheckoutError(
            f"cannot check out into {dest}: {dest.parent} is no folder you may write in "
            f"({e.strerror}); name a new folder there"
        ) from None
    try:
        for rel, entry in parse_tree(objects.get_bytes(m.files, "tree")).items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            objects.copy_to_file(entry.id, tmp / rel, 0o644)
        for phase, oid in m.output.items():
            (tmp / OUTPUT_DIR).mkdir(exist_ok=True)
            objects.copy_to_file(oid, tmp / OUTPUT_DIR / check_relpath(phase), 0o644)
        for rel, oid in m.sources.items():
            (tmp / "source" / rel).parent.mkdir(parents=True, exist_ok=True)
            objects.copy_to_file(oid, tmp / "source" / rel, 0o644)
        params = {"options": m.options, "jobs": m.jobs}
        (tmp / "params.json").write_text(json.dumps(params, indent=2, sort_keys=True) + "\n")
        if m.value:
            objects.copy_to_file(m.value, tmp / "value.pickle", 0o644)
        elif m.value_inline is not None:
            (tmp / "value.pickle").write_bytes(m.value_bytes(objects) or b"")
        manifest = dict(asdict(m), options=from_jsonable(m.options))
        (tmp / "manifest.json").write_text(
            json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n"
        )
        os.chmod(tmp, file_mode(0o777))
        if dest.is_dir():
            dest.rmdir()
        os.rename(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


@dataclass
class ResultsCheckout:
    """What `checkout --results` did."""

    linked: list[str] = field(default_factory=list)
    missing: list[LockedResult] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def checkout_results(project: Project, results: dict[str, LockedResult]) -> ResultsCheckout:
    """Make results/ match a gitax.lock: link every result whose job is in the local store,
    name those that are not, and remove result links the lock does not name."""
    report = ResultsCheckout()
    folder = project.config.results
    for path, entry in sorted(results.items()):
        if project.store.index.get(entry.key) is None:
            report.missing.append(entry)
            continue
        job = Job.from_key(project, entry.key)
        tree = parse_tree(project.store.objects.get_bytes(job.manifest.files, "tree"))
        if tree.get(entry.file) is None or tree[entry.file].id != entry.blob:
            raise CheckoutError(
                f"gitax.lock says results/{path} is {entry.file} of {entry.job} with blob "
                f"{entry.blob[:12]}, but the stored job differs; run `gitax fsck`"
            )
        link_file(job, entry.file, folder / path)
        if object_id_of_file("blob", folder / path) != entry.blob:
            materialise(job, rebuild=True)  # changed where no size or mtime shows it
        report.linked.append(path)
    if folder.is_dir():
        for dirpath, _, filenames in os.walk(folder):
            for f in filenames:
                full = Path(dirpath) / f
                rel = full.relative_to(folder).as_posix()
                # Only links into the store are ours to remove; a user's own file stays.
                if rel not in results and full.is_symlink():
                    target = os.path.realpath(full)
                    if target.startswith(os.path.realpath(project.store.root) + os.sep):
                        with contextlib.suppress(FileNotFoundError):
                            full.unlink()
                        report.removed.append(rel)
    return report
