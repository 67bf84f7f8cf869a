"""The ``dshift`` group and what every command shares: errors, progress, the project.

Commands live beside this module, one module per room (corpus, coding, review, indices,
coders); each parses its options, calls :mod:`pipeline.api` and prints. Data goes to stdout,
messages to stderr; every error becomes ``error [code]: what`` and ``fix: how`` with the exit
status of its code in the catalogue (:data:`pipeline.errors.ERRORS`); no traceback reaches a
user.
"""

from __future__ import annotations

import functools
import os
import signal
import sqlite3
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from pipeline import __version__
from pipeline.api import STORE_ENV_VAR, Project
from pipeline.api import WORKSPACE_ENV_VAR as ENV_VAR
from pipeline.errors import ERRORS, EXIT_BUG, EXIT_INTERRUPTED, DshiftError, system_failure

F = TypeVar("F", bound=Callable[..., Any])


def report_error(error: DshiftError) -> None:
    """Print ``error [code]: message`` and ``fix: hint`` on stderr."""
    click.secho(f"error [{error.code}]: {error.message}", fg="red", err=True)
    if error.hint:
        click.echo(f"  fix: {error.hint}", err=True)


def friendly_errors(fn: F) -> F:
    """Turn our errors, interrupts and refused writes into a message and their exit status."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DshiftError as exc:
            report_error(exc)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo(
                "interrupted: stored documents are complete; run the same command again to finish",
                err=True,
            )
            sys.exit(EXIT_INTERRUPTED)
        except (OSError, sqlite3.Error) as exc:
            failure = system_failure(exc, _workspace_folder())
            if failure is None:
                raise  # not the machine refusing: a bug, reported by main()
            report_error(failure)
            sys.exit(failure.exit_code)

    return wrapper  # type: ignore[return-value]


def exit_with(code: str) -> None:
    """End the command with the exit status of catalogue entry ``code`` (already reported)."""
    sys.exit(ERRORS[code].exit_code)


def _workspace_folder() -> str:
    """The folder of the current command's workspace, for messages; '' if there is none."""
    try:
        return str(project_of(click.get_current_context()).root)
    except (DshiftError, RuntimeError, AttributeError, OSError):
        return ""


class TerminalProgress:
    """A progress bar on a terminal, silence elsewhere (a :class:`~pipeline.stage.ProgressSink`)."""

    def __init__(self) -> None:
        self._bar: Any = None

    def start(self, total: int, label: str) -> None:
        """Draw a bar of ``total`` steps if stderr is a terminal and there is more than one."""
        self.close()
        if sys.stderr.isatty() and total > 1:
            self._bar = click.progressbar(length=total, label=label, file=sys.stderr)
            self._bar.__enter__()

    def advance(self, n: int) -> None:
        """Move the bar ``n`` steps."""
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        """Finish the bar."""
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def project_of(ctx: click.Context) -> Project:
    """The project of the workspace given by --workspace (or $DSHIFT_WORKSPACE, or here)."""
    options = ctx.find_root().obj
    project = Project.open(options.get("workspace"), options.get("store"))
    project.progress = TerminalProgress()
    return project


def optional_project(ctx: click.Context) -> Project | None:
    """The project, or None outside a workspace (for commands that can do without one)."""
    try:
        return project_of(ctx)
    except DshiftError:
        return None


def codebook_file(ctx: click.Context, given: str | None) -> Path:
    """The codebook file a command uses: the one given, else the workspace's."""
    if given:
        return Path(given)
    project = optional_project(ctx)
    if project is None:
        raise DshiftError(
            "no codebook given and no workspace found",
            "give the codebook file, or run inside a workspace",
            code="usage",
        )
    return project.codebook_path


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="dshift")
@click.option(
    "--workspace",
    "-w",
    type=click.Path(file_okay=False),
    envvar=ENV_VAR,
    help=f"Workspace folder (holds corpus/, codebook/, outputs/). Default: ${ENV_VAR}, "
    "else the current folder.",
)
@click.option(
    "--store",
    metavar="URL",
    envvar=STORE_ENV_VAR,
    help="Where the corpus store is: a PostgreSQL URL (postgresql://USER@HOST:5432/DATABASE; "
    "the password in PGPASSWORD or ~/.pgpass) or a SQLite file. Default: "
    f"${STORE_ENV_VAR}, else [store] url in the workspace's dshift.toml, else "
    "corpus/corpus.sqlite.",
)
@click.pass_context
def cli(ctx: click.Context, workspace: str | None, store: str | None) -> None:
    """Code official foreign-policy discourse into yearly discourse-shift indices.

    \b
    Example:
        dshift init ~/pakfp && cd ~/pakfp
        dshift ingest ~/drops/2024-06
        dshift status
    """
    ctx.ensure_object(dict)
    ctx.obj["workspace"] = workspace
    ctx.obj["store"] = store


def _interrupt_on_sigterm() -> None:
    """Make SIGTERM (kill, systemd, a closing terminal) an orderly interrupt, like Ctrl-C.

    The run is then recorded as interrupted and the worker processes are stopped with it. A
    second SIGTERM while that clean-up runs ends the process at once.
    """

    def interrupt(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def _write_traceback(exc: BaseException) -> Path | None:
    """Write the full traceback of ``exc`` to a new file in the system's temp folder."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    text = (
        f"dshift {__version__}, Python {sys.version.split()[0]}, {sys.platform}\n"
        f"command: {' '.join(sys.argv)}\n\n"
        + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    )
    try:
        handle, name = tempfile.mkstemp(prefix=f"dshift-crash-{stamp}-", suffix=".txt")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
    except OSError:
        return None
    return Path(name)


def _report_bug(exc: BaseException) -> None:
    command = " ".join(["dshift", *sys.argv[1:]])
    click.secho(
        f"error [bug]: '{command}' failed unexpectedly ({type(exc).__name__}: {exc})",
        fg="red",
        err=True,
    )
    click.echo(
        "  this is a bug in dshift, not something you did; the store keeps only whole writes, "
        "so nothing stored was lost",
        err=True,
    )
    written = _write_traceback(exc)
    if written is not None:
        click.echo(f"  full traceback: {written}", err=True)
    click.echo(
        "  report it: send that file and the command above to the dshift maintainers "
        "(an issue in the project's tracker)",
        err=True,
    )


def main() -> None:
    """Entry point of the ``dshift`` console script.

    Our errors are reported by :func:`friendly_errors`; here anything else becomes a short
    message (no traceback reaches a user): disk full, permission and read-only failures say
    where and how to fix them, any other exception is reported as a bug with its traceback
    written to a file.
    """
    _interrupt_on_sigterm()
    try:
        cli(prog_name="dshift")
    except Exception as exc:
        failure = system_failure(exc)
        if failure is None:
            _report_bug(exc)
            sys.exit(EXIT_BUG)
        report_error(failure)
        sys.exit(failure.exit_code)
