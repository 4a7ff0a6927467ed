"""Which modules a job loaded: the distributions it used are recorded with it."""

from __future__ import annotations

import sys


def top_level_modules() -> set[str]:
    """Top-level names of every loaded module."""
    return {m.split(".", 1)[0] for m in list(sys.modules)}


class LoadedModules:
    """The modules loaded when a job process starts, to tell which ones the job loaded.

    Taken in the build process before it forks (and kept while sys.modules stays the
    same), so that a job process does not walk all of sys.modules: each module name it
    touches after the fork costs a copied page. sys.modules keeps insertion order, so a
    job's own modules are the ones after `last`."""

    def __init__(self) -> None:
        self.count = len(sys.modules)
        self.last = next(reversed(sys.modules))
        self.top = frozenset(top_level_modules())

    def forgot(self, names: tuple[str, ...]) -> None:
        """Take `names`, just removed from sys.modules, as never loaded: re-importing them
        is then the job's own loading."""
        if names:
            self.count = len(sys.modules)
            self.last = next(reversed(sys.modules))

    def current(self) -> bool:
        """Is sys.modules still as it was taken?"""
        return len(sys.modules) == self.count and next(reversed(sys.modules)) == self.last

    def new_since(self) -> set[str]:
        """Top-level names of the modules loaded since."""
        added = []
        for name in reversed(sys.modules):
            if name == self.last:
                break
            added.append(name)
        if len(added) != len(sys.modules) - self.count:  # some were removed: look at all
            return top_level_modules() - self.top
        return {name.split(".", 1)[0] for name in added} - self.top


_loaded: LoadedModules | None = None


def loaded_modules() -> LoadedModules:
    """The modules loaded now (taken again only when sys.modules changed)."""
    global _loaded
    if _loaded is None or not _loaded.current():
        _loaded = LoadedModules()
    return _loaded


def imported_modules(baseline: LoadedModules, named: frozenset[str] = frozenset()) -> list[str]:
    """Top-level, non-standard-library modules the job loaded (those new since the job
    process started) or `named` in an import statement of its sources (already loaded
    ones included: a method importing click uses click even though gitax loaded it first)."""
    stdlib: frozenset[str] = getattr(sys, "stdlib_module_names", frozenset())
    names = baseline.new_since() | named
    return sorted(n for n in names if n not in stdlib and not n.startswith("_"))
