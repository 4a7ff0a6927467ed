"""Merging urd logs: both sides' lines are kept; none is ever dropped or rewritten."""

from __future__ import annotations

from dataclasses import dataclass, field

from gitax.jobs.urdlog import Session, parse_line
from gitax.store.reflog import complete_lines


@dataclass
class MergeResult:
    """The merged log, how many lines it gained, and conflicting sessions."""

    data: bytes
    added: int = 0
    conflicts: list[str] = field(default_factory=list)  # "list@timestamp"


def merge_logs(base: bytes, incoming: bytes) -> MergeResult:
    """base's lines, then incoming's lines that base lacks, in incoming's order. A session
    in incoming at a timestamp where base has a session with other jobs is a conflict:
    both lines are kept (the later one is what the list shows) and it is reported."""
    have = complete_lines(base)
    known = set(have)
    sessions: dict[str, Session] = {}
    for line in have:
        entry = parse_line(line)
        if isinstance(entry, Session):
            sessions[entry.timestamp] = entry
    new = []
    conflicts = []
    for line in complete_lines(incoming):
        if line in known:
            continue
        known.add(line)
        new.append(line)
        entry = parse_line(line)
        if isinstance(entry, Session):
            old = sessions.get(entry.timestamp)
            if old is not None and not old.same_jobs(entry):
                conflicts.append(entry.ref)
            sessions[entry.timestamp] = entry
    data = b"".join(line + b"\n" for line in have + new)
    return MergeResult(data, len(new), conflicts)
