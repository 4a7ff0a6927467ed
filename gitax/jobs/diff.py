"""What differs between two jobs, or two urd sessions, as plain data."""

from __future__ import annotations

import difflib
import reprlib
from typing import Any

from gitax.jobs.buildlog import BuildRecord, LogEntry
from gitax.jobs.job import Job
from gitax.jobs.manifest import parse_tree
from gitax.jobs.urdlog import Session
from gitax.jobs.withfile import untag_job
from gitax.store.hashing import from_jsonable


def _value_repr(job: Job) -> str:
    short = reprlib.Repr()
    short.maxstring, short.maxother, short.maxlist, short.maxdict = 200, 200, 20, 20
    try:
        return short.repr(job.load())
    except Exception as e:
        return f"<cannot unpickle here: {type(e).__name__}>"


def diff_jobs(a: Job, b: Job) -> dict[str, Any]:
    """Method, sources (unified diffs), options, input jobs, files, value: only what differs."""
    ma, mb = a.manifest, b.manifest
    objects = a.project.store.objects
    sources: dict[str, Any] = {}
    for path in sorted(set(ma.sources) | set(mb.sources)):
        oa, ob = ma.sources.get(path), mb.sources.get(path)
        if oa == ob:
            continue
        old = objects.get_bytes(oa).decode("utf-8", "replace").splitlines(True) if oa else []
        new = objects.get_bytes(ob).decode("utf-8", "replace").splitlines(True) if ob else []
        status = "added" if oa is None else "removed" if ob is None else "changed"
        diff = "".join(difflib.unified_diff(old, new, f"{a.id}/{path}", f"{b.id}/{path}", n=3))
        sources[path] = {"status": status, "diff": diff}
    opts_a, opts_b = from_jsonable(ma.options, untag_job), from_jsonable(mb.options, untag_job)
    options = {
        name: [opts_a.get(name), opts_b.get(name)]
        for name in sorted(set(opts_a) | set(opts_b))
        if opts_a.get(name) != opts_b.get(name)
    }
    ida, idb = ma.input_ids(), mb.input_ids()
    jobs = {
        name: [ida.get(name), idb.get(name)]
        for name in sorted(set(ida) | set(idb))
        if ida.get(name) != idb.get(name)
    }
    ta = parse_tree(objects.get_bytes(ma.files, "tree"))
    tb = parse_tree(objects.get_bytes(mb.files, "tree"))
    files: dict[str, Any] = {}
    for path in sorted(set(ta) | set(tb)):
        ea, eb = ta.get(path), tb.get(path)
        if ea is not None and eb is not None and ea.id == eb.id:
            continue
        status = "added" if ea is None else "removed" if eb is None else "changed"
        files[path] = {"status": status, "size": [ea and ea.size, eb and eb.size]}
    va, vb = _value_repr(a), _value_repr(b)
    return {
        "a": a.id,
        "b": b.id,
        "method": [ma.method, mb.method] if ma.method != mb.method else None,
        "sources": sources,
        "options": options,
        "jobs": jobs,
        "files": files,
        "value": [va, vb] if (ma.value, ma.value_inline) != (mb.value, mb.value_inline) else None,
        "same": a.key == b.key,
    }


def diff_sessions(a: Session, b: Session) -> dict[str, Any]:
    """Which jobs of two sessions differ, matched by their names in build order."""
    jobs, same = _diff_calls(
        [(j.name, j.id, ()) for j in a.joblist], [(j.name, j.id, ()) for j in b.joblist]
    )
    return {"a": a.ref, "b": b.ref, "jobs": jobs, "unchanged": same}


def diff_builds(a: LogEntry, ra: BuildRecord, b: LogEntry, rb: BuildRecord) -> dict[str, Any]:
    """Which jobs two runs of build scripts used differ, and why each new one ran."""
    jobs, same = _diff_calls(
        [(c.name, c.id, c.why) for c in ra.calls], [(c.name, c.id, c.why) for c in rb.calls]
    )
    sources = {
        path: "added"
        if path not in ra.sources
        else "removed"
        if path not in rb.sources
        else "changed"
        for path in sorted(set(ra.sources) | set(rb.sources))
        if ra.sources.get(path) != rb.sources.get(path)
    }
    return {"a": a.ref, "b": b.ref, "jobs": jobs, "unchanged": same, "sources": sources}


def _diff_calls(
    a: list[tuple[str, str, tuple[str, ...]]], b: list[tuple[str, str, tuple[str, ...]]]
) -> tuple[list[dict[str, Any]], int]:
    """(the calls that differ, matched by name in build order; how many are the same)."""

    def by_name(items: list[tuple[str, str, tuple[str, ...]]]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for name, jid, why in items:
            out.setdefault(name, []).append((jid, why))
        return out

    na, nb = by_name(a), by_name(b)
    names = list(dict.fromkeys([n for n, _, _ in a] + [n for n, _, _ in b]))
    jobs = []
    for name in names:
        ia, ib = na.get(name, []), nb.get(name, [])
        for k in range(max(len(ia), len(ib))):
            ja = ia[k][0] if k < len(ia) else None
            jb, why = ib[k] if k < len(ib) else (None, ())
            if ja != jb:
                status = "added" if ja is None else "removed" if jb is None else "changed"
                jobs.append({"name": name, "status": status, "a": ja, "b": jb, "why": list(why)})
    same = len(a) - sum(1 for j in jobs if j["a"] is not None)
    return jobs, same
