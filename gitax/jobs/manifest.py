"""Job manifests and file trees: canonical JSON objects, each a format/parse pair."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from gitax.errors import GitaxError
from gitax.store import layout
from gitax.store.hashing import TAG, canonical_json, is_object_id

MANIFEST_FORMAT = 1
METHOD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TREE_FORMAT = 1
# A pickled value this small lives in the manifest: one stored (and synced) object less
# for each job that returns a number, a short string or a small dict.
INLINE_VALUE = 1024


class ManifestError(GitaxError):
    """A manifest or tree is malformed."""


OUTPUT_FOLDER = "OUTPUT"  # in a work folder: the captured output of each phase


def check_relpath(path: str) -> str:
    """Refuse a stored path that could leave its job directory or is otherwise hostile."""
    bad = (
        not path
        or path.startswith("/")
        or "\\" in path
        or any(c in path for c in "\0\n\r")
        or any(part in ("", ".", "..") for part in path.split("/"))
    )
    if bad:
        raise ManifestError(f"unsafe path in a job: {path!r}")
    return path


@dataclass(frozen=True)
class TreeEntry:
    """One file of a job."""

    id: str
    size: int
    exec: bool = False


def _check_no_nesting(paths: Iterable[str]) -> None:
    """Refuse a tree in which a file is also a folder of another (`x` and `x/y`): no
    folder can be materialised from it."""
    files = set(paths)
    for path in files:
        parts = path.split("/")
        for i in range(1, len(parts)):
            if "/".join(parts[:i]) in files:
                raise ManifestError(f"tree holds both {'/'.join(parts[:i])!r} and {path!r}")


def check_file_name(name: str) -> str:
    """Refuse a name a job may not register: unsafe, not UTF-8, or gitax's own OUTPUT."""
    check_relpath(name)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ManifestError(f"file name {name!r} is not UTF-8; name files in UTF-8") from None
    if name.split("/", 1)[0] == OUTPUT_FOLDER:
        raise ManifestError(
            f"{name!r}: {OUTPUT_FOLDER} holds the job's captured output; name the file otherwise"
        )
    return name


def format_tree(entries: dict[str, TreeEntry]) -> bytes:
    """A tree object's content."""
    for path, entry in entries.items():
        check_file_name(path)
        if not is_object_id(entry.id):
            raise ValueError(f"bad object id for {path}")
    _check_no_nesting(entries)
    files = {p: asdict(e) for p, e in sorted(entries.items())}
    return canonical_json({"format": TREE_FORMAT, "files": files})


def parse_tree(data: bytes) -> dict[str, TreeEntry]:
    """Parse and check a tree object."""
    try:
        doc = json.loads(data)
        if doc.get("format") != TREE_FORMAT:
            raise ManifestError(f"tree format {doc.get('format')!r} is not supported")
        entries = {}
        for path, e in doc["files"].items():
            entry = TreeEntry(str(e["id"]), int(e["size"]), bool(e.get("exec", False)))
            if not is_object_id(entry.id) or entry.size < 0:
                raise ManifestError(f"bad tree entry for {path!r}")
            entries[check_relpath(path)] = entry
        _check_no_nesting(entries)
        return entries
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ManifestError(f"malformed tree: {e}") from None


@dataclass(frozen=True)
class Manifest:
    """Everything stored about one completed job."""

    key: str
    method: str
    id: str
    options: dict[str, Any]  # JSON form (datetimes tagged)
    jobs: dict[str, Any]  # name -> {"id", "key"} | [..] | None
    sources: dict[str, str]  # project-relative path -> blob id
    files: str  # tree id
    value: str | None  # blob id of the pickled value (None when it is inline)
    output: dict[str, str] = field(default_factory=dict)  # phase -> blob id
    timing: dict[str, Any] = field(default_factory=dict)
    env: dict[str, Any] = field(default_factory=dict)
    git: dict[str, Any] = field(default_factory=dict)
    slices: int = 0  # analysis processes (part of the key when there is an analysis())
    profile: dict[str, Any] = field(default_factory=dict)  # per phase, and per slice
    subjobs: list[dict[str, str]] = field(default_factory=list)  # {"id", "key"} built inside
    git_blobs: dict[str, str] = field(default_factory=dict)  # source path -> git blob id
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # input path -> hash, size
    value_inline: str | None = None  # a small pickled value itself, base64
    datasets: dict[str, Any] = field(default_factory=dict)  # name -> description
    dataset_inputs: dict[str, Any] = field(default_factory=dict)  # param -> ref | [..] | None

    def value_bytes(self, objects: Any) -> bytes | None:
        """The pickled value: inline, or read from its blob (None if the job has none)."""
        if self.value_inline is not None:
            return base64.b64decode(self.value_inline)
        return None if self.value is None else objects.get_bytes(self.value, "blob")

    def object_ids(self) -> list[str]:
        """Every object this manifest refers to directly."""
        ids = [self.files, *self.sources.values(), *self.output.values()]
        return ids + ([self.value] if self.value else [])

    def input_refs(self) -> list[tuple[str, dict[str, str]]]:
        """(parameter, {"id", "key"}) for every input job, lists flattened."""
        out = []
        for name, ref in self.jobs.items():
            for r in ref if isinstance(ref, list) else [ref] if ref else []:
                out.append((name, r))
        return out

    def dataset_input_refs(self) -> list[tuple[str, dict[str, str]]]:
        """(parameter, {"id", "key", "name"}) for every dataset given, lists flattened."""
        out = []
        for name, ref in self.dataset_inputs.items():
            for r in ref if isinstance(ref, list) else [ref] if ref else []:
                out.append((name, r))
        return out

    def dataset_refs(self) -> list[tuple[str, dict[str, str]]]:
        """(dataset name, {"id", "key", "name"}) for every dataset the job's own datasets
        point at: the one before it, its parent, and those holding its columns."""
        out = []
        for name, meta in sorted(self.datasets.items()):
            refs = [meta.get("previous"), meta.get("parent")]
            refs += [c.get("in") for c in meta["columns"].values()]
            seen = set()
            for r in refs:
                if r and (r["key"], r["name"]) not in seen:
                    seen.add((r["key"], r["name"]))
                    out.append((name, r))
        return out

    def input_ids(self) -> dict[str, Any]:
        """Each input-job parameter as an id, a list of ids, or None."""
        return {
            name: [r["id"] for r in ref] if isinstance(ref, list) else (ref and ref["id"])
            for name, ref in self.jobs.items()
        }

    def upstream_edges(self) -> list[tuple[str, str]]:
        """(how, key) for every job this one was built from: an input job (by its
        parameter), a subjob ("(subjob)"), a job given as an option ("(option NAME)")."""
        edges = [(param, r["key"]) for param, r in self.input_refs()]
        edges += [(param, r["key"]) for param, r in self.dataset_input_refs()]
        edges += [(f"(dataset {name})", r["key"]) for name, r in self.dataset_refs()]
        edges += [("(subjob)", s["key"]) for s in self.subjobs]
        edges += [
            (f"(option {name})", key)
            for name, value in sorted(self.options.items())
            for key in sorted(option_job_keys(value))
        ]
        return edges

    def upstream_keys(self) -> set[str]:
        """The keys of the jobs this one was built from (so gc, push, pull and lineage all
        follow the same ones)."""
        return {key for _, key in self.upstream_edges()}


def option_job_keys(value: Any) -> set[str]:
    """The keys of the jobs tagged in an option value (`{"__gitax__": "job", ...}`)."""
    found: set[str] = set()
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, list):
            todo += item
        elif isinstance(item, dict):
            kind, plain = item.get(TAG), item.get("v")
            if kind == "job" and isinstance(plain, str):
                key = plain.rpartition("-")[2]
                if is_object_id(key):
                    found.add(key)
            elif kind == "jobwithfile" and isinstance(plain, list) and plain:
                todo.append({TAG: "job", "v": plain[0]})
            else:
                todo += item.values()
    return found


_REQUIRED = ("key", "method", "id", "options", "jobs", "sources", "files", "value")


def indexed_manifest(objects: Any, key: str, manifest_id: str) -> Manifest:
    """The manifest an index entry for `key` names, refused unless it is the manifest of
    a job with that key: a swapped or forged entry would otherwise serve another job."""
    m = parse_manifest(objects.get_bytes(manifest_id, "manifest"))
    if m.key != key:
        raise ManifestError(
            f"the index entry of key {key} names the manifest of another job ({m.id}); "
            "run `gitax fsck`, and build again after removing the entry"
        )
    return m


@dataclass(frozen=True)
class JobObjects:
    """The objects a stored job needs, by kind (what names what: the manifest names the
    tree and blobs, the tree names blobs), and the keys of the jobs it was built from."""

    manifest: str
    tree: str
    blobs: frozenset[str]  # the tree's files, sources, output, value
    upstream: frozenset[str]

    def ids(self) -> set[str]:
        """Every object id, whatever its kind."""
        return {self.manifest, self.tree, *self.blobs}


def job_objects(objects: Any, key: str, manifest_id: str) -> JobObjects:
    """What a stored job needs, read from an object database (its manifest and tree)."""
    m = indexed_manifest(objects, key, manifest_id)
    tree = parse_tree(objects.get_bytes(m.files, "tree"))
    blobs = {*m.object_ids(), *(e.id for e in tree.values())} - {m.files}
    return JobObjects(manifest_id, m.files, frozenset(blobs), frozenset(m.upstream_keys()))


def format_manifest(m: Manifest) -> bytes:
    """A manifest object's content."""
    doc = {"format": MANIFEST_FORMAT, **vars(m)}  # only read: no deep copy as asdict makes
    if m.value_inline is None:
        del doc["value_inline"]  # a manifest without one reads, and hashes, as before it existed
    for name in ("datasets", "dataset_inputs"):
        if not doc[name]:
            del doc[name]  # the same for jobs without datasets
    return canonical_json(doc)


def _check_job_refs(jobs: Any, subjobs: Any) -> None:
    """Input jobs and subjobs name other jobs by key, and keys form store paths: each
    must be a 64-hex key with an id `<method>-<key[:12]>`."""
    if not isinstance(jobs, dict) or not isinstance(subjobs, list):
        raise ManifestError("malformed manifest: jobs or subjobs of the wrong shape")
    refs: list[Any] = list(subjobs)
    for ref in jobs.values():
        refs += ref if isinstance(ref, list) else [] if ref is None else [ref]
    for ref in refs:
        key = ref.get("key") if isinstance(ref, dict) else None
        jid = ref.get("id") if isinstance(ref, dict) else None
        if not (isinstance(key, str) and is_object_id(key) and layout.is_valid("work", jid)):
            raise ManifestError(f"malformed manifest: a bad job reference {ref!r}")


def _check_datasets(datasets: Any, inputs: Any) -> None:
    """Dataset names become paths and their references keys: check both, as job refs are."""
    from gitax.jobs.dataset import NAME_RE  # its module imports nothing heavy

    if not isinstance(datasets, dict) or not isinstance(inputs, dict):
        raise ManifestError("malformed manifest: datasets of the wrong shape")
    refs: list[Any] = []
    for ref in inputs.values():
        refs += ref if isinstance(ref, list) else [] if ref is None else [ref]
    try:
        for name, meta in datasets.items():
            if not NAME_RE.match(name) or not isinstance(meta["columns"], dict):
                raise ManifestError(f"malformed manifest: a bad dataset {name!r}")
            refs += [meta.get("previous"), meta.get("parent")]
            refs += [c.get("in") for c in meta["columns"].values()]
    except (KeyError, TypeError, AttributeError):
        raise ManifestError("malformed manifest: a dataset of the wrong shape") from None
    refs = [r for r in refs if r is not None]
    for r in refs:
        name = r.get("name") if isinstance(r, dict) else None
        if not (isinstance(name, str) and NAME_RE.match(name)):
            raise ManifestError(f"malformed manifest: a bad dataset reference {r!r}")
    _check_job_refs({"": refs}, [])


def parse_manifest(data: bytes) -> Manifest:
    """Parse and check a manifest object."""
    try:
        doc = json.loads(data)
    except ValueError as e:
        raise ManifestError(f"malformed manifest: {e}") from None
    if not isinstance(doc, dict):
        raise ManifestError("malformed manifest: not an object")
    if doc.get("format") != MANIFEST_FORMAT:
        raise ManifestError(f"manifest format {doc.get('format')!r} is not supported")
    missing = [k for k in _REQUIRED if k not in doc]
    if missing:
        raise ManifestError(f"malformed manifest: missing {', '.join(missing)}")
    refs = [doc["files"], *doc["sources"].values(), *doc.get("output", {}).values()]
    if doc["value"] is not None:
        refs.append(doc["value"])
    if not all(isinstance(r, str) and is_object_id(r) for r in refs):
        raise ManifestError("malformed manifest: a bad object id")
    inline = doc.get("value_inline")
    if inline is not None:
        if doc["value"] is not None:
            raise ManifestError("malformed manifest: a value both inline and in a blob")
        try:
            base64.b64decode(inline, validate=True)
        except (TypeError, ValueError):
            raise ManifestError("malformed manifest: value_inline is not base64") from None
    for path in doc["sources"]:
        check_relpath(path)
    _check_job_refs(doc["jobs"], doc.get("subjobs", []))
    _check_datasets(doc.get("datasets", {}), doc.get("dataset_inputs", {}))
    method, key = doc["method"], doc["key"]
    if not (isinstance(method, str) and METHOD_NAME.match(method) and is_object_id(key)):
        raise ManifestError(f"malformed manifest: bad method {method!r} or key {key!r}")
    if doc["id"] != f"{method}-{key[:12]}":
        raise ManifestError(f"malformed manifest: id {doc['id']!r} does not match its key")
    del doc["format"]
    known = set(Manifest.__dataclass_fields__)
    return Manifest(**{k: v for k, v in doc.items() if k in known})
