"""Installing gitax's git hooks: chained to any hook already there, idempotent, undoable.

The hook scripts live in `gitax/git/hooks/` (the repository's `hooks/` points there), each
a thin call of a gitax command. `install` writes, for each, a small wrapper into the
repository's hooks folder (`core.hooksPath` if set): it names the gitax project, runs the
hook that was there before (moved aside to `<name>.pre-gitax`), then the gitax script.
"""

from __future__ import annotations

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


def wrapper(name: str, project: str) -> str:
    """The hook file gitax installs: set-up, the previous hook, then the gitax script."""
    body = (SCRIPTS / name).read_text().split("\n", 1)[1]  # without its #! line
    python = shlex.quote(sys.executable)
    if name == "pre-push":
        # git gives pre-push its refs on stdin; both hooks must see them.
        previous = (
            "GITAX_STDIN=$(cat)\n"
            f'if [ -x "$0{PREVIOUS}" ]; then\n'
            f'  printf "%s\\n" "$GITAX_STDIN" | "$0{PREVIOUS}" "$@" || exit $?\n'
            "fi\n"
        )
        body = f'printf "%s\\n" "$GITAX_STDIN" | {{\n{body}}}\n'  # and the gitax script too
    else:
        previous = f'if [ -x "$0{PREVIOUS}" ]; then "$0{PREVIOUS}" "$@" || exit $?; fi\n'
    return (
        "#!/bin/sh\n"
        f"{MARKER}; `gitax hooks uninstall` restores what was here.\n"
        f"GITAX_PROJECT={shlex.quote(project)}; export GITAX_PROJECT\n"
        f'cd "$(git rev-parse --show-toplevel)" || exit 1\n'
        f'gitax() {{ {python} -m gitax "$@"; }}\n'
        f"{previous}"
        f"{body}"
    )


def _make_executable(path: Path) -> None:
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def install(project_root: Path) -> HooksReport:
    """Install every gitax hook; a hook already there is kept and run first."""
    work, folder = hooks_folder(project_root)
    project = os.path.relpath(os.path.realpath(project_root), os.path.realpath(work))
    report = HooksReport(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in HOOKS:
        path = folder / name
        text = wrapper(name, project)
        if path.exists() and MARKER in path.read_text(errors="replace"):
            if path.read_text() != text:
                path.write_text(text)
                report.updated.append(name)
            continue
        if path.exists() or path.is_symlink():
            if (folder / (name + PREVIOUS)).exists():
                raise GitaxError(
                    f"{path} and {path}{PREVIOUS} both exist; move one away, then install again"
                )
            os.rename(path, folder / (name + PREVIOUS))
            report.chained.append(name)
        tmp = folder / f".{name}.gitax-tmp"
        tmp.write_text(text)
        _make_executable(tmp)
        os.replace(tmp, path)
        report.installed.append(name)
    return report


def uninstall(project_root: Path) -> HooksReport:
    """Remove gitax's hooks and put back the hooks they had chained to."""
    _, folder = hooks_folder(project_root)
    report = HooksReport(folder)
    for name in HOOKS:
        path = folder / name
        if not path.exists() or MARKER not in path.read_text(errors="replace"):
            continue
        previous = folder / (name + PREVIOUS)
        if previous.exists() or previous.is_symlink():
            os.replace(previous, path)
            report.restored.append(name)
        else:
            path.unlink()
            report.removed.append(name)
    return report


def install_if_repo(project_root: Path) -> HooksReport | None:
    """Install the hooks when the project is in a git repository (for `gitax init`)."""
    from dulwich.errors import NotGitRepository
    from dulwich.repo import Repo

    try:
        Repo.discover(str(project_root)).close()
    except NotGitRepository:
        return None
    return install(project_root)
