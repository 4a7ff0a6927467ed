"""gitax.toml -> a frozen Config; finding the project root."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitax.errors import ConfigError, ProjectNotFound

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_FILE = "gitax.toml"


@dataclass(frozen=True)
class Config:
    """The [gitax] table of gitax.toml, with defaults applied and paths made absolute."""

    root: Path
    methods: tuple[Path, ...]
    input: Path
    results: Path
    store: Path
    slices: int


_KEYS: dict[str, str] = {
    "methods": "a list of folder names",
    "input": "a folder name",
    "results": "a folder name",
    "store": "a folder path",
    "slices": "a positive integer",
}


def parse_config(text: str, root: Path, source: str = CONFIG_FILE) -> Config:
    """Parse gitax.toml's text; every problem is a ConfigError naming the file and key."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML: {e}") from None
    for table in doc:
        if table != "gitax":
            raise ConfigError(f"{source}: unknown table [{table}]; the settings live in [gitax]")
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
    if slices < 1:
        raise ConfigError(f"{source}: gitax.slices must be {_KEYS['slices']}, not {slices}")
    return Config(
        root=root,
        methods=tuple(root / m for m in methods),
        input=root / get("input", "data", str),
        results=root / get("results", "results", str),
        store=root / Path(get("store", ".gitax", str)).expanduser(),
        slices=slices,
    )


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
