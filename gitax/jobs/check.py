"""The jobs layer's part of fsck: what trees and manifests refer to; bad urd lines."""

from __future__ import annotations

from pathlib import Path

from gitax.errors import GitaxError
from gitax.jobs.manifest import parse_manifest, parse_tree
from gitax.jobs.project import Project
from gitax.jobs.urdlog import UrdError, parse_line
from gitax.store.fsck import FsckReport, fsck
from gitax.store.reflog import read_lines


def references(data: bytes, obj_type: str) -> list[str]:
    """The object ids a tree or manifest refers to; ValueError if it is malformed."""
    try:
        if obj_type == "tree":
            return [e.id for e in parse_tree(data).values()]
        m = parse_manifest(data)
        return m.object_ids()
    except GitaxError as e:
        raise ValueError(str(e)) from None


def bad_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, problem) for every malformed line of an urd log, and a torn tail."""
    problems = []
    for lineno, line in read_lines(path):
        try:
            parse_line(line)
        except (ValueError, KeyError, TypeError, UrdError) as e:
            problems.append((lineno, f"malformed urd entry: {e}"))
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        problems.append((data.count(b"\n") + 1, "a torn last line (the next append repairs it)"))
    return problems


def check_project(project: Project) -> FsckReport:
    """fsck of the project's store."""
    return fsck(project.store, references, bad_lines)
