"""Installing gitax's git hooks: chained to any hook already there, idempotent, undoable.

The hook scripts live in `gitax/git/hooks/` (the repository's `hooks/` points there), each
a thin call of a gitax command. `install` writes, for each, a small wrapper into the
repository's hooks folder (`core.hooksPath` if set): it names the gitax project, runs the
hook that was there before (moved aside to `<name>.pre-gitax`), then the gitax script.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path

from gitax.errors import GitaxError

HOOKS = ("pre-commit", "pre-push", "post-checkout", "post-merge")
MARKER = "# gitax hook: installed by `gitax hooks install`"
PREVIOUS = ".pre-gitax"
SCRIPTS = Path(__file__).with_name("hooks")


@dataclass
class HooksReport:
    """What install or uninstall did, hook by hook."""

    folder: Path
    installed: list[str] = field(default_factory=list)
    chained: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)


def hooks_folder(project_root: Path) -> tuple[Path, Path]:
    """(the repository's work tree, its hooks folder), honouring core.hooksPath."""
    from dulwich.errors import NotGitRepository
    from dulwich.repo import Repo

    try:
        repo = Repo.discover(str(project_root))
    except NotGitRepository:
        raise GitaxError(
            f"{project_root} is not in a git repository: no hooks to install"
        ) from None
    try:
        work = Path(repo.path)
        try:
            configured = repo.get_config().get((b"core",), b"hooksPath")
        except KeyError:
            configured = None
        if configured:
            folder = Path(os.path.expanduser(os.fsdecode(configured)))
            return work, folder if folder.is_absolute() else work / folder
        return work, Path(repo.commondir()) / "hooks"
    finally:
        repo.close()


PROJECT_LINE = "# gitax project: "


def wrapper(name: str, projects: list[str]) -> str:
    """The hook file gitax installs: set-up, the previous hook, then the gitax script once
    for each gitax project of the repository (each named on a `# gitax project:` line)."""
    body = (SCRIPTS / name).read_text().split("\n", 1)[1]  # without its #! line
    python = shlex.quote(sys.executable)
    if name == "pre-push":
        # git gives pre-push its refs on stdin; every hook run must see them.
        previous = (
            "GITAX_STDIN=$(cat)\n"
            f'if [ -x "$0{PREVIOUS}" ]; then\n'
            f'  printf "%s\\n" "$GITAX_STDIN" | "$0{PREVIOUS}" "$@" || exit $?\n'
            "fi\n"
        )
        body = f'printf "%s\\n" "$GITAX_STDIN" | {{\n{body}}}\n'
    else:
        previous = f'if [ -x "$0{PREVIOUS}" ]; then "$0{PREVIOUS}" "$@" || exit $?; fi\n'
    # A project folder without gitax.toml (another repository sharing core.hooksPath, or a
    # project since removed) is skipped: the hooks do nothing outside a gitax project.
    runs = "".join(
        f"GITAX_PROJECT={shlex.quote(p)}; export GITAX_PROJECT\n"
        f'if [ -f "$GITAX_PROJECT/gitax.toml" ]; then\n( {body.strip()}\n) || exit $?\nfi\n'
        for p in projects
    )
    return (
        "#!/bin/sh\n"
        f"{MARKER}; `gitax hooks uninstall` restores what was here.\n"
        + "".join(f"{PROJECT_LINE}{p}\n" for p in projects)
        + 'cd "$(git rev-parse --show-toplevel)" || exit 1\n'
        f'gitax() {{ {python} -m gitax "$@"; }}\n'
        f"{previous}"
        f"{runs}"
    )


def installed_projects(text: str) -> list[str]:
    """The projects a gitax hook file runs for (an older wrapper names one by
    GITAX_PROJECT=)."""
    found = [
        line[len(PROJECT_LINE) :] for line in text.splitlines() if line.startswith(PROJECT_LINE)
    ]
    if not found:
        for line in text.splitlines():
            if line.startswith("GITAX_PROJECT="):
                found = shlex.split(line.split(";", 1)[0].split("=", 1)[1])
                break
    return found


def _make_executable(path: Path) -> None:
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _write_hook(folder: Path, name: str, text: str) -> None:
    tmp = folder / f".{name}.gitax-tmp"
    tmp.write_text(text)
    _make_executable(tmp)
    os.replace(tmp, folder / name)


def _project_of(project_root: Path, work: Path) -> str:
    return os.path.relpath(os.path.realpath(project_root), os.path.realpath(work))


def install(project_root: Path) -> HooksReport:
    """Install every gitax hook for this project; a hook already there is kept and run
    first, and the other gitax projects of the repository keep theirs."""
    work, folder = hooks_folder(project_root)
    project = _project_of(project_root, work)
    report = HooksReport(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in HOOKS:
        path = folder / name
        if path.exists() and MARKER in path.read_text(errors="replace"):
            old = path.read_text()
            projects = installed_projects(old)
            text = wrapper(name, projects + [project] if project not in projects else projects)
            if old != text:
                _write_hook(folder, name, text)
                report.updated.append(name)
            continue
        if path.exists() or path.is_symlink():
            if (folder / (name + PREVIOUS)).exists():
                raise GitaxError(
                    f"{path} and {path}{PREVIOUS} both exist; move one away, then install again"
                )
            os.rename(path, folder / (name + PREVIOUS))
            report.chained.append(name)
        _write_hook(folder, name, wrapper(name, [project]))
        report.installed.append(name)
    return report


def uninstall(project_root: Path) -> HooksReport:
    """Remove this project from gitax's hooks; when no project is left, remove them and
    put back the hooks they had chained to."""
    work, folder = hooks_folder(project_root)
    project = _project_of(project_root, work)
    report = HooksReport(folder)
    for name in HOOKS:
        path = folder / name
        if not path.exists() or MARKER not in path.read_text(errors="replace"):
            continue
        others = [p for p in installed_projects(path.read_text()) if p != project]
        if others:
            _write_hook(folder, name, wrapper(name, others))
            report.updated.append(name)
            continue
        previous = folder / (name + PREVIOUS)
        if previous.exists() or previous.is_symlink():
            os.replace(previous, path)
            report.restored.append(name)
        else:
            path.unlink()
            report.removed.append(name)
    return report


def missing_once(project_root: Path, store_root: Path) -> bool:
    """True the first time a store is built in a repository whose hooks do not run gitax
    for the project; False after that (a marker in the store's cache), so it is said once
    and later builds do not pay for looking."""
    marker = store_root / "cache" / "hooks-checked"
    if marker.exists():
        return False
    found = missing(project_root)
    with contextlib.suppress(OSError):
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("gitax looked for its git hooks here once\n")
    return found


def missing(project_root: Path) -> bool:
    """Is the project in a git repository whose hooks do not run gitax for it (a fresh
    clone: git never copies hooks)?"""
    from dulwich.errors import NotGitRepository

    try:
        work, folder = hooks_folder(project_root)
    except (GitaxError, NotGitRepository):
        return False
    try:
        text = (folder / "pre-commit").read_text(errors="replace")
    except OSError:
        return True
    return MARKER not in text or _project_of(project_root, work) not in installed_projects(text)


def install_if_repo(project_root: Path) -> HooksReport | None:
    """Install the hooks when the project is in a git repository (for `gitax init`)."""
    from dulwich.errors import NotGitRepository
    from dulwich.repo import Repo

    try:
        Repo.discover(str(project_root)).close()
    except NotGitRepository:
        return None
    return install(project_root)
