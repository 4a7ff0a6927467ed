"""The history of a project: urd sessions and build records, side by side, newest first."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from gitax.errors import GitaxError
from gitax.jobs.buildlog import BuildLogs, BuildRecord, LogEntry, parse_record
from gitax.jobs.project import Project
from gitax.jobs.urdlog import Session, UrdLists, check_list_name


@dataclass(frozen=True)
class BuildRun:
    """A run of a build script: its log entry and its record."""

    entry: LogEntry
    record: BuildRecord

    @property
    def ref(self) -> str:
        """`<script>@<recorded>`."""
        return self.entry.ref

    def doc(self) -> dict[str, Any]:
        """As JSON-able data."""
        doc = asdict(self.record)
        doc["calls"] = [{**asdict(c), "id": c.id} for c in self.record.calls]
        return {"kind": "build", "ref": self.ref, "recorded": self.entry.recorded, **doc}


def build_logs(project: Project) -> BuildLogs:
    """The store's build logs."""
    return BuildLogs(project.store.builds)


def load_run(project: Project, ref: str) -> BuildRun:
    """The run a build reference names: `build`, `build~1`, `build_daily@2024-01-05`."""
    entry = build_logs(project).resolve(ref)
    data = project.store.objects.get_bytes(entry.record, "build")
    return BuildRun(entry, parse_record(data))


def is_build_ref(project: Project, ref: str) -> bool:
    """Does `ref` name a recorded build script (and no urd list of the same name)?"""
    name = ref.split("@", 1)[0].split("~", 1)[0]
    lists = UrdLists(project.store.urd)
    if name in lists.names():
        return False
    return build_logs(project).is_ref(ref)


def history(project: Project, name: str | None = None, what: str = "all") -> list[Any]:
    """Sessions and build runs, newest first: of one urd list or build script, or of all;
    `what` is 'all', 'sessions' or 'builds'. Side by side they are ordered by when they
    were recorded; sessions alone by their timestamps, as urd orders them."""
    lists = UrdLists(project.store.urd)
    logs = build_logs(project)
    list_names, script_names = lists.names(), logs.names()
    if name is not None:
        known = name in list_names or name in script_names
        if not known:
            raise GitaxError(
                f"no urd list or build script {name!r} is recorded; lists: "
                f"{', '.join(list_names) or 'none'}; builds: {', '.join(script_names) or 'none'}"
            )
        list_names = [check_list_name(name)] if name in list_names else []
        script_names = [name] if name in script_names else []
    items: list[tuple[Any, Session | BuildRun]] = []
    if what in ("all", "sessions"):
        items += [(s.recorded, s) for n in list_names for s in lists.sessions(n)]
    if what in ("all", "builds"):
        for n in script_names:
            for entry in logs.entries(n):
                data = project.store.objects.get_bytes(entry.record, "build")
                items.append((entry.recorded, BuildRun(entry, parse_record(data))))
    if not script_names or what == "sessions":  # urd's own order: by session timestamp
        items = [((i.timestamp, i.recorded), i) for _, i in items if isinstance(i, Session)]
    items.sort(key=lambda item: item[0], reverse=True)
    return [item for _, item in items]
