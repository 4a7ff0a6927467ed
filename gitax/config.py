"""gitax.toml -> a frozen Config; finding the project root."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitax.errors import ConfigError, ProjectNotFound

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_FILE = "gitax.toml"


@dataclass(frozen=True)
class RemoteConfig:
    """One [remotes.<name>] table."""

    name: str
    url: str
    default: bool = False
    endpoint_url: str | None = None
    trusted: bool = False  # pickles of jobs pulled from it may be loaded

    def identity(self, root: Path) -> str:
        """What the remote is, whatever it is called: a pulled job's origin records it,
        and its pickles are trusted only if a trusted remote of the project is the same
        one (another project sharing the store may name an untrusted remote alike)."""
        url = self.url
        if "://" not in url or url.startswith("file://"):
            return "file://" + os.path.realpath(root / url.removeprefix("file://"))
        if url.startswith("s3://") and self.endpoint_url:
            return f"{url} at {self.endpoint_url}"
        return url


@dataclass(frozen=True)
class Config:
    """The [gitax] table of gitax.toml, with defaults applied and paths made absolute."""

    root: Path
    methods: tuple[Path, ...]
    input: Path
    results: Path
    store: Path
    slices: int
    fetch: str = "never"  # "auto": a build fetches a missing job from the default remote
    shared: str = "umask"  # "group": the store is group-writable (git's sharedRepository)
    remotes: dict[str, RemoteConfig] = field(default_factory=dict)

    def remote(self, name: str | None = None) -> RemoteConfig:
        """A remote by name, or the default one."""
        if name is None:
            defaults = [r for r in self.remotes.values() if r.default]
            if defaults:
                return defaults[0]
            if len(self.remotes) == 1:
                return next(iter(self.remotes.values()))
            raise ConfigError(
                "no default remote: name one, or mark one with default = true "
                "(gitax remote add NAME URL --default)"
            )
        if name not in self.remotes:
            known = ", ".join(sorted(self.remotes)) or "none"
            raise ConfigError(f"no remote {name!r} in {CONFIG_FILE} (remotes: {known})")
        return self.remotes[name]


_KEYS: dict[str, str] = {
    "methods": "a list of folder names",
    "input": "a folder name",
    "results": "a folder inside the project",
    "store": "a folder path",
    "slices": "an integer from 1 to 1024",
    "fetch": '"auto" or "never"',
    "shared": '"umask" or "group"',
}
_REMOTE_KEYS = {
    "url": "a URL or path",
    "default": "true or false",
    "endpoint_url": "a URL",
    "trusted": "true or false",
}
REMOTE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


MAX_SLICES = 1024  # one process each: more is a typo, not a machine


def _inside(path: Path, root: Path) -> bool:
    """Is `path` strictly inside `root`, by its words? (Symlinks on the way are refused
    where links are written: they may arrive with any commit.)"""
    rel = os.path.relpath(path, root)
    return rel != "." and rel.split(os.sep)[0] != ".."


def parse_config(text: str, root: Path, source: str = CONFIG_FILE) -> Config:
    """Parse gitax.toml's text; every problem is a ConfigError naming the file and key."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML: {e}") from None
    for table in doc:
        if table not in ("gitax", "remotes"):
            raise ConfigError(
                f"{source}: unknown table [{table}]; settings live in [gitax] and [remotes.NAME]"
            )
    table = doc.get("gitax", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: `gitax` must be a table: [gitax]")
    for key in table:
        if key not in _KEYS:
            raise ConfigError(
                f"{source}: unknown key gitax.{key}; valid keys: {', '.join(sorted(_KEYS))}"
            )

    def get(key: str, default: Any, kind: type) -> Any:
        value = table.get(key, default)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ConfigError(f"{source}: gitax.{key} must be {_KEYS[key]}, not {value!r}")
        return value

    methods = get("methods", ["methods"], list)
    if not methods or not all(isinstance(m, str) and m for m in methods):
        raise ConfigError(f"{source}: gitax.methods must be {_KEYS['methods']}, not {methods!r}")
    slices = get("slices", os.cpu_count() or 1, int)
    if not 1 <= slices <= MAX_SLICES:
        raise ConfigError(f"{source}: gitax.slices must be {_KEYS['slices']}, not {slices}")
    fetch = get("fetch", "never", str)
    if fetch not in ("auto", "never"):
        raise ConfigError(f"{source}: gitax.fetch must be {_KEYS['fetch']}, not {fetch!r}")
    shared = get("shared", "umask", str)
    if shared not in ("umask", "group"):
        raise ConfigError(f"{source}: gitax.shared must be {_KEYS['shared']}, not {shared!r}")
    store = root / Path(get("store", ".gitax", str)).expanduser()
    if not table.get("store", ".gitax") or root.resolve().is_relative_to(store.resolve()):
        raise ConfigError(
            f'{source}: gitax.store must be a folder of its own (such as ".gitax"), not '
            f"the project or a folder above it: {table.get('store')!r}"
        )
    results = root / get("results", "results", str)
    if not table.get("results", "results") or not _inside(results, root):
        raise ConfigError(
            f"{source}: gitax.results must be a folder inside the project (results are "
            f"links written there), not {table.get('results')!r}"
        )
    return Config(
        fetch=fetch,
        shared=shared,
        remotes=_parse_remotes(doc.get("remotes", {}), source),
        root=root,
        methods=tuple(root / m for m in methods),
        input=root / get("input", "data", str),
        results=results,
        store=store,
        slices=slices,
    )


def _parse_remotes(tables: Any, source: str) -> dict[str, RemoteConfig]:
    if not isinstance(tables, dict):
        raise ConfigError(f"{source}: remotes must be tables: [remotes.NAME]")
    remotes = {}
    for name, table in tables.items():
        if not REMOTE_NAME.match(name) or not isinstance(table, dict):
            raise ConfigError(f"{source}: [remotes.{name}] is not a valid remote table")
        for key in table:
            if key not in _REMOTE_KEYS:
                raise ConfigError(
                    f"{source}: unknown key remotes.{name}.{key}; valid keys: "
                    f"{', '.join(sorted(_REMOTE_KEYS))}"
                )
        url, default, endpoint = (
            table.get("url"),
            table.get("default", False),
            table.get("endpoint_url"),
        )
        if not isinstance(url, str) or not url:
            raise ConfigError(f"{source}: remotes.{name}.url must be {_REMOTE_KEYS['url']}")
        if not isinstance(default, bool):
            raise ConfigError(f"{source}: remotes.{name}.default must be true or false")
        if endpoint is not None and not isinstance(endpoint, str):
            raise ConfigError(f"{source}: remotes.{name}.endpoint_url must be a URL")
        trusted = table.get("trusted", False)
        if not isinstance(trusted, bool):
            raise ConfigError(f"{source}: remotes.{name}.trusted must be true or false")
        remotes[name] = RemoteConfig(name, url, default, endpoint, trusted)
    if sum(r.default for r in remotes.values()) > 1:
        raise ConfigError(f"{source}: more than one remote has default = true")
    return remotes


def toml_string(text: str) -> str:
    """A TOML basic string. (JSON's escaping is not enough: it writes characters beyond
    U+FFFF as surrogate pairs, which TOML refuses, and leaves DEL, which TOML forbids.)"""
    out = []
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def add_remote_text(text: str, remote: RemoteConfig) -> str:
    """gitax.toml's text with a [remotes.NAME] table added, through tomlkit so that every
    comment and the layout of the rest stay as they were."""
    import tomlkit

    doc = tomlkit.parse(text)
    remotes = doc.get("remotes")
    if remotes is None:
        remotes = tomlkit.table(is_super_table=True)  # written as [remotes.NAME] only
        doc["remotes"] = remotes
    table = tomlkit.table()
    table["url"] = remote.url
    if remote.default:
        table["default"] = True
    if remote.endpoint_url:
        table["endpoint_url"] = remote.endpoint_url
    if remote.trusted:
        table["trusted"] = True
    remotes[remote.name] = table
    return tomlkit.dumps(doc)


def remove_remote_text(text: str, name: str) -> str:
    """gitax.toml's text without the [remotes.NAME] table (its header comment included)."""
    import tomlkit

    doc = tomlkit.parse(text)
    remotes = doc.get("remotes")
    if remotes is not None and name in remotes:
        del remotes[name]
        if not remotes:
            del doc["remotes"]
    return tomlkit.dumps(doc).rstrip("\n") + "\n"  # no blank lines left at the end


def find_root(start: str | os.PathLike[str]) -> Path:
    """The nearest directory at or above `start` holding gitax.toml."""
    here = Path(start).resolve()
    if not here.is_dir():
        raise ConfigError(f"{start}: no such directory")
    for d in (here, *here.parents):
        if (d / CONFIG_FILE).is_file():
            return d
    raise ProjectNotFound(str(here))


def load_config(start: str | os.PathLike[str]) -> Config:
    """Find the project above `start` and read its gitax.toml."""
    root = find_root(start)
    path = root / CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read: {e}") from None
    return parse_config(text, root, str(path))
