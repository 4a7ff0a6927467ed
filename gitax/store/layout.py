"""The store's layout: the one map from a kind of record and its id to a path.

Every path inside a store (local, or a remote of any transport) is formed here, and only
after its id is checked: an id read from disk, a remote, a log or a manifest is untrusted
until it passes `check`, so no record can name a path outside its folder (see
docs/format.md, "The store").
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from gitax.errors import GitaxError

HEX64 = re.compile(r"^[0-9a-f]{64}$")
METHOD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
JOB_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*-[0-9a-f]{12}$")
# urd lists and build logs: parts of letters, digits, _ - . joined by '/'; no part starts
# with a dot, so neither `..` nor a hidden file can be named.
LOG_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$")

# kind -> (folder, how the id is checked, how the id becomes a path below the folder)
_SHARDED = "sharded"  # ab/cdef…
_PLAIN = "plain"  # the id itself
_LOG = "log"  # <name>.<suffix>, may hold '/'

KINDS: dict[str, tuple[str, re.Pattern[str], str, str]] = {
    # kind: (folder, id pattern, shape, suffix)
    "object": ("objects", HEX64, _SHARDED, ""),
    "index": ("index", HEX64, _SHARDED, ""),
    "origin": ("origin", HEX64, _SHARDED, ""),
    "lock": ("locks", HEX64, _PLAIN, ""),
    "urd": ("urd", LOG_NAME, _LOG, ".urd"),
    "builds": ("builds", LOG_NAME, _LOG, ".log"),
    "work": ("work", JOB_ID, _PLAIN, ""),
    "failed": ("failed", JOB_ID, _PLAIN, ""),
    "latest": ("latest", METHOD, _PLAIN, ""),
    "project": ("projects", HEX64, _PLAIN, ""),
}

# Folders of a store that hold no records: where temp files and the like go.
TMP = "tmp"
FORMAT = "format"


class BadId(GitaxError):
    """An id that cannot name a record of its kind (it would form a bad or outside path)."""

    def __init__(self, kind: str, value: object, where: str = "") -> None:
        self.kind, self.value, self.where = kind, value, where
        origin = f"{where}: " if where else ""
        super().__init__(f"{origin}{value!r} is not a valid {kind} id; refusing it")


def is_valid(kind: str, ident: object) -> bool:
    """Would `ident` pass `check` for this kind?"""
    pattern = KINDS[kind][1]
    if not isinstance(ident, str) or not pattern.match(ident):
        return False
    return not (KINDS[kind][2] == _LOG and ident.endswith(".lock"))


def check(kind: str, ident: object, where: str = "") -> str:
    """`ident` if it is a valid id of `kind`, else BadId naming it (and `where` it came from)."""
    if not is_valid(kind, ident):
        raise BadId(kind, ident, where)
    assert isinstance(ident, str)
    return ident


def folder(kind: str) -> str:
    """The folder (relative to a store's root) that holds every record of a kind."""
    return KINDS[kind][0]


def below(kind: str, ident: object, where: str = "") -> str:
    """The `/`-separated path of a record relative to its kind's folder, its id checked."""
    name = check(kind, ident, where)
    _, _, shape, suffix = KINDS[kind]
    if shape == _SHARDED:
        return f"{name[:2]}/{name[2:]}"
    return f"{name}{suffix}"


def relpath(kind: str, ident: object, where: str = "") -> str:
    """The `/`-separated path of a record relative to the store root, its id checked."""
    return f"{folder(kind)}/{below(kind, ident, where)}"


def path(root: Path, kind: str, ident: object, where: str = "") -> Path:
    """The path of a record in the store at `root`."""
    return root.joinpath(*relpath(kind, ident, where).split("/"))


def under(base: Path, kind: str, ident: object, where: str = "") -> Path:
    """The path of a record given its kind's folder `base` (e.g. `<store>/index`)."""
    return base.joinpath(*below(kind, ident, where).split("/"))


def parse_relpath(kind: str, rel: str) -> str | None:
    """The id whose record lives at `rel` (relative to the kind's folder), or None when
    `rel` is not the path of a valid record (for listings of untrusted folders)."""
    _, _, shape, suffix = KINDS[kind]
    if shape == _SHARDED:
        ident = rel.replace("/", "") if rel.count("/") == 1 and rel.index("/") == 2 else ""
    elif shape == _LOG:
        ident = rel[: -len(suffix)] if rel.endswith(suffix) else ""
    else:
        ident = rel
    return ident if is_valid(kind, ident) else None


def list_folder(root: Path, kind: str) -> list[str]:
    """Every valid id with a record of `kind` in the store at `root`, sorted."""
    return list_under(root / folder(kind), kind)


def list_under(base: Path, kind: str) -> list[str]:
    """Every valid id with a record of `kind` in its kind's folder `base`, sorted; what
    cannot be a record (stray or hostile names) is left out."""
    if not base.is_dir():
        return []
    shape = KINDS[kind][2]
    if shape == _SHARDED:
        found = []
        for shard in base.iterdir():
            if len(shard.name) == 2 and shard.is_dir():
                found += [f"{shard.name}/{n.name}" for n in shard.iterdir()]
    elif shape == _LOG:
        found = [p.relative_to(base).as_posix() for p in base.rglob("*" + KINDS[kind][3])]
    else:
        found = [p.name for p in base.iterdir()]
    return sorted(i for i in map(lambda r: parse_relpath(kind, r), found) if i is not None)


def posix_join(root: str, kind: str, ident: object, where: str = "") -> str:
    """The path of a record below a remote folder given as a POSIX path (sftp)."""
    return str(PurePosixPath(root, relpath(kind, ident, where)))
