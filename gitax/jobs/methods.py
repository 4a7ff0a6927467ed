"""Finding methods (`a_<name>.py` in the method folders) and reading what they declare."""

from __future__ import annotations

import ast
import contextlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitax.config import CONFIG_FILE, Config
from gitax.errors import ConfigError, GitaxError
from gitax.jobs.declarations import Invalid, Unsupported, read_declarations
from gitax.jobs.equivalence import Equivalence, EquivalenceError, read_equivalence
from gitax.jobs.imports import imported_names, local_imports
from gitax.jobs.options import OptionError, check_spec
from gitax.store.hashing import object_id

METHOD_RE = re.compile(r"^a_([A-Za-z_][A-Za-z0-9_]*)\.py$")
RESERVED = ("name",)
# The methods gitax ships (csvimport, dataset_type, ...), found after the project's own,
# which may shadow them. Their sources are named `gitax:standard_methods/a_<name>.py`:
# they belong to the installed gitax, not to the project or its git repository.
STANDARD_DIR = Path(__file__).resolve().parent.parent / "standard_methods"
STANDARD_PREFIX = "gitax:"


def is_standard_source(relpath: str) -> bool:
    """Is this source path one of gitax's standard methods (not a project file)?"""
    return relpath.startswith(STANDARD_PREFIX)


class MethodError(GitaxError):
    """A method cannot be found, or declares something invalid."""


@dataclass(frozen=True)
class SourceFile:
    """A file that joins a job key: its project-relative path, bytes, and the id of the
    store object (a blob) holding them."""

    relpath: str
    data: bytes = field(repr=False)
    object_id: str


@dataclass(frozen=True)
class Method:
    """A job script and everything it declares."""

    name: str
    path: Path
    description: str
    options: dict[str, Any]
    jobs: dict[str, bool]  # input-job parameter -> is it a list of jobs
    depend_extra: tuple[str, ...]
    phases: tuple[str, ...]
    phase_args: dict[str, tuple[str, ...]]
    sources: tuple[SourceFile, ...]  # the method itself first, then depend_extra, then imports
    equivalence: Equivalence | None = None  # exax's equivalent_hashes, if declared
    datasets: dict[str, bool] | None = None  # input-dataset parameter -> is it a list

    @property
    def equivalent_sources(self) -> tuple[str, ...]:
        """Earlier hashes of the method's own source whose jobs count as this one's (while
        the declared verifier matches the source)."""
        eq = self.equivalence
        return eq.hashes if eq is not None and eq.holds else ()

    @property
    def folder(self) -> Path:
        """The method's folder, which is on sys.path while it runs."""
        return self.path.parent

    def code(self) -> Any:
        """The method's source compiled once per build (from the hashed bytes), so every
        forked job process runs it without compiling it again."""
        cached = _CODE.get(self.sources[0].object_id)
        if cached is None:
            cached = _CODE[self.sources[0].object_id] = compile(
                self.sources[0].data, str(self.path), "exec"
            )
        return cached

    def import_roots(self) -> frozenset[str]:
        """Top-level modules named by absolute imports in the method's Python sources,
        parsed once per build (before jobs fork) rather than in every job process."""
        key = "".join(s.object_id for s in self.sources)
        cached = _IMPORTS.get(key)
        if cached is None:
            names: set[str] = set()
            for src in self.sources:
                if not src.relpath.endswith(".py"):
                    continue
                with contextlib.suppress(SyntaxError, ValueError):
                    for level, module, _ in imported_names(ast.parse(src.data)):
                        if level == 0 and module:
                            names.add(module.split(".", 1)[0])
            cached = _IMPORTS[key] = frozenset(names)
        return cached

    @property
    def reads_inputs(self) -> bool:
        """Could the method read input files? Only `job.open_input` and
        `job.input_filename` record them, so a method whose sources never name either
        has none (and a reused job of it needs no manifest read to check them)."""
        return any(b"open_input" in s.data or b"input_filename" in s.data for s in self.sources)

    @property
    def summary(self) -> str:
        """The first line of the description."""
        return self.description.strip().split("\n", 1)[0] if self.description else ""


_CODE: dict[str, Any] = {}  # blob id of a method's source -> its code object
_IMPORTS: dict[str, frozenset[str]] = {}  # blob ids of a method's sources -> import roots


def _relpath(path: Path, root: Path) -> str:
    resolved = path.resolve()
    if resolved.parent == STANDARD_DIR:
        return f"{STANDARD_PREFIX}standard_methods/{resolved.name}"
    return resolved.relative_to(root.resolve()).as_posix()


def _read_source(path: Path, root: Path) -> SourceFile:
    data = path.read_bytes()
    return SourceFile(_relpath(path, root), data, object_id("blob", data))


def _parse_jobs(where: str, value: Any, kind: str = "jobs") -> dict[str, bool]:
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, (tuple, list)):
        raise MethodError(f"{where}: `{kind}` must be a tuple of names, not {value!r}")
    jobs: dict[str, bool] = {}
    for item in value:
        if isinstance(item, str) and item.isidentifier():
            jobs[item] = False
        elif isinstance(item, list) and len(item) == 1 and isinstance(item[0], str):
            jobs[item[0]] = True
        else:
            raise MethodError(
                f"{where}: `{kind}` entries are names, or ['name'] for a list of {kind}; "
                f"not {item!r}"
            )
    return jobs


class Methods:
    """The methods of a project, found once and loaded on demand (one per build)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._loaded: dict[str, Method] = {}
        self._where: dict[str, Path] | None = None

    def locations(self) -> dict[str, Path]:
        """Every method name and its file; a name in two folders is an error naming both."""
        if self._where is None:
            where: dict[str, Path] = {}
            for folder in [*self.config.methods, STANDARD_DIR]:
                try:
                    names = sorted(os.listdir(folder))
                except (FileNotFoundError, NotADirectoryError):
                    raise ConfigError(self._missing_folder(folder)) from None
                for fname in names:
                    m = METHOD_RE.match(fname)
                    if not m or (folder == STANDARD_DIR and m.group(1) in where):
                        continue  # a project's own method shadows a standard one
                    if m.group(1) in where:
                        raise MethodError(
                            f"method {m.group(1)!r} is defined twice: {where[m.group(1)]} and "
                            f"{folder / fname}; rename or remove one"
                        )
                    where[m.group(1)] = folder / fname
            self._where = where
        return self._where

    def _missing_folder(self, folder: Path) -> str:
        root = self.config.root
        here = sorted(e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith("."))
        return (
            f"{CONFIG_FILE}: methods folder {_relpath(folder, root)!r} does not exist; "
            f"make it or fix `methods` (folders here: {', '.join(here) or 'none'})"
        )

    def loaded(self) -> dict[str, Method | MethodError]:
        """Every method loaded, or the error that stops it loading."""
        found: dict[str, Method | MethodError] = {}
        for name in sorted(self.locations()):
            try:
                found[name] = self.get(name)
            except MethodError as e:
                found[name] = e
        return found

    def get(self, name: str) -> Method:
        """The method called `name`, loaded and checked."""
        if name not in self._loaded:
            where = self.locations()
            if name not in where:
                folders = ", ".join(_relpath(f, self.config.root) for f in self.config.methods)
                own = sorted(n for n, p in where.items() if p.parent != STANDARD_DIR)
                raise MethodError(
                    f"no method {name!r}: no a_{name}.py in {folders} (known methods: "
                    f"{', '.join(own) or 'none'}, and gitax's standard ones: `gitax methods`)"
                )
            self._loaded[name] = self._load(name, where[name])
        return self._loaded[name]

    def _load(self, name: str, path: Path) -> Method:
        root = self.config.root
        where = _relpath(path, root)
        own = _read_source(path, root)
        try:
            tree = ast.parse(own.data, filename=str(path))
        except SyntaxError as e:
            raise MethodError(f"{where}:{e.lineno}: syntax error: {e.msg}") from None
        try:
            decl = read_declarations(tree)
        except Unsupported as e:
            raise MethodError(
                f"{where}:{e.lineno}: cannot read the declaration `{e}` without running the "
                "method; write declarations with literals, dict(...) and types"
            ) from None
        except Invalid as e:
            raise MethodError(f"{where}:{e.lineno}: the declaration fails: {e}") from None
        values = decl.values
        options = values.get("options", {})
        if not isinstance(options, dict) or not all(isinstance(k, str) for k in options):
            raise MethodError(f"{where}: `options` must be a dict of names, not {options!r}")
        try:
            for opt, spec in options.items():
                check_spec(name, opt, spec)
        except OptionError as e:
            raise MethodError(f"{where}: {e}") from None
        jobs = _parse_jobs(where, values.get("jobs", ()))
        datasets = _parse_jobs(where, values.get("datasets", ()), "datasets")
        for param in (*options, *jobs, *datasets):
            if param in RESERVED:
                raise MethodError(f"{where}: {param!r} is reserved and cannot be a parameter")
        for param in datasets:
            if param in options or param in jobs:
                raise MethodError(
                    f"{where}: {param!r} is both a dataset and an option or job; rename one"
                )
        if not decl.phases:
            raise MethodError(f"{where}: defines none of prepare(), analysis(), synthesis()")
        extra = values.get("depend_extra", ())
        if isinstance(extra, str):
            extra = (extra,)
        if not isinstance(extra, (tuple, list)) or not all(isinstance(e, str) for e in extra):
            raise MethodError(f"{where}: `depend_extra` must be a tuple of paths, not {extra!r}")
        sources = [own]
        seen = {own.relpath}
        for rel in extra:
            extra_path = (path.parent / rel).resolve()
            if not extra_path.is_relative_to(root.resolve()):
                raise MethodError(f"{where}: depend_extra {rel!r} is outside the project")
            if not extra_path.is_file():
                raise MethodError(f"{where}: depend_extra {rel!r} does not exist ({extra_path})")
            src = _read_source(extra_path, root)
            if src.relpath not in seen:
                seen.add(src.relpath)
                sources.append(src)
        if path.resolve().parent == STANDARD_DIR:  # gitax's own: imports nothing local
            imports = []
        else:
            imports = local_imports(
                path, tree, [path.parent, root], root.resolve(), exclude=[self.config.store]
            )
        for imp in imports:
            src = _read_source(imp, root)
            if src.relpath not in seen:
                seen.add(src.relpath)
                sources.append(src)
        try:
            equivalence = read_equivalence(own.data, tree, values.get("equivalent_hashes"))
        except EquivalenceError as e:
            raise MethodError(f"{where}: {e}") from None
        description = values.get("description", "")
        return Method(
            name=name,
            path=path,
            description=description if isinstance(description, str) else str(description),
            options=options,
            jobs=jobs,
            depend_extra=tuple(extra),
            phases=decl.phases,
            phase_args=decl.phase_args,
            sources=tuple(sources),
            equivalence=equivalence,
            datasets=datasets or None,
        )
