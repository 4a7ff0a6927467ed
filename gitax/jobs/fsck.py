"""The jobs layer's part of fsck: what trees and manifests refer to; bad urd lines."""

from __future__ import annotations

from pathlib import Path

from gitax.errors import GitaxError
from gitax.jobs.buildlog import parse_entry, parse_record
from gitax.jobs.job import Job
from gitax.jobs.manifest import parse_manifest, parse_tree
from gitax.jobs.project import Project
from gitax.jobs.urdlog import UrdError, parse_line
from gitax.jobs.workdir import differences
from gitax.store import layout
from gitax.store.fsck import FsckReport, Problem, fsck
from gitax.store.layout import BadId
from gitax.store.reflog import read_lines


def references(data: bytes, obj_type: str) -> tuple[list[str], str | None]:
    """The object ids a tree, manifest or build record refers to, and the job key a
    manifest belongs to; ValueError if it is malformed."""
    try:
        if obj_type == "tree":
            return [e.id for e in parse_tree(data).values()], None
        if obj_type == "build":
            return parse_record(data).object_ids(), None
        m = parse_manifest(data)
        return m.object_ids(), m.key
    except GitaxError as e:
        raise ValueError(str(e)) from None


def bad_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, problem) for every malformed complete line of an urd or build log. A
    torn last line is what a crash during an append leaves by design: readers ignore it
    and the next append cuts it off, so it is not damage."""
    build_log = path.suffix == ".log"
    problems = []
    for lineno, line in read_lines(path):
        try:
            parse_entry(line) if build_log else parse_line(line)
        except (ValueError, KeyError, TypeError, UrdError, BadId) as e:
            what = "build log entry" if build_log else "urd entry"
            problems.append((lineno, f"malformed {what}: {e}"))
    return problems


def check_project(project: Project) -> FsckReport:
    """fsck of the project's store, and of the work folders of its stored jobs."""
    report = fsck(project.store, references, bad_lines)
    report.problems += workdir_problems(project)
    return report


def workdir_problems(project: Project) -> list[Problem]:
    """Every file of a stored job's work folder that differs from the store (hashed)."""
    store = project.store
    found = []
    for jid in layout.list_folder(store.root, "work"):
        method, _, prefix = jid.rpartition("-")
        for key in store.index.keys_with_prefix(prefix):
            try:
                job = Job.from_key(project, key)
                if job.method != method:
                    continue
                what = differences(store.path("work", jid), job.manifest, store.objects)
            except GitaxError:
                continue  # the index entry or manifest is damaged: reported above
            found += [
                Problem(
                    f"{store.path('work', jid)}/{line.split(': ', 1)[0]}",
                    line.split(": ", 1)[1] + "; remove the folder: it is rebuilt from the store",
                )
                for line in what
            ]
    return found
