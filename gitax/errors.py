"""The one error base of gitax; errors shared across layers live here too."""

from __future__ import annotations


class GitaxError(Exception):
    """Base of every error gitax raises on purpose; the CLI turns it into one line."""

    exit_code = 1


class ConfigError(GitaxError):
    """gitax.toml is missing, malformed or holds a bad key or value."""


class ProjectNotFound(ConfigError):
    """No gitax.toml in a directory or any parent."""

    def __init__(self, start: str) -> None:
        self.start = start
        super().__init__(
            f"no gitax project (gitax.toml) in {start} or any parent; run `gitax init` there"
        )
