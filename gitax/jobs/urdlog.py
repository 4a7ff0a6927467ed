"""urd lists: named, append-only logs of build sessions (see docs/format.md, "urd lists").

Each list is a text file `<store>/urd/<name>.urd`, one canonical JSON object per line:
a `session` entry when a build session finishes, a `truncate` entry when later sessions
are hidden. What a list shows is the log replayed: the newest entry for each timestamp,
minus those at or after a truncation. Nothing is ever deleted from the file.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitax.errors import GitaxError
from gitax.jobs.when import pick, pick_when
from gitax.store import layout
from gitax.store.hashing import canonical_json, is_object_id
from gitax.store.reflog import append_line, complete_lines, read_lines
from gitax.words import count

URD_FORMAT = 1
LIST_RE = layout.LOG_NAME


class UrdError(GitaxError):
    """A bad list name, timestamp or reference, or a malformed urd log."""


def check_list_name(name: str) -> str:
    """A valid list name: `main`, `nightly/eu`; no `..`, no leading dots, no spaces."""
    if not layout.is_valid("urd", name):
        raise UrdError(
            f"{name!r} is not a valid urd list name: use letters, digits, '_', '-', '.' "
            "and '/' between parts (like 'main' or 'nightly/eu')"
        )
    return name


def normalise_timestamp(value: Any = None, now: datetime.datetime | None = None) -> str:
    """A timestamp as the ISO text that orders sessions: a date, a datetime (UTC when
    aware), or such text; None means now (UTC, to the microsecond)."""
    if value is None:
        value = now or datetime.datetime.now(datetime.timezone.utc)
        value = value.replace(tzinfo=None)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, str):
        try:
            parsed: datetime.date = (
                datetime.date.fromisoformat(value)
                if len(value) == 10
                else datetime.datetime.fromisoformat(value)
            )
        except ValueError:
            raise UrdError(
                f"timestamp {value!r} is not a date or datetime: write '2023-01-05' or "
                "'2023-01-05T10:30:00'"
            ) from None
        value = parsed
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise UrdError(f"timestamp {value!r} must be a date, a datetime or ISO text")


@dataclass(frozen=True)
class JobEntry:
    """One `urd.build` of a session."""

    name: str  # the `name=` given, else the method
    method: str
    id: str
    key: str
    built: bool


@dataclass(frozen=True)
class Session:
    """One finished build session of an urd list."""

    list: str
    timestamp: str
    recorded: str
    user: str
    caption: str = ""
    script: str = ""
    script_blob: str = ""
    joblist: tuple[JobEntry, ...] = ()
    deps: tuple[tuple[str, str], ...] = ()  # (list, timestamp) read by the session

    @property
    def ref(self) -> str:
        """`list@timestamp`."""
        return f"{self.list}@{self.timestamp}"

    def same_jobs(self, other: Session) -> bool:
        """Do two sessions hold the same jobs in the same order?"""
        return [(j.name, j.key) for j in self.joblist] == [(j.name, j.key) for j in other.joblist]


def format_session(s: Session) -> bytes:
    """A `session` log line."""
    doc = {
        "v": URD_FORMAT,
        "op": "session",
        "list": check_list_name(s.list),
        "timestamp": s.timestamp,
        "recorded": s.recorded,
        "user": s.user,
        "caption": s.caption,
        "script": s.script,
        "script_blob": s.script_blob,
        "joblist": [[j.name, j.method, j.id, j.key, j.built] for j in s.joblist],
        "deps": [list(d) for d in s.deps],
    }
    return canonical_json(doc) + b"\n"


def format_truncate(name: str, timestamp: str, recorded: str, user: str) -> bytes:
    """A `truncate` log line: sessions at or after `timestamp` are hidden."""
    doc = {
        "v": URD_FORMAT,
        "op": "truncate",
        "list": check_list_name(name),
        "timestamp": timestamp,
        "recorded": recorded,
        "user": user,
    }
    return canonical_json(doc) + b"\n"


def parse_line(line: bytes) -> Session | tuple[str, str]:
    """A Session, or ('truncate', timestamp); ValueError when malformed."""
    doc = json.loads(line)
    if not isinstance(doc, dict) or doc.get("v") != URD_FORMAT:
        raise ValueError(
            f"unknown urd entry version {doc.get('v') if isinstance(doc, dict) else doc!r}"
        )
    normalise_timestamp(doc["timestamp"])
    check_list_name(doc["list"])
    if doc["op"] == "truncate":
        return ("truncate", doc["timestamp"])
    if doc["op"] != "session":
        raise ValueError(f"unknown urd entry op {doc['op']!r}")
    jobs = tuple(_job_entry(item) for item in doc["joblist"])
    script_blob = str(doc.get("script_blob", ""))
    if script_blob and not is_object_id(script_blob):
        raise ValueError(f"script_blob {script_blob!r} is not an object id")
    return Session(
        list=doc["list"],
        timestamp=doc["timestamp"],
        recorded=str(doc["recorded"]),
        user=str(doc["user"]),
        caption=str(doc.get("caption", "")),
        script=str(doc.get("script", "")),
        script_blob=script_blob,
        joblist=jobs,
        deps=tuple((str(a), str(b)) for a, b in doc.get("deps", [])),
    )


def _job_entry(item: Any) -> JobEntry:
    """One joblist item, its key and id checked: they come from a file or a remote, and
    the key forms store paths."""
    name, method, jid, key, built = item
    entry = JobEntry(str(name), str(method), str(jid), str(key), bool(built))
    if not (
        is_object_id(entry.key)
        and layout.is_valid("latest", entry.method)  # a method name
        and layout.is_valid("work", entry.id)  # a method name and 12 hex digits
    ):
        raise ValueError(f"bad job {entry.id!r} (method {entry.method!r}, key {entry.key!r})")
    return entry


def log_sessions(data: bytes, where: str = "an urd log") -> list[Session]:
    """Every session line of a log, in log order (superseded and truncated ones too);
    UrdError naming `where` and the line if one is malformed."""
    return [e for e in parse_entries(data, where) if isinstance(e, Session)]


def parse_entries(data: bytes, where: str) -> list[Session | tuple[str, str]]:
    """Every complete line of a log parsed, in order; UrdError naming `where` and the line."""
    out = []
    for lineno, line in enumerate(complete_lines(data), 1):
        try:
            out.append(parse_line(line))
        except (ValueError, KeyError, TypeError, UrdError, layout.BadId) as e:
            raise UrdError(f"{where}:{lineno}: malformed urd entry: {e}") from None
    return out


def session_keys(sessions: Iterable[Session]) -> tuple[set[str], set[str]]:
    """(job keys, script blob ids) named by some sessions."""
    keys: set[str] = set()
    blobs: set[str] = set()
    for s in sessions:
        keys |= {j.key for j in s.joblist}
        if s.script_blob:
            blobs.add(s.script_blob)
    return keys, blobs


def replay(path: Path, lines: list[tuple[int, bytes]]) -> list[Session]:
    """The sessions a log shows, oldest first. Entries apply in the order of their
    `recorded` time (to the microsecond), not of the file, so two stores holding the
    same lines show the same sessions however they were merged: a session entry sets the
    session at its timestamp, a truncation hides every session at or after its own.
    Entries recorded at the very same time keep their file order, except two sessions at
    one timestamp, where the greater line wins (a rule both sides apply alike)."""
    entries: list[tuple[str, bytes, Session | tuple[str, str]]] = []
    for lineno, line in lines:
        try:
            entry = parse_line(line)
        except (ValueError, KeyError, TypeError, UrdError, layout.BadId) as e:
            raise UrdError(f"{path}:{lineno}: malformed urd entry: {e}") from None
        recorded = entry.recorded if isinstance(entry, Session) else _recorded(line)
        entries.append((recorded, line, entry))
    visible: dict[str, tuple[str, bytes, Session]] = {}
    for recorded, line, entry in sorted(entries, key=lambda e: e[0]):  # stable: file order
        if isinstance(entry, Session):
            old = visible.get(entry.timestamp)
            if old is None or old[0] != recorded or old[1] < line:
                visible[entry.timestamp] = (recorded, line, entry)
        else:
            visible = {t: v for t, v in visible.items() if t < entry[1]}
    return [visible[t][2] for t in sorted(visible)]


def _recorded(line: bytes) -> str:
    """The `recorded` text of a truncate line (its replay order)."""
    return str(json.loads(line).get("recorded", ""))


def now_recorded() -> str:
    """The `recorded` time of a new entry: UTC to the microsecond, so entries written
    within one second still apply in the order they were made."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    return now.isoformat(timespec="microseconds")


@dataclass
class UrdLists:
    """The urd lists of a store."""

    root: Path  # <store>/urd
    _cache: dict[str, list[Session]] = field(default_factory=dict)

    def path(self, name: str) -> Path:
        """The log file of a list."""
        return layout.under(self.root, "urd", check_list_name(name))

    def names(self) -> list[str]:
        """Every list with a log, sorted."""
        return layout.list_under(self.root, "urd")

    def sessions(self, name: str) -> list[Session]:
        """The visible sessions of a list, oldest first (by timestamp)."""
        if name not in self._cache:
            path = self.path(name)
            self._cache[name] = replay(path, read_lines(path))
        return self._cache[name]

    def _need(self, name: str) -> list[Session]:
        sessions = self.sessions(name)
        if not sessions:
            raise UrdError(
                f"urd list {name!r} has no sessions; known lists: "
                f"{', '.join(self.names()) or 'none'}"
            )
        return sessions

    def latest(self, name: str) -> Session:
        """The session with the newest timestamp."""
        return self._need(name)[-1]

    def first(self, name: str) -> Session:
        """The session with the oldest timestamp."""
        return self._need(name)[0]

    def get(self, name: str, timestamp: Any) -> Session:
        """The session at exactly this timestamp."""
        ts = normalise_timestamp(timestamp)
        for s in self._need(name):
            if s.timestamp == ts:
                return s
        raise UrdError(f"urd list {name!r} has no session at {ts}")

    def find(self, name: str, timestamp: Any, default: str = "=") -> Session | None:
        """The session `timestamp` picks: exactly it, or with an operator before it (or
        `default`), the latest at or before (`<=`), before (`<`), or the earliest at or
        after (`>=`) or after (`>`) it; a partial date picks within it, as in exax."""
        sessions = self.sessions(name)
        stamps = [s.timestamp for s in sessions]
        if isinstance(timestamp, str):
            i = pick_when(stamps, timestamp, default, normalise_timestamp)
        else:
            i = pick(stamps, default, normalise_timestamp(timestamp))
        return None if i is None else sessions[i]

    def at(self, name: str, when: str) -> Session:
        """`LIST@WHEN`: the latest session at or before WHEN (see `find`)."""
        sessions = self._need(name)
        found = self.find(name, when, "<=")
        if found is None:
            raise UrdError(
                f"{name}@{when}: no session of {name!r} there; its sessions run from "
                f"{sessions[0].timestamp} to {sessions[-1].timestamp}"
            )
        return found

    def since(self, name: str, timestamp: Any) -> list[str]:
        """Timestamps of the sessions after `timestamp`, oldest first."""
        ts = normalise_timestamp(timestamp)
        return [s.timestamp for s in self.sessions(name) if s.timestamp > ts]

    def resolve(self, ref: str) -> Session:
        """`LIST`, `LIST@WHEN` (the latest at or before WHEN) or `LIST~N` (N sessions
        before the latest)."""
        if "@" in ref:
            name, when = ref.split("@", 1)
            return self.at(name, when)
        if "~" in ref:
            name, back = ref.split("~", 1)
            if not back.isdigit():
                raise UrdError(f"{ref!r}: write LIST~N with N a number of sessions back")
            sessions = self._need(name)
            if int(back) >= len(sessions):
                raise UrdError(f"{ref!r}: list {name!r} has only {count(len(sessions), 'session')}")
            return sessions[-1 - int(back)]
        return self.latest(ref)

    def record(self, session: Session, update: bool = False) -> bool:
        """Append a finished session; False if an identical one is there (a no-op)."""
        path = self.path(session.list)

        def check(lines: list[tuple[int, bytes]]) -> bool:
            # Under the log's lock: a session finishing at the same moment cannot slip in.
            for old in replay(path, lines):
                if old.timestamp == session.timestamp:
                    if old.same_jobs(session):
                        return False
                    if not update:
                        raise UrdError(
                            f"urd list {session.list!r} already has a session at "
                            f"{session.timestamp} with other jobs; pass update=True to replace it"
                        )
            return True

        self._cache.pop(session.list, None)
        return append_line(path, format_session(session), check)

    def truncate(self, name: str, timestamp: Any, user: str, recorded: str) -> None:
        """Hide the sessions at or after `timestamp` (the log keeps them)."""
        ts = normalise_timestamp(timestamp)
        append_line(self.path(name), format_truncate(name, ts, recorded, user))
        self._cache.pop(name, None)
