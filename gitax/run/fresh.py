"""A job process starts from a clean module state and imports the sources of its key.

Job processes are forked from the build (or from a parent job), so without care they
would inherit its modules: a `utils` the build script imported would shadow the method's
own `utils.py`, a subjob would run its parent's helpers and see their globals. After the
fork, the job forgets every project module its parent loaded, and a finder serves the
method's local imports from the exact bytes that were hashed into its key.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

# sys.path as gitax found it: the build script's folder is added later and must not be
# where a job finds modules (the key only looks in the method's folder and the root).
BASE_PATH = list(sys.path)


def _outside(prefixes: tuple[str, ...]) -> set[str]:
    return {os.path.realpath(p) + os.sep for p in prefixes}


class _Snapshot:
    """Names of the project modules in sys.modules, taken in the parent before it forks
    (so the job process does not walk sys.modules) and again only when it changed."""

    def __init__(self, root: Path) -> None:
        self.root = str(root.resolve()) + os.sep
        self.count = len(sys.modules)
        self.last = next(reversed(sys.modules))
        installed = _outside((sys.prefix, sys.base_prefix, sys.exec_prefix))
        names = []
        for name, module in list(sys.modules.items()):
            where = getattr(module, "__file__", None)
            if not isinstance(where, str) or name == "gitax" or name.startswith("gitax."):
                continue
            if any(where.startswith(p) for p in installed):
                continue
            real = os.path.realpath(where)
            if real.startswith(self.root) and not any(real.startswith(p) for p in installed):
                names.append(name)
        self.names = tuple(names)

    def current(self, root: Path) -> bool:
        return (
            len(sys.modules) == self.count
            and next(reversed(sys.modules)) == self.last
            and self.root == str(root.resolve()) + os.sep
        )


_snapshot: _Snapshot | None = None


def project_modules(root: Path) -> tuple[str, ...]:
    """Modules loaded from files inside the project (call before forking)."""
    global _snapshot
    if _snapshot is None or not _snapshot.current(root):
        _snapshot = _Snapshot(root)
    return _snapshot.names


class _HashedLoader(importlib.abc.Loader):
    """Runs a module from the bytes that were hashed, not from what is on disk now."""

    def __init__(self, origin: str, data: bytes) -> None:
        self.origin, self.data = origin, data

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        exec(compile(self.data, self.origin, "exec", dont_inherit=True), module.__dict__)


class HashedSources(importlib.abc.MetaPathFinder):
    """Finds a job's local modules where Python would, and loads their hashed bytes."""

    def __init__(self, files: dict[str, bytes], tops: set[str]) -> None:
        self.files, self.tops = files, tops

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.split(".", 1)[0] not in self.tops:
            return None  # not a project module: the usual finders are faster
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not spec.origin:
            return spec
        data = self.files.get(os.path.realpath(spec.origin))
        if data is not None:
            spec.loader = _HashedLoader(spec.origin, data)
        return spec


def _top_names(relpaths: list[Path], folders: list[Path]) -> set[str]:
    tops = set()
    for path in relpaths:
        for folder in folders:
            if path.is_relative_to(folder):
                first = path.relative_to(folder).parts[0]
                tops.add(first[:-3] if first.endswith(".py") else first)
    return tops


def start_fresh(root: Path, folder: Path, sources: Sequence[Any], forget: Sequence[str]) -> None:
    """In a just-forked job process: forget the parent's project modules, look for modules
    only where the key looked (the method's folder, then the root), serve the hashed
    sources, and reseed global random generators as a fresh interpreter would."""
    for name in forget:
        sys.modules.pop(name, None)
    real_root, real_folder = root.resolve(), folder.resolve()
    sys.path[:] = [str(folder), str(root)] + [
        p for p in BASE_PATH if p not in (str(folder), str(root))
    ]
    files = {os.path.realpath(root / s.relpath): s.data for s in sources[1:]}
    paths = [Path(p) for p in files]
    tops = _top_names(paths, [real_folder, real_root])
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, HashedSources)]
    sys.meta_path.insert(0, HashedSources(files, tops))
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:  # `random` reseeds itself after a fork; numpy does not
        numpy_random.seed()
