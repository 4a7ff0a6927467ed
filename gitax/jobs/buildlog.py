"""Build records: every run of a build script, stored as an object, on a ref log per script.

A record (object type `build`) holds the script's source and the local modules it
imports, its name and arguments, each `urd.build` call in order (name, method, job,
built or reused, why it ran), what the script printed, timings, git state, and whether
it succeeded. `builds/<script>.log` is an append-only log of record ids, one canonical
JSON line per run (docs/format.md, "Build records").
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitax.errors import GitaxError
from gitax.jobs.urdlog import normalise_timestamp
from gitax.jobs.when import pick_when
from gitax.store import layout
from gitax.store.hashing import canonical_json, is_object_id
from gitax.store.reflog import append_line, complete_lines, read_lines
from gitax.words import count

BUILD_FORMAT = 1


class BuildLogError(GitaxError):
    """A bad build reference, or a malformed build record or log."""


@dataclass(frozen=True, slots=True)  # slots: a build of many jobs holds one per job
class Call:
    """One `urd.build` of a build script's run."""

    name: str  # the `name=` given, else the method
    method: str
    key: str
    built: bool
    why: tuple[str, ...] = ()  # why it ran (empty when reused)

    @property
    def id(self) -> str:
        """The job's id, `<method>-<key[:12]>`."""
        return f"{self.method}-{self.key[:12]}"


@dataclass(frozen=True)
class BuildRecord:
    """One run of a build script."""

    script: str  # project-relative path, e.g. build.py
    name: str  # the log it is on: `build` or `build_<name>`
    args: tuple[str, ...]
    sources: dict[str, str]  # project-relative path -> blob id (the script, its modules)
    calls: tuple[Call, ...]
    output: str | None  # blob id of what the script printed, or None
    timing: dict[str, Any]  # started, finished (UTC ISO), wall (s)
    git: dict[str, Any]
    ok: bool
    error: str = ""
    user: str = ""
    host: str = ""

    def keys(self) -> set[str]:
        """The keys of every job the run built or reused."""
        return {c.key for c in self.calls}

    def object_ids(self) -> list[str]:
        """Every object this record refers to."""
        return [*self.sources.values(), *([self.output] if self.output else [])]


def format_record(r: BuildRecord) -> bytes:
    """A build record object's content (canonical JSON)."""
    doc = {
        "format": BUILD_FORMAT,
        "script": r.script,
        "name": layout.check("builds", r.name),
        "args": list(r.args),
        "sources": dict(sorted(r.sources.items())),
        "calls": [[c.name, c.method, c.id, c.key, c.built, list(c.why)] for c in r.calls],
        "output": r.output,
        "timing": r.timing,
        "git": r.git,
        "ok": r.ok,
        "error": r.error,
        "user": r.user,
        "host": r.host,
    }
    return canonical_json(doc)


def parse_record(data: bytes) -> BuildRecord:
    """Parse and check a build record; BuildLogError if malformed."""
    try:
        doc = json.loads(data)
        if doc.get("format") != BUILD_FORMAT:
            raise BuildLogError(f"build record format {doc.get('format')!r} is not supported")
        calls = []
        for name, method, jid, key, built, why in doc["calls"]:
            if not (is_object_id(key) and layout.is_valid("work", jid)):
                raise BuildLogError(f"a bad job {jid!r} with key {key!r}")
            if jid != f"{method}-{key[:12]}":
                raise BuildLogError(f"job id {jid!r} does not match its key {key!r}")
            calls.append(Call(str(name), str(method), key, bool(built), tuple(map(str, why))))
        sources = {str(p): str(o) for p, o in doc["sources"].items()}
        output = doc["output"]
        if not all(map(is_object_id, [*sources.values(), *([output] if output else [])])):
            raise BuildLogError("a bad object id")
        return BuildRecord(
            script=str(doc["script"]),
            name=layout.check("builds", doc["name"]),
            args=tuple(map(str, doc["args"])),
            sources=sources,
            calls=tuple(calls),
            output=output,
            timing=dict(doc["timing"]),
            git=dict(doc["git"]),
            ok=bool(doc["ok"]),
            error=str(doc.get("error", "")),
            user=str(doc.get("user", "")),
            host=str(doc.get("host", "")),
        )
    except BuildLogError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, layout.BadId) as e:
        raise BuildLogError(f"malformed build record: {e}") from None


@dataclass(frozen=True)
class LogEntry:
    """One line of a build log: a record and when it was made."""

    name: str
    recorded: str  # UTC ISO to the microsecond; the log's order
    record: str  # object id
    ok: bool
    user: str

    @property
    def ref(self) -> str:
        """`<script>@<recorded>`."""
        return f"{self.name}@{self.recorded}"


def format_entry(e: LogEntry) -> bytes:
    """A build log line."""
    doc = {
        "v": BUILD_FORMAT,
        "name": layout.check("builds", e.name),
        "recorded": e.recorded,
        "record": e.record,
        "ok": e.ok,
        "user": e.user,
    }
    return canonical_json(doc) + b"\n"


def parse_entry(line: bytes) -> LogEntry:
    """A build log line; ValueError when malformed."""
    doc = json.loads(line)
    if not isinstance(doc, dict) or doc.get("v") != BUILD_FORMAT:
        raise ValueError("unknown build log entry version")
    if not is_object_id(doc["record"]):
        raise ValueError(f"record {doc['record']!r} is not an object id")
    datetime.datetime.fromisoformat(doc["recorded"])
    return LogEntry(
        layout.check("builds", doc["name"]),
        doc["recorded"],
        doc["record"],
        bool(doc["ok"]),
        str(doc["user"]),
    )


def log_entries(data: bytes, where: str) -> list[LogEntry]:
    """Every complete line of a build log, ordered by recorded time; BuildLogError naming
    `where` and the line if one is malformed."""
    out = []
    for lineno, line in enumerate(complete_lines(data), 1):
        try:
            out.append(parse_entry(line))
        except (ValueError, KeyError, TypeError, layout.BadId) as e:
            raise BuildLogError(f"{where}:{lineno}: malformed build log entry: {e}") from None
    return sorted(out, key=lambda e: (e.recorded, e.record))


def merge_build_logs(base: bytes, incoming: bytes, where: str) -> tuple[bytes, int]:
    """base's lines, then incoming's that base lacks (a union: runs never conflict)."""
    log_entries(incoming, where)
    have = complete_lines(base)
    known = set(have)
    new = [line for line in dict.fromkeys(complete_lines(incoming)) if line not in known]
    return b"".join(line + b"\n" for line in have + new), len(new)


@dataclass
class BuildLogs:
    """The build logs of a store: `<store>/builds/<script>.log`."""

    root: Path  # <store>/builds
    _cache: dict[str, list[LogEntry]] = field(default_factory=dict)

    def path(self, name: str) -> Path:
        """The log file of a build script (`build`, `build_daily`)."""
        return layout.under(self.root, "builds", name)

    def names(self) -> list[str]:
        """Every build script with a log, sorted."""
        return layout.list_under(self.root, "builds")

    def entries(self, name: str) -> list[LogEntry]:
        """A script's runs, oldest first."""
        if name not in self._cache:
            path = self.path(name)
            data = b"".join(line + b"\n" for _, line in read_lines(path))
            self._cache[name] = log_entries(data, str(path))
        return self._cache[name]

    def append(self, entry: LogEntry) -> None:
        """Add a run (its record must be stored first)."""
        append_line(self.path(entry.name), format_entry(entry))
        self._cache.pop(entry.name, None)

    def resolve(self, ref: str) -> LogEntry:
        """`NAME` (the latest run), `NAME~N` (N runs before it), `NAME@WHEN` (the latest
        run at or before a date, partial date or datetime)."""
        name, sep, rest = ref.partition("@") if "@" in ref else ref.partition("~")
        entries = self.entries(layout.check("builds", name))
        if not entries:
            raise BuildLogError(
                f"no build of {name!r} is recorded; recorded: {', '.join(self.names()) or 'none'}"
            )
        if sep == "@":
            i = pick_when([e.recorded for e in entries], rest, "<=", normalise_timestamp)
            if i is None:
                raise BuildLogError(
                    f"{ref!r}: no build there; the builds of {name} run from "
                    f"{entries[0].recorded} to {entries[-1].recorded}"
                )
            return entries[i]
        if sep == "~":
            if not rest.isdigit():
                raise BuildLogError(f"{ref!r}: write NAME~N with N a number of builds back")
            if int(rest) >= len(entries):
                raise BuildLogError(
                    f"{ref!r}: {name} has only {count(len(entries), 'recorded build')}"
                )
            return entries[-1 - int(rest)]
        return entries[-1]

    def is_ref(self, ref: str) -> bool:
        """Does `ref` name a build script with a log (`build`, `build_x~1`, `build@…`)?"""
        name = ref.split("@", 1)[0].split("~", 1)[0]
        return (name == "build" or name.startswith("build_")) and (
            layout.is_valid("builds", name) and self.path(name).is_file()
        )


def latest_records(entries: list[LogEntry]) -> set[str]:
    """The record ids of a script's latest run and its latest successful run."""
    ok = [e for e in entries if e.ok]
    return {e.record for e in entries[-1:] + ok[-1:]}


def latest_roots(objects: Any, logs: BuildLogs) -> tuple[set[str], set[str], set[str]]:
    """(every stored record id, the keys of the jobs of each script's latest run and latest
    successful run, those records and what they refer to), parsing only the latest
    records: what push needs before it knows which records the remote lacks."""
    stored: set[str] = set()
    keys: set[str] = set()
    refs: set[str] = set()
    for name in logs.names():
        entries = logs.entries(name)
        stored |= {e.record for e in entries if objects.has(e.record)}
        for rid in latest_records(entries) & stored:
            record = parse_record(objects.get_bytes(rid, "build"))
            keys |= record.keys()
            refs |= {rid, *record.object_ids()}
    return stored, keys, refs


def record_objects(objects: Any, logs: BuildLogs) -> tuple[set[str], set[str]]:
    """(every stored record object and what it refers to, the keys of the jobs of each
    script's latest run and latest successful run): what gc keeps and push sends."""
    kept: set[str] = set()
    keys: set[str] = set()
    for name in logs.names():
        entries = logs.entries(name)
        latest = latest_records(entries)
        for e in entries:
            if not objects.has(e.record):
                continue  # a record whose object never made it: the line alone is kept
            record = parse_record(objects.get_bytes(e.record, "build"))
            kept |= {e.record, *record.object_ids()}
            if e.record in latest:
                keys |= record.keys()
    return kept, keys
