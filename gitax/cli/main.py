"""The `gitax` command: a lazy group, -C DIR, --version, and the one error boundary."""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
from typing import Any

import click

from gitax import __version__
from gitax.errors import GitaxError

# Subcommands are imported only when called, so `gitax --version` loads almost nothing.
COMMANDS = {
    "init": ("gitax.cli.cmd_init", "init"),
    "build": ("gitax.cli.cmd_build", "build"),
    "show": ("gitax.cli.cmd_show", "show"),
    "methods": ("gitax.cli.cmd_methods", "methods"),
    "scripts": ("gitax.cli.cmd_methods", "scripts"),
    "status": ("gitax.cli.cmd_status", "status_cmd"),
    "log": ("gitax.cli.cmd_log", "log"),
    "checkout": ("gitax.cli.cmd_checkout", "checkout"),
    "diff": ("gitax.cli.cmd_diff", "diff"),
    "lineage": ("gitax.cli.cmd_lineage", "lineage"),
    "verify": ("gitax.cli.cmd_verify", "verify"),
    "hooks": ("gitax.cli.cmd_hooks", "hooks"),
    "remote": ("gitax.cli.cmd_remote", "remote"),
    "push": ("gitax.cli.cmd_remote", "push"),
    "pull": ("gitax.cli.cmd_remote", "pull"),
    "fsck": ("gitax.cli.cmd_fsck", "fsck"),
    "gc": ("gitax.cli.cmd_gc", "gc"),
    "ds": ("gitax.cli.cmd_ds", "ds"),
    "cat": ("gitax.cli.cmd_ds", "cat"),
    "grep": ("gitax.cli.cmd_ds", "grep"),
}


class LazyGroup(click.Group):
    """A group whose subcommands live in their own modules, imported on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attr = COMMANDS[cmd_name]
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command


class Context:
    """What the root group hands every subcommand: where to look for the project."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._project: Any = None

    def project(self) -> Any:
        """The project at or above -C DIR (or the working directory)."""
        if self._project is None:
            from gitax.jobs.project import Project, set_current

            self._project = Project.find(self.directory)
            set_current(self._project)
        return self._project


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "directory",
    default=".",
    metavar="DIR",
    help="Run as if gitax was started in DIR.",
)
@click.version_option(__version__, "--version", prog_name="gitax", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context, directory: str) -> None:
    """Reproducible, reusable, shareable builds of data projects, inside git."""
    if not os.path.isdir(directory):
        raise GitaxError(f"-C {directory}: no such directory")
    ctx.obj = Context(directory)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _short(message: str, longest: int = 240) -> str:
    """The message with any word longer than `longest` cut in the middle: an error that
    repeats a 5,000-character argument is no longer one line."""
    words = message.split(" ")
    keep = longest // 2
    return " ".join(w if len(w) <= longest else f"{w[:keep]}...{w[-keep // 2 :]}" for w in words)


def os_error_line(e: OSError) -> str:
    """An OSError as `PATH: reason` (both paths of a rename or copy), on one line."""
    import shutil  # only on this error path: `gitax --version` stays small

    if isinstance(e, shutil.Error) and e.args and isinstance(e.args[0], list) and e.args[0]:
        src, _, why = e.args[0][0]  # copytree's list of (source, destination, reason)
        return f"{src}: {why}"
    where = [str(f) for f in (e.filename, e.filename2) if f is not None]
    reason = e.strerror or str(e) or type(e).__name__
    if not where:
        return f"{type(e).__name__}: {reason}".replace("\n", " ")
    return f"{' -> '.join(where)}: {reason}".replace("\n", " ")


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; every GitaxError becomes one line on stderr and a non-zero exit."""
    # SIGTERM (a CI time-out, `kill`) unwinds like Ctrl-C, so a running job is stopped too.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        # Without standalone mode, click returns (not raises) the code of a ctx.exit/Exit.
        code = cli.main(args=argv, prog_name="gitax", standalone_mode=False)
    except GitaxError as e:
        details = getattr(e, "details", "")
        if details:
            sys.stderr.write(details if details.endswith("\n") else details + "\n")
        click.echo(f"gitax: error: {_short(str(e))}", err=True)
        sys.exit(e.exit_code)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except BrokenPipeError:
        # The reader went away (`gitax log | head`): exit as git does, quietly.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)
    except OSError as e:  # a file gitax cannot read or write: one line naming it
        click.echo(f"gitax: error: {_short(os_error_line(e))}", err=True)
        sys.exit(1)
    except (click.Abort, KeyboardInterrupt):
        click.echo(
            "gitax: interrupted; the running job was stopped and nothing of it stored", err=True
        )
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
