"""Recording a run of a build script: its build record object and its build log line.

Write order, as for jobs: the blobs (sources, output), then the record object, then the
log line under the log's lock. A build killed before the line is appended leaves only
unreferenced objects, which gc removes.
"""

from __future__ import annotations

import ast
import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from gitax.jobs.buildlog import BuildLogs, BuildRecord, Call, LogEntry, format_record
from gitax.jobs.imports import local_imports
from gitax.jobs.project import Project
from gitax.jobs.urdlog import now_recorded
from gitax.run.environment import environment

OUTPUT_CAP = 16 << 20  # what a build script prints beyond this is not kept


class _Tee:
    """A text stream that writes through to `inner` and keeps a copy; everything else
    (encoding, isatty, fileno, buffer …) is the inner stream's."""

    def __init__(self, inner: TextIO, kept: list[str], size: list[int]) -> None:
        self._inner, self._kept, self._size = inner, kept, size

    def write(self, text: str) -> int:
        if self._size[0] < OUTPUT_CAP:
            self._kept.append(text)
            self._size[0] += len(text)
        return self._inner.write(text)

    def flush(self) -> None:
        self._inner.flush()

    def __getattr__(self, name: str) -> Any:  # buffer, fileno, encoding, isatty …
        return getattr(self._inner, name)


@contextlib.contextmanager
def captured_output() -> Iterator[list[str]]:
    """Keep a copy of what is printed (stdout and stderr) during the block."""
    kept: list[str] = []
    size = [0]
    saved = sys.stdout, sys.stderr
    sys.stdout = _Tee(sys.stdout, kept, size)  # type: ignore[assignment]
    sys.stderr = _Tee(sys.stderr, kept, size)  # type: ignore[assignment]
    try:
        yield kept
    finally:
        sys.stdout, sys.stderr = saved


@dataclass
class Run:
    """What a build record is made of, gathered while the script runs."""

    script: Path
    args: tuple[str, ...] = ()
    started: str = field(
        default_factory=lambda: datetime.now(timezone.utc).replace(tzinfo=None).isoformat()
    )


def script_sources(project: Project, script: Path, source: bytes) -> dict[str, str]:
    """The build script and the project-local modules it imports: path -> blob id (stored)."""
    objects = project.store.objects
    root = project.root
    sources = {script.relative_to(root).as_posix(): objects.put_bytes("blob", source)}
    with contextlib.suppress(SyntaxError, ValueError):
        tree = ast.parse(source, filename=str(script))
        roots = [script.parent, root]
        for path in local_imports(script, tree, roots, root, [project.store.root]):
            sources[path.relative_to(root).as_posix()] = objects.put_file("blob", path)
    return sources


def record_run(
    project: Project,
    run: Run,
    source: bytes,
    calls: list[Call],
    output: list[str],
    git: dict[str, Any],
    wall: float,
    error: str,
) -> LogEntry:
    """Store the build record of a run and append it to its script's build log."""
    objects = project.store.objects
    text = "".join(output)
    env = environment()
    record = BuildRecord(
        script=run.script.relative_to(project.root).as_posix(),
        name=run.script.stem,
        args=run.args,
        sources=script_sources(project, run.script, source),
        calls=tuple(calls),
        output=objects.put_bytes("blob", text.encode("utf-8", "replace")) if text else None,
        timing={
            "started": run.started,
            "finished": datetime.now(timezone.utc).replace(tzinfo=None).isoformat(),
            "wall": round(wall, 6),
        },
        git=git,
        ok=not error,
        error=error,
        user=env["user"],
        host=env["host"],
    )
    oid = objects.put_bytes("build", format_record(record))
    entry = LogEntry(record.name, now_recorded(), oid, record.ok, record.user)
    BuildLogs(project.store.builds).append(entry)
    return entry
