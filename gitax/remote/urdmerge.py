"""Merging urd logs: both sides' lines are kept; none is ever dropped or rewritten.

Which session a list shows at a timestamp does not depend on the order of the lines
(`replay` applies them by their `recorded` time, then by their bytes), so two stores that
hold the same lines agree, whatever order they pushed and pulled in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gitax.jobs.urdlog import Session, parse_entries, replay
from gitax.store.reflog import complete_lines


@dataclass
class MergeResult:
    """The merged log, how many lines it gained, and conflicting sessions."""

    data: bytes
    added: int = 0
    conflicts: list[str] = field(default_factory=list)  # "list@timestamp"


def merge_logs(base: bytes, incoming: bytes, where: str = "an urd log") -> MergeResult:
    """base's lines, then incoming's lines that base lacks, in incoming's order. A
    conflict is an incoming session at a timestamp where base showed one with other
    jobs: both lines are kept, and it is reported. A base that showed no session at
    that timestamp (no copy of its own) has no conflict."""
    have = complete_lines(base)
    known = set(have)
    new = []
    for line in complete_lines(incoming):
        if line not in known:
            known.add(line)
            new.append(line)
    data = b"".join(line + b"\n" for line in have + new)
    # replay refuses a malformed line of base, naming `where` and the line
    shown = {s.timestamp: s for s in replay(Path(where), list(enumerate(have, 1)))}
    conflicts = set()
    for entry in parse_entries(b"".join(line + b"\n" for line in new), where):
        if isinstance(entry, Session):
            old = shown.get(entry.timestamp)
            if old is not None and not old.same_jobs(entry):
                conflicts.add(entry.ref)
    return MergeResult(data, len(new), sorted(conflicts))
