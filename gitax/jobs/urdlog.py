"""urd lists: named, append-only logs of build sessions (see docs/format.md, "urd lists").

Each list is a text file `<store>/urd/<name>.urd`, one canonical JSON object per line:
a `session` entry when a build session finishes, a `truncate` entry when later sessions
are hidden. What a list shows is the log replayed: the newest entry for each timestamp,
minus those at or after a truncation. Nothing is ever deleted from the file.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitax.errors import GitaxError
from gitax.store.hashing import canonical_json
from gitax.store.reflog import append_line, complete_lines, read_lines

URD_FORMAT = 1
LIST_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$")


class UrdError(GitaxError):
    """A bad list name, timestamp or reference, or a malformed urd log."""


def check_list_name(name: str) -> str:
    """A valid list name: `main`, `nightly/eu`; no `..`, no leading dots, no spaces."""
    if not isinstance(name, str) or not LIST_RE.match(name) or name.endswith(".lock"):
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
    jobs = tuple(
        JobEntry(str(n), str(m), str(i), str(k), bool(b)) for n, m, i, k, b in doc["joblist"]
    )
    return Session(
        list=doc["list"],
        timestamp=doc["timestamp"],
        recorded=str(doc["recorded"]),
        user=str(doc["user"]),
        caption=str(doc.get("caption", "")),
        script=str(doc.get("script", "")),
        script_blob=str(doc.get("script_blob", "")),
        joblist=jobs,
        deps=tuple((str(a), str(b)) for a, b in doc.get("deps", [])),
    )


def log_sessions(data: bytes) -> list[Session]:
    """Every session line of a log, in log order (superseded and truncated ones too)."""
    return [e for e in map(parse_line, complete_lines(data)) if isinstance(e, Session)]


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
    """The sessions a log shows, oldest first: the newest entry per timestamp, minus those
    at or after a truncation."""
    visible: dict[str, Session] = {}
    for lineno, line in lines:
        try:
            entry = parse_line(line)
        except (ValueError, KeyError, TypeError, UrdError) as e:
            raise UrdError(f"{path}:{lineno}: malformed urd entry: {e}") from None
        if isinstance(entry, Session):
            visible[entry.timestamp] = entry
        else:
            visible = {t: s for t, s in visible.items() if t < entry[1]}
    return [visible[t] for t in sorted(visible)]


@dataclass
class UrdLists:
    """The urd lists of a store."""

    root: Path  # <store>/urd
    _cache: dict[str, list[Session]] = field(default_factory=dict)

    def path(self, name: str) -> Path:
        """The log file of a list."""
        return self.root / (check_list_name(name) + ".urd")

    def names(self) -> list[str]:
        """Every list with a log, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.relative_to(self.root).as_posix()[: -len(".urd")] for p in self.root.rglob("*.urd")
        )

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

    def since(self, name: str, timestamp: Any) -> list[str]:
        """Timestamps of the sessions after `timestamp`, oldest first."""
        ts = normalise_timestamp(timestamp)
        return [s.timestamp for s in self.sessions(name) if s.timestamp > ts]

    def resolve(self, ref: str) -> Session:
        """`LIST`, `LIST@TIMESTAMP` or `LIST~N` (N sessions before the latest)."""
        if "@" in ref:
            name, ts = ref.split("@", 1)
            return self.get(name, ts)
        if "~" in ref:
            name, back = ref.split("~", 1)
            if not back.isdigit():
                raise UrdError(f"{ref!r}: write LIST~N with N a number of sessions back")
            sessions = self._need(name)
            if int(back) >= len(sessions):
                raise UrdError(f"{ref!r}: list {name!r} has only {len(sessions)} sessions")
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
