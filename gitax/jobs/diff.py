"""What differs between two jobs, or two urd sessions, as plain data."""

from __future__ import annotations

import difflib
import reprlib
from typing import Any

from gitax.jobs.job import Job
from gitax.jobs.manifest import parse_tree
from gitax.jobs.urdlog import Session
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
    opts_a, opts_b = from_jsonable(ma.options), from_jsonable(mb.options)
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

    def by_name(s: Session) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for j in s.joblist:
            out.setdefault(j.name, []).append(j.id)
        return out

    na, nb = by_name(a), by_name(b)
    order = [j.name for j in a.joblist] + [j.name for j in b.joblist]
    names = list(dict.fromkeys(order))
    jobs = []
    for name in names:
        ia, ib = na.get(name, []), nb.get(name, [])
        for k in range(max(len(ia), len(ib))):
            ja = ia[k] if k < len(ia) else None
            jb = ib[k] if k < len(ib) else None
            if ja != jb:
                status = "added" if ja is None else "removed" if jb is None else "changed"
                jobs.append({"name": name, "status": status, "a": ja, "b": jb})
    same = len(a.joblist) - sum(1 for j in jobs if j["a"] is not None)
    return {"a": a.ref, "b": b.ref, "jobs": jobs, "unchanged": same}
