"""Commands of the index room: index, export, explain, report, correlate."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pipeline.api import IndexSettings
from pipeline.cli.app import cli, friendly_errors, project_of
from pipeline.core import DEFAULT_SEED
from pipeline.errors import DshiftError
from pipeline.registry import ALWAYS_EXPORTED, exporters

if TYPE_CHECKING:
    from pipeline.api import ExportSummary


def _settings(period: str, boot: int, seed: int, min_docs: int, baseline: str) -> IndexSettings:
    try:
        first, _, last = baseline.partition("-")
        span = (int(first), int(last or first))
    except ValueError:
        raise DshiftError(
            f"baseline '{baseline}' is not a span of years",
            "write it as 2001-2003 (or a single year)",
            code="usage",
        ) from None
    return IndexSettings(period=period, n_boot=boot, seed=seed, min_docs=min_docs, baseline=span)


def index_options(fn: Any) -> Any:
    options = [
        click.option(
            "--period",
            type=click.Choice(["year", "quarter", "month"]),
            default="year",
            show_default=True,
            help="Time unit of the indices.",
        ),
        click.option(
            "--boot",
            type=click.IntRange(1),
            default=1000,
            show_default=True,
            help="Bootstrap draws for the intervals.",
        ),
        click.option(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            show_default=True,
            help="Seed of the bootstrap (same seed, same intervals).",
        ),
        click.option(
            "--min-docs",
            type=click.IntRange(1),
            default=3,
            show_default=True,
            help="Flag values resting on fewer documents than this.",
        ),
        click.option(
            "--baseline",
            default="2001-2003",
            show_default=True,
            help="Baseline years for the shift indices, e.g. 2001-2003.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@cli.command("index")
@index_options
@click.option("--code", "codes", multiple=True, help="Codes to show (default: the three tracks).")
@click.pass_context
@friendly_errors
def index_command(
    ctx: click.Context,
    period: str,
    boot: int,
    seed: int,
    min_docs: int,
    baseline: str,
    codes: tuple[str, ...],
) -> None:
    """Print the yearly (or quarterly, monthly) indices with their 95% intervals.

    \b
    Example:
        dshift index --code hedging --code alignment
    """
    from pipeline.api import format_indices

    tables = project_of(ctx).index(_settings(period, boot, seed, min_docs, baseline))
    click.echo(format_indices(tables, list(codes) or None))
    for note in tables.notes:
        click.echo(f"note: {note}", err=True)


def print_export(summary: ExportSummary) -> None:
    """What an export wrote, and its notes (``dshift export`` and ``dshift run``)."""
    tables = summary.tables
    click.echo(
        f"exported run {summary.run_id}: {len(tables.tidy)} index rows, "
        f"{len(tables.segments)} coded segment rows -> {summary.folder}",
        err=True,
    )
    for note in tables.notes:
        click.echo(f"note: {note}", err=True)


@cli.command()
@index_options
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(exporters.names()),
    help="Extra formats (CSV and Parquet are always written); repeat for several.",
)
@click.option(
    "--refi",
    is_flag=True,
    help="Also write a REFI-QDA project (project.qdpx) and codebook (codebook.qdc) "
    "for NVivo, ATLAS.ti, MAXQDA or QualCoder.",
)
@click.option(
    "--corpus",
    is_flag=True,
    help="Also write corpus_documents (doc_id, file name, metadata, text) and corpus_segments "
    "(offsets, text, final codes per track), which quanteda::corpus() and pandas read as they "
    "are.",
)
@click.pass_context
@friendly_errors
def export(
    ctx: click.Context,
    period: str,
    boot: int,
    seed: int,
    min_docs: int,
    baseline: str,
    formats: tuple[str, ...],
    refi: bool,
    corpus: bool,
) -> None:
    """Write the index tables, coded segments and document matrix with a manifest.

    Into outputs/exports/<run-id>/: CSV and Parquet always, Excel, Stata and JSON on request,
    with manifest.json and a data dictionary; with --corpus also the whole corpus (every
    document's text, every segment's offsets and final codes); with --refi also a REFI-QDA
    project holding the texts, the codebook, document variables and the codings of the
    machine and each coder.

    \b
    Example:
        dshift export --format xlsx --format dta --refi
        dshift export --corpus --format json
    """
    settings = _settings(period, boot, seed, min_docs, baseline)
    chosen = sorted({*ALWAYS_EXPORTED, *formats})
    summary, written = project_of(ctx).export(
        settings,
        formats=chosen,
        refi=refi,
        arguments={"formats": chosen, "settings": str(settings), "corpus": corpus},
        corpus=corpus,
    )
    print_export(summary)
    for path in written:
        click.echo(f"REFI-QDA: {path}", err=True)


@cli.command()
@click.option("--year", "period", required=True, help="The period (a year, 2013-Q2, 2013-04).")
@click.option("--code", required=True, help="The code, e.g. hedging or hedging.china.")
@click.option(
    "--top",
    type=click.IntRange(1),
    default=10,
    show_default=True,
    help="How many segments and terms.",
)
@click.pass_context
@friendly_errors
def explain(ctx: click.Context, period: str, code: str, top: int) -> None:
    """Show the segments behind a period's value of a code, and the words that mark the period.

    \b
    Example:
        dshift explain --year 2015 --code hedging
    """
    click.echo(project_of(ctx).explain(period, code, top=top))


@cli.command()
@index_options
@click.option(
    "--covariates",
    type=click.Path(dir_okay=False, exists=True),
    help="A yearly CSV of outside series to correlate with the indices.",
)
@click.pass_context
@friendly_errors
def report(
    ctx: click.Context,
    period: str,
    boot: int,
    seed: int,
    min_docs: int,
    baseline: str,
    covariates: str | None,
) -> None:
    """Write outputs/report/report.html: coverage, indices, breakdowns, shifts, problems.

    One self-contained file (figures inlined; PNG and SVG copies in outputs/report/figures).

    \b
    Example:
        dshift report --covariates ../shared/data/covariates/us_aid_pakistan_crs.csv
    """
    path = project_of(ctx).report(
        _settings(period, boot, seed, min_docs, baseline), Path(covariates) if covariates else None
    )
    click.echo(f"report: {path}", err=True)


@cli.command()
@click.argument("covariates", type=click.Path(dir_okay=False, exists=True))
@index_options
@click.option("--csv", "as_csv", is_flag=True, help="Write the table as CSV to stdout.")
@click.pass_context
@friendly_errors
def correlate(
    ctx: click.Context,
    covariates: str,
    period: str,
    boot: int,
    seed: int,
    min_docs: int,
    baseline: str,
    as_csv: bool,
) -> None:
    """Correlate the yearly indices with outside series (year column + numeric columns).

    \b
    Example:
        dshift correlate ../shared/data/covariates/us_aid_pakistan_crs.csv
    """
    from pipeline.api import CORRELATION_CAUTION

    settings = _settings(period, boot, seed, min_docs, baseline)
    table, notes = project_of(ctx).correlate(Path(covariates), settings)
    for note in notes:
        click.echo(note, err=True)
    if as_csv:
        table.to_csv(sys.stdout, index=False, float_format="%.4f")
    else:
        click.echo(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    click.echo(CORRELATION_CAUTION, err=True)
