"""A project: its config, its store and its methods; `gitax init`."""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from gitax.config import CONFIG_FILE, Config, load_config
from gitax.errors import GitaxError
from gitax.jobs.methods import Methods
from gitax.store import layout
from gitax.store.fsutil import atomic_write
from gitax.store.store import FORMAT_FILE, Store


class Project:
    """One gitax project; the store is opened (and created) on first use."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.methods = Methods(config)
        self._store: Store | None = None
        self.dry_run = False  # set by `gitax build --dry-run`: nothing may be written

    @classmethod
    def find(cls, start: str | os.PathLike[str] = ".") -> Project:
        """The project at or above `start`."""
        return cls(load_config(start))

    @property
    def root(self) -> Path:
        """The folder holding gitax.toml."""
        return self.config.root

    @property
    def store(self) -> Store:
        """The object store, created if it does not exist yet (but for a dry run, which
        reads an absent store as an empty one and makes nothing)."""
        if self._store is None:
            if self.dry_run and not (self.config.store / FORMAT_FILE).exists():
                return Store(self.config.store)
            self._store = Store.open(self.config.store, shared=self.config.shared == "group")
            register(self._store, self.root)
        return self._store


def register(store: Store, root: Path) -> None:
    """Note in the store that the project at `root` uses it: gc keeps the results of every
    project's gitax.lock, not only those of the project it runs in. (One stat when
    noted already; a reader who may not write the store cannot note, and need not.)"""
    real = os.path.realpath(root)
    path = store.path("project", hashlib.sha256(real.encode()).hexdigest())
    if path.exists():
        return
    with contextlib.suppress(OSError):
        path.parent.mkdir(exist_ok=True)
        atomic_write(path, real.encode() + b"\n")


def projects(store: Store) -> list[Path]:
    """The roots of the projects that noted they use `store` and still have gitax.toml."""
    found = []
    for ident in layout.list_folder(store.root, "project"):
        with contextlib.suppress(OSError, UnicodeDecodeError):
            root = Path(store.path("project", ident).read_text().rstrip("\n"))
            if (root / CONFIG_FILE).is_file():
                found.append(root)
    return found


_current: Project | None = None


def set_current(project: Project | None) -> None:
    """Make `project` the one `Job('…')` resolves in (set by builds and running jobs)."""
    global _current
    _current = project


def current_project() -> Project:
    """The project of the running build or job, else the one around the working directory."""
    global _current
    if _current is None:
        _current = Project.find(".")
    return _current


DEFAULT_CONFIG = """\
# gitax project settings (see "Configuration" in the gitax README)
[gitax]
methods = ["methods"]   # folders holding job scripts a_<name>.py
input = "data"          # job.input_filename() resolves here
results = "results"     # job.link_result() links here
store = ".gitax"        # object store; may be an absolute path shared by many projects
# slices = 4            # processes for analysis(); default: the number of CPUs
"""


@dataclass
class InitReport:
    """What `gitax init` created and what it found already there."""

    root: Path
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def init_project(directory: str | os.PathLike[str]) -> InitReport:
    """Make a project in `directory`, keeping every file already there."""
    root = Path(directory).resolve()
    if not root.is_dir():
        raise GitaxError(f"{directory}: no such directory")
    report = InitReport(root)
    cfg = root / CONFIG_FILE
    if cfg.exists():
        report.kept.append(CONFIG_FILE)
    else:
        atomic_write(cfg, DEFAULT_CONFIG.encode())
        report.created.append(CONFIG_FILE)
    config = load_config(root)
    for folder in (*config.methods, config.input):
        rel = os.path.relpath(folder, root)
        if folder.is_dir():
            report.kept.append(rel + "/")
        else:
            folder.mkdir(parents=True)
            report.created.append(rel + "/")
    store_existed = (config.store / "format").exists()
    Store.open(config.store)
    (report.kept if store_existed else report.created).append(os.path.relpath(config.store, root))
    ignore = root / ".gitignore"
    old = ignore.read_text() if ignore.exists() else ""
    have = set(old.splitlines())
    # Ignore the store and results/ when they live inside the project.
    inside = [
        p.resolve() for p in (config.store, config.results) if p.resolve().is_relative_to(root)
    ]
    wanted = ["/" + p.relative_to(root).as_posix() + "/" for p in inside]
    wanted = [line for line in wanted if line not in have]
    if wanted:
        sep = "" if not old or old.endswith("\n") else "\n"
        atomic_write(ignore, (old + sep + "\n".join(wanted) + "\n").encode())
        report.created.append(".gitignore lines: " + " ".join(wanted))
    return report
