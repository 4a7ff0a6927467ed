"""Where jobs run: interpreter, platform, host, and the versions of imported distributions."""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import platform
import socket
import sys
from pathlib import Path
from typing import Any

from gitax import __version__
from gitax.store.fsutil import atomic_write

_ENV: dict[str, Any] | None = None


def environment() -> dict[str, Any]:
    """Interpreter, platform, gitax version, host and user (computed once per process)."""
    global _ENV
    if _ENV is None:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = str(os.getuid())
        _ENV = {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
            "gitax": __version__,
            "host": socket.gethostname(),
            "user": user,
        }
    return _ENV


def _site_state() -> dict[str, int]:
    """The mtime of every sys.path folder: it changes when a package is (un)installed.
    The working directory (on sys.path under `python -m gitax`) is left out: it is the
    project, which changes with every edit and holds no installed distributions."""
    state = {}
    cwd = os.getcwd()
    for entry in sys.path:
        if not entry or os.path.abspath(entry) == cwd:
            continue
        with contextlib.suppress(OSError):
            st = os.stat(entry)
            if os.path.isdir(entry):
                state[entry] = st.st_mtime_ns
    return state


def _mapping() -> dict[str, list[list[str]]]:
    """Top-level module -> [[distribution, version], ...] for everything installed."""
    from importlib import metadata

    versions: dict[str, str] = {}
    out: dict[str, list[list[str]]] = {}
    for module, dists in metadata.packages_distributions().items():
        pairs = []
        for dist in dists:
            if dist not in versions:
                try:
                    versions[dist] = metadata.version(dist)
                except metadata.PackageNotFoundError:
                    versions[dist] = "?"
            pairs.append([dist, versions[dist]])
        out[module] = pairs
    return out


_CACHE: dict[str, Any] | None = None


def distributions(store_root: Path, modules: list[str]) -> dict[str, str]:
    """The installed distributions (name -> version) providing `modules`.

    Scanning every installed distribution takes ~0.1 s, so the map is kept in
    `<store>/cache/distributions.json`, keyed by the interpreter and sys.path's mtimes,
    and checked once per process (a build does not install packages as it goes).
    """
    global _CACHE
    if _CACHE is None:
        key = {"python": sys.executable, "paths": _site_state()}
        path = store_root / "cache" / "distributions.json"
        cached = None
        with contextlib.suppress(OSError, ValueError):
            cached = json.loads(path.read_bytes())
        if not isinstance(cached, dict) or cached.get("key") != key:
            cached = {"key": key, "map": _mapping()}
            with contextlib.suppress(OSError):
                atomic_write(path, json.dumps(cached).encode(), durable=False)
        _CACHE = cached
    mapping = _CACHE["map"]
    found: dict[str, str] = {}
    for module in modules:
        for dist, version in mapping.get(module, []):
            found[dist] = version
    return dict(sorted(found.items()))
