"""Adding and removing remotes in gitax.toml."""

from __future__ import annotations

from gitax.config import (
    CONFIG_FILE,
    REMOTE_NAME,
    RemoteConfig,
    add_remote_text,
    parse_config,
    remove_remote_text,
)
from gitax.errors import ConfigError
from gitax.jobs.project import Project
from gitax.remote.transport import check_url
from gitax.store.fsutil import atomic_write


def add_remote(
    project: Project,
    name: str,
    url: str,
    default: bool,
    endpoint_url: str | None,
    trusted: bool = False,
) -> RemoteConfig:
    """Add [remotes.NAME] to gitax.toml (checked by parsing the result before writing)."""
    if not REMOTE_NAME.match(name):
        raise ConfigError(f"{name!r} is not a valid remote name: use letters, digits, _ . -")
    if name in project.config.remotes:
        raise ConfigError(f"remote {name!r} exists; `gitax remote remove {name}` first")
    remote = RemoteConfig(name, url, default, endpoint_url, trusted)
    check_url(name, url)  # refuse a URL no transport understands (connecting to nothing)
    path = project.root / CONFIG_FILE
    text = add_remote_text(path.read_text(), remote)
    parse_config(text, project.root, str(path))
    atomic_write(path, text.encode())
    return remote


def remove_remote(project: Project, name: str) -> None:
    """Remove [remotes.NAME] from gitax.toml."""
    project.config.remote(name)
    path = project.root / CONFIG_FILE
    text = remove_remote_text(path.read_text(), name)
    parse_config(text, project.root, str(path))
    atomic_write(path, text.encode())
