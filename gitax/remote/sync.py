"""push and pull for a project: what to move, to or from which remote."""

from __future__ import annotations

from dataclasses import dataclass

from gitax.config import RemoteConfig
from gitax.errors import GitaxError
from gitax.jobs.job import Job
from gitax.jobs.project import Project
from gitax.jobs.resultlock import parse_lock, read_lock
from gitax.jobs.urdlog import UrdLists, check_list_name
from gitax.remote.transfer import Progress, TransferReport, pull, push
from gitax.remote.transport import Transport, opened
from gitax.store.storelock import shared


@dataclass
class Selection:
    """What to move: urd lists, jobs, and the results of gitax.lock."""

    lists: list[str] | None = None  # None: every list (of the sending side)
    jobs: tuple[str, ...] = ()
    results: bool = False

    @property
    def everything(self) -> bool:
        """Nothing named: every urd list, every build record and every result."""
        return self.lists is None and not self.jobs and not self.results


def _result_keys(project: Project) -> set[str]:
    return {r.key for r in read_lock(project.root).values()}


def _remote_key(remote: Transport, ref: str) -> str:
    hexpart = ref.rsplit("-", 1)[-1]
    found = sorted(k for k in remote.list_index() if k.startswith(hexpart))
    if len(found) != 1:
        raise GitaxError(
            f"{ref!r} names {'no' if not found else 'more than one'} job on {remote.url}"
        )
    return found[0]


def _named_lists(named: list[str] | None, have: list[str], where: str) -> list[str]:
    """The urd lists a push or pull named, refused unless `where` has each of them."""
    names = [check_list_name(n) for n in named or []]
    missing = [n for n in names if n not in have]
    if missing:
        raise GitaxError(
            f"no urd list {missing[0]!r} {where}; lists there: {', '.join(sorted(have)) or 'none'}"
        )
    return names


def push_project(
    project: Project, remote_name: str | None, sel: Selection, progress: Progress | None = None
) -> TransferReport:
    """Push the selection to a remote (the default one if not named)."""
    remote = project.config.remote(remote_name)
    keys = {Job(ref, project).key for ref in sel.jobs}
    if sel.results or sel.everything:
        keys |= _result_keys(project)
    here = UrdLists(project.store.urd).names()
    lists = here if sel.everything else _named_lists(sel.lists, here, "in this project")
    with opened(remote, create=True) as transport:
        report = push(project.store, transport, keys, lists, progress, builds=sel.everything)
        report.created = getattr(transport, "created", False)
        return report


def pull_project(
    project: Project, remote_name: str | None, sel: Selection, progress: Progress | None = None
) -> TransferReport:
    """Pull the selection from a remote (the default one if not named)."""
    remote = project.config.remote(remote_name)
    with opened(remote) as transport:
        keys = {_remote_key(transport, ref) for ref in sel.jobs}
        if sel.results or sel.everything:
            keys |= _result_keys(project)
        lists: list[str] | None = None
        if not sel.everything:
            there = transport.list_urd() if sel.lists else []
            lists = _named_lists(sel.lists, there, f"on remote {remote.name}")
        with shared(project.store.root):  # gc waits until the pulled jobs are indexed
            return pull(
                project.store,
                transport,
                keys,
                lists,
                progress,
                remote.name,
                sel.everything,
                remote.identity(project.root),
            )


def fetch_job(project: Project, key: str) -> bool:
    """Fetch one job (and what it needs) from the default remote if it has it."""
    remote = project.config.remote(None)
    with opened(remote) as transport:
        if transport.get_index(key) is None:
            return False
        report = pull(
            project.store,
            transport,
            {key},
            [],
            remote_name=remote.name,
            identity=remote.identity(project.root),
        )
    return not report.missing


def push_for_commits(project: Project, lock_texts: list[tuple[str, str]]) -> TransferReport:
    """Push the jobs of the results named by some commits' gitax.lock (pre-push)."""
    keys: set[str] = set()
    for rev, text in lock_texts:
        keys |= {r.key for r in parse_lock(text, f"{rev}:gitax.lock").values()}
    with opened(project.config.remote(None), create=True) as transport:
        return push(project.store, transport, keys, [])


def init_remote(remote: RemoteConfig) -> bool:
    """Make a store at a path remote that has none; True if it made one."""
    with opened(remote, create=True) as transport:
        return bool(getattr(transport, "created", False))
