"""The ``dshift`` command line: parse options, call one library function, report.

No pipeline logic lives here. Data goes to stdout, messages to stderr; our errors become a
message with a fix and a non-zero exit code.
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
from pipeline.errors import DshiftError, system_failure
from pipeline.workspace import ENV_VAR, Workspace, find_workspace, init_workspace

F = TypeVar("F", bound=Callable[..., Any])
EXIT_PROBLEMS = 5
EXIT_BUG = 70  # EX_SOFTWARE of sysexits.h


def friendly_errors(fn: F) -> F:
    """Turn DshiftError into 'error: ... / fix: ...' on stderr and its exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DshiftError as exc:
            click.secho(f"error: {exc.message}", fg="red", err=True)
            if exc.hint:
                click.echo(f"  fix: {exc.hint}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo(
                "interrupted: stored documents are complete; run the same command again to finish",
                err=True,
            )
            sys.exit(130)
        except (OSError, sqlite3.Error) as exc:
            failure = system_failure(exc, _workspace_folder())
            if failure is None:
                raise  # not the machine refusing: a bug, reported by main()
            click.secho(f"error: {failure.message}", fg="red", err=True)
            click.echo(f"  fix: {failure.hint}", err=True)
            sys.exit(failure.exit_code)

    return wrapper  # type: ignore[return-value]


def _workspace_folder() -> str:
    """The folder of the current command's workspace, for messages; '' if there is none."""
    try:
        return str(workspace_of(click.get_current_context()).root)
    except (DshiftError, RuntimeError, AttributeError, OSError):
        return ""


def workspace_codebook(workspace: Workspace) -> Any:
    """Load and validate the workspace's codebook (codebook/codebook.yaml)."""
    from pipeline.codebook.load import load_codebook

    return load_codebook(workspace.codebook / "codebook.yaml")


def workspace_of(ctx: click.Context) -> Workspace:
    return find_workspace(ctx.obj.get("workspace"))


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
@click.pass_context
def cli(ctx: click.Context, workspace: str | None) -> None:
    """Code official foreign-policy discourse into yearly discourse-shift indices.

    \b
    Example:
        dshift init ~/pakfp && cd ~/pakfp
        dshift ingest ~/drops/2024-06
        dshift status
    """
    ctx.ensure_object(dict)
    ctx.obj["workspace"] = workspace


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False))
@friendly_errors
def init(directory: str) -> None:
    """Create a workspace in DIRECTORY, with the default codebook.

    \b
    Example:
        dshift init ~/pakfp
    """
    workspace = init_workspace(directory)
    click.echo(f"workspace ready: {workspace.root}", err=True)
    click.echo(
        "  corpus/   the store and coders' decisions (back it up)\n"
        "  codebook/ codebook.yaml\n  outputs/  regenerable results",
        err=True,
    )


def ingest_options(fn: F) -> F:
    options = [
        click.option(
            "--jobs",
            "-j",
            type=click.IntRange(min=1),
            default=None,
            help="Worker processes (default: all cores).",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=1),
            default=120.0,
            show_default=True,
            help="Seconds one file may take before it is given up.",
        ),
        click.option(
            "--max-pages",
            type=click.IntRange(min=1),
            default=2000,
            show_default=True,
            help="Refuse files with more pages than this.",
        ),
        click.option(
            "--max-megabytes",
            type=click.IntRange(min=1),
            default=200,
            show_default=True,
            help="Refuse files larger than this.",
        ),
        click.option(
            "--max-memory-mb",
            type=click.IntRange(min=64),
            default=2048,
            show_default=True,
            help="Memory limit of each worker process.",
        ),
        click.option(
            "--engine",
            type=click.Choice(["pdfium", "pdfplumber"]),
            default="pdfium",
            show_default=True,
            help="PDF engine for word positions.",
        ),
        click.option(
            "--retry-problems", is_flag=True, help="Read again files that failed in an earlier run."
        ),
        click.option(
            "--follow-links",
            is_flag=True,
            help="Follow symbolic links that point out of the drop (by default they are "
            "reported and skipped).",
        ),
        click.option(
            "--strict",
            is_flag=True,
            help=f"Exit with status {EXIT_PROBLEMS} if any file of the drops has a problem.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _run_ingest(ctx: click.Context, drops: tuple[str, ...], command: str, **options: Any) -> Any:
    from pipeline.ingest.options import ReadOptions
    from pipeline.ingest.run import IngestSettings, ingest
    from pipeline.status import export_problems, format_summary

    workspace = workspace_of(ctx)
    settings = IngestSettings(
        jobs=options["jobs"],
        timeout=options["timeout"],
        max_memory_mb=options["max_memory_mb"],
        retry_problems=options["retry_problems"],
        follow_links=options["follow_links"],
        read=ReadOptions(
            engine=options["engine"],
            max_pages=options["max_pages"],
            max_bytes=options["max_megabytes"] * 1024 * 1024,
        ),
    )
    arguments = {"drops": list(drops), **options}
    with workspace.lock(f"dshift {command} (pid {os.getpid()})"), workspace.open_store() as store:
        bar = Progress()
        try:
            summary = ingest(
                store,
                [Path(d) for d in drops],
                settings,
                arguments=arguments,
                progress=bar.advance,
                on_total=bar.start,
            )
        finally:
            bar.close()
        problems_csv = export_problems(store, workspace.outputs / "problems.csv")
    click.echo(format_summary(summary, problems_csv), err=True)
    return summary


def _exit_if_strict(strict: bool, summary: Any) -> None:
    if strict and (summary.problems or summary.skipped_known_problems):
        sys.exit(EXIT_PROBLEMS)


class Progress:
    """A progress bar on a terminal, silence elsewhere."""

    def __init__(self) -> None:
        self._bar: Any = None

    def start(self, total: int) -> None:
        if sys.stderr.isatty() and total > 1:
            self._bar = click.progressbar(length=total, label="reading", file=sys.stderr)
            self._bar.__enter__()

    def advance(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


def _check_drops(drops: tuple[str, ...]) -> None:
    for drop in drops:
        if not Path(drop).exists():
            raise DshiftError(
                f"drop {drop} does not exist", "give a folder of PDFs (or single files) that exists"
            )


@cli.command()
@click.argument("drops", nargs=-1, required=True, type=click.Path())
@ingest_options
@click.pass_context
@friendly_errors
def ingest(ctx: click.Context, drops: tuple[str, ...], **options: Any) -> None:
    """Read new and changed files of one or more DROPS into the corpus store.

    A drop is a folder of PDF, DOCX, HTML and text files, optionally with a metadata.csv
    sidecar (file, source_type, date, title, issuer, language). Files already stored are
    skipped; bad files are reported, never fatal.

    \b
    Example:
        dshift ingest ~/drops/2024-06 --jobs 4
    """
    _check_drops(drops)
    summary = _run_ingest(ctx, drops, "ingest", **options)
    _exit_if_strict(options["strict"], summary)


@cli.command()
@click.argument("drops", nargs=-1, required=True, type=click.Path())
@ingest_options
@click.pass_context
@friendly_errors
def run(ctx: click.Context, drops: tuple[str, ...], **options: Any) -> None:
    """Run the whole pipeline over DROPS: ingest, code, index, export, report.

    \b
    Example:
        dshift run corpus/sample
    """
    from pipeline.cli_coding import run_coding
    from pipeline.cli_indices import run_export, run_report
    from pipeline.indices.run import IndexSettings

    _check_drops(drops)
    summary = _run_ingest(ctx, drops, "run", **options)
    workspace = workspace_of(ctx)
    run_coding(workspace, None, unit="sentence", model=None, dry_run=False)
    folder = run_export(workspace, ["csv", "parquet"], IndexSettings())
    report = run_report(workspace, IndexSettings())
    click.echo(
        f"outputs: {workspace.outputs}\n  exports: {folder}\n  report:  {report}\n"
        f"  store:   {workspace.store_path} (back it up)",
        err=True,
    )
    _exit_if_strict(options["strict"], summary)


@cli.command()
@click.pass_context
@friendly_errors
def status(ctx: click.Context) -> None:
    """Show what the store holds: documents by year and type, undated ones, problems, runs.

    \b
    Example:
        dshift --workspace ~/pakfp status
    """
    from pipeline.status import format_status

    workspace = workspace_of(ctx)
    with workspace.open_store() as store:
        click.echo(format_status(store))


@cli.command()
@click.option("--csv", "as_csv", is_flag=True, help="Write CSV to stdout instead of a listing.")
@click.option(
    "--dismiss",
    type=int,
    multiple=True,
    metavar="ID",
    help="Close a problem you have dealt with (repeat for several).",
)
@click.pass_context
@friendly_errors
def problems(ctx: click.Context, as_csv: bool, dismiss: tuple[int, ...]) -> None:
    """List open problems with the file, the place, the reason and the fix.

    Problems close by themselves when a later run fixes them (a readable version of the file, a
    date for an undated document); --dismiss closes the others.

    \b
    Example:
        dshift problems --csv > problems.csv
        dshift problems --dismiss 12 --dismiss 13
    """
    from pipeline.status import write_problems_csv

    workspace = workspace_of(ctx)
    if dismiss:
        with (
            workspace.lock("dshift problems --dismiss"),
            workspace.open_store() as store,
            store.recorded_run("problems dismiss", {"ids": list(dismiss)}) as run,
        ):
            closed = store.dismiss_problems(dismiss, run.id)
            run.counts = {"dismissed": closed}
        click.echo(f"dismissed {closed} of {len(dismiss)} problem(s)", err=True)
        return
    with workspace.open_store() as store:
        rows = store.open_problems()
    if as_csv:
        write_problems_csv(sys.stdout, rows)
        return
    if not rows:
        click.echo("no open problems")
    for p in rows:
        place = f" ({p.place})" if p.place else ""
        doc = f" [doc #{p.document_id}]" if p.document_id else ""
        click.echo(
            f"#{p.id} {p.severity:7} {p.code:15} {p.path}{place}{doc}\n"
            f"        {p.reason}\n        fix: {p.hint}"
        )


@cli.group()
def doc() -> None:
    """Look at one document or correct its metadata.

    \b
    Example:
        dshift doc show 12
    """


@doc.command("show")
@click.argument("ref")
@click.pass_context
@friendly_errors
def doc_show(ctx: click.Context, ref: str) -> None:
    """Show a document's metadata, with where each value came from.

    REF is a document id, a file name, or a sha256 prefix.

    \b
    Example:
        dshift doc show pr_0457.pdf
    """
    from pipeline.documents import find_document
    from pipeline.status import format_document

    with workspace_of(ctx).open_store() as store:
        click.echo(format_document(store, find_document(store, ref).id))


@doc.command("text")
@click.argument("ref")
@click.pass_context
@friendly_errors
def doc_text(ctx: click.Context, ref: str) -> None:
    """Print a document's canonical text.

    \b
    Example:
        dshift doc text 12 | less
    """
    from pipeline.documents import find_document

    with workspace_of(ctx).open_store() as store:
        click.echo(store.document_text(find_document(store, ref).id))


@doc.command("set-date")
@click.argument("ref")
@click.argument("date")
@click.option("--note", default="", help="Why (kept with the value).")
@click.pass_context
@friendly_errors
def doc_set_date(ctx: click.Context, ref: str, date: str, note: str) -> None:
    """Set the DATE (YYYY-MM-DD, YYYY-MM or YYYY) of document REF by hand.

    \b
    Example:
        dshift doc set-date consular_circular.pdf 2012-03-01 --note "from the archive register"
    """
    from pipeline.documents import set_date

    workspace = workspace_of(ctx)
    with workspace.lock("dshift doc set-date"), workspace.open_store() as store:
        document = set_date(store, ref, date, note)
    click.echo(
        f"#{document.id} {document.name}: date {document.date} (year {document.year})", err=True
    )


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
        f"error: '{command}' failed unexpectedly ({type(exc).__name__}: {exc})", fg="red", err=True
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
        click.secho(f"error: {failure.message}", fg="red", err=True)
        click.echo(f"  fix: {failure.hint}", err=True)
        sys.exit(failure.exit_code)


# Commands of later stages register themselves on the group.
from pipeline import cli_coders, cli_coding, cli_indices, cli_review  # noqa: E402, F401
