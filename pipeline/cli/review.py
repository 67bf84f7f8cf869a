"""Commands of the review room: review export/assign/import/adjudicate, agreement."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from pipeline.api import (
    GATE_ALPHA,
    GATE_MIN_UNITS,
    AgreementSettings,
    ImportSettings,
    SheetSettings,
)
from pipeline.cli.app import cli, exit_with, friendly_errors, project_of
from pipeline.core import DEFAULT_SEED
from pipeline.registry import strategies

if TYPE_CHECKING:
    import pandas as pd


@cli.group()
def review() -> None:
    """Sheets for coders to check the machine's codes, and their decisions back in.

    \b
    Example:
        dshift review export --coder amina --size 100 --strategy stratified
        dshift review import outputs/review/review-amina-1a2b3c4d.xlsx
    """


def _export(
    ctx: click.Context,
    coders: list[str],
    size: int,
    strategy: str,
    code: str | None,
    year: int | None,
    blind: bool,
    overlap: float,
    seed: int,
    role: str,
    with_csv: bool,
) -> None:
    paths = project_of(ctx).review_sheets(
        SheetSettings(
            coders=tuple(coders),
            size=size,
            strategy=strategy,
            code=code,
            year=year,
            blind=blind,
            overlap=overlap,
            seed=seed,
            role=role,
            with_csv=with_csv,
        )
    )
    for path in paths:
        click.echo(str(path))
    choices = "as marked, no code applies" if blind else "accept, as marked, no code applies"
    click.echo(
        f"fill in 'decision' ({choices}), the track columns for 'as marked', and 'note' "
        "(see the sheet 'how to fill in'); then: dshift review import FILE",
        err=True,
    )


@review.command("export")
@click.option("--coder", required=True, help="Who will fill the sheet in.")
@click.option(
    "--size", type=click.IntRange(1), default=50, show_default=True, help="Segments on the sheet."
)
@click.option(
    "--strategy",
    type=click.Choice(strategies.names()),
    default="stratified",
    show_default=True,
    help="How segments are chosen.",
)
@click.option("--code", default=None, help="Only segments the machine gave this code.")
@click.option("--year", type=int, default=None, help="Only segments of this year.")
@click.option("--blind", is_flag=True, help="Hide the machine's codes and evidence.")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Sampling seed.")
@click.option("--csv", "with_csv", is_flag=True, help="Also write a CSV copy.")
@click.pass_context
@friendly_errors
def review_export(
    ctx: click.Context,
    coder: str,
    size: int,
    strategy: str,
    code: str | None,
    year: int | None,
    blind: bool,
    seed: int,
    with_csv: bool,
) -> None:
    """Write a review sheet for one coder into outputs/review/.

    Segments this coder already decided are not sent again.

    \b
    Example:
        dshift review export --coder amina --size 80 --code hedging
    """
    _export(ctx, [coder], size, strategy, code, year, blind, 0.0, seed, "coder", with_csv)


@review.command("assign")
@click.option("--coders", required=True, help="Comma-separated coder names, e.g. A,B,C.")
@click.option(
    "--size", type=click.IntRange(1), default=50, show_default=True, help="Segments per coder."
)
@click.option(
    "--overlap",
    type=click.FloatRange(0, 1),
    default=0.2,
    show_default=True,
    help="Share of each sheet given to every coder (for agreement).",
)
@click.option(
    "--strategy",
    type=click.Choice(strategies.names()),
    default="stratified",
    show_default=True,
    help="How segments are chosen.",
)
@click.option(
    "--blind/--no-blind",
    default=True,
    show_default=True,
    help="Hide the machine's codes (double coding is blind by default).",
)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Sampling seed.")
@click.pass_context
@friendly_errors
def review_assign(
    ctx: click.Context,
    coders: str,
    size: int,
    overlap: float,
    strategy: str,
    blind: bool,
    seed: int,
) -> None:
    """Write one sheet per coder for double coding, with an overlapping share for all.

    \b
    Example:
        dshift review assign --coders amina,bilal,chen --overlap 0.2 --size 60
    """
    names = [c.strip() for c in coders.split(",") if c.strip()]
    _export(ctx, names, size, strategy, None, None, blind, overlap, seed, "coder", False)


@review.command("adjudicate")
@click.option("--coder", required=True, help="The senior coder whose decisions are final.")
@click.pass_context
@friendly_errors
def review_adjudicate(ctx: click.Context, coder: str) -> None:
    """Write a sheet of the segments coders disagree on, for a senior coder to settle.

    \b
    Example:
        dshift review adjudicate --coder senior
    """
    path = project_of(ctx).adjudication_sheet(coder)
    if path is None:
        click.echo("no disagreements left to adjudicate", err=True)
        return
    click.echo(str(path))
    click.echo(
        "each row shows how every coder and the machine coded the segment; fill in "
        "'decision' and the track columns, then: dshift review import FILE",
        err=True,
    )


@review.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option(
    "--skip-bad", is_flag=True, help="Apply the valid rows and write the rejected ones to a file."
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Check the sheet or project and say, per coder, what would be recorded; record nothing.",
)
@click.option(
    "--skip-unplaced",
    is_flag=True,
    help="From a .qdpx: record what could be placed even though some codings could not be "
    "(they are listed).",
)
@click.pass_context
@friendly_errors
def review_import(
    ctx: click.Context, file: str, skip_bad: bool, dry_run: bool, skip_unplaced: bool
) -> None:
    """Check a filled-in sheet (or a REFI-QDA .qdpx project), then record its decisions.

    The whole sheet is checked first: nothing is applied if any row is bad, unless --skip-bad.
    Importing the same file twice changes nothing; a re-saved sheet adds only the rows whose
    answers changed. From a .qdpx, each named coder's codings become their decisions.

    \b
    Example:
        dshift review import outputs/review/review-amina-1a2b3c4d.xlsx
    """
    settings = ImportSettings(
        Path(file), skip_bad=skip_bad, dry_run=dry_run, skip_unplaced=skip_unplaced
    )
    result = project_of(ctx).import_decisions(settings)
    if settings.is_refi:
        for line in result.summary():
            click.echo(line, err=True)
        return
    if result.already_imported:
        click.echo(f"already imported from {result.already_imported}: nothing changed", err=True)
        return
    for problem in result.problems:
        click.echo(f"{Path(file).name}: {problem.format()}", err=True)
    if result.problems and not result.coder:
        click.echo(
            f"{len(result.problems)} problem(s): nothing was applied. Fix them"
            + (", or use --skip-bad to apply the valid rows." if not skip_bad else "."),
            err=True,
        )
        exit_with("bad-sheet")
    click.echo(result.summary(), err=True)
    if result.rejects:
        click.echo(f"rejected rows: {result.rejects}", err=True)


@cli.command()
@click.option(
    "--boot",
    type=click.IntRange(0),
    default=500,
    show_default=True,
    help="Bootstrap draws for the intervals.",
)
@click.option(
    "--threshold",
    type=float,
    default=GATE_ALPHA,
    show_default=True,
    help="Flag codes whose machine-human alpha is below this.",
)
@click.option(
    "--min-units",
    type=click.IntRange(1),
    default=GATE_MIN_UNITS,
    show_default=True,
    help="Only flag codes reviewed on at least this many segments.",
)
@click.option("--all-codes", is_flag=True, help="Every subcode too, not only the three tracks.")
@click.pass_context
@friendly_errors
def agreement(
    ctx: click.Context, boot: int, threshold: float, min_units: int, all_codes: bool
) -> None:
    """Report agreement between coders and between the machine and the coders.

    \b
    Example:
        dshift agreement --boot 1000
    """
    report = project_of(ctx).agreement(
        AgreementSettings(
            n_boot=boot, threshold=threshold, min_units=min_units, all_codes=all_codes
        )
    )
    if not report.decided:
        click.echo(
            "No coder has decided any segment yet, so there is no agreement to "
            "measure.\nStart with: dshift review export --coder NAME (or dshift "
            "review assign --coders A,B for double coding)."
        )
        return
    click.echo("between coders (segments decided by two or more):")
    click.echo(
        _table(report.coders)
        if report.coders["units"].max() > 0
        else "  none yet: use 'dshift review assign' to give coders overlapping sheets"
    )
    pairs = report.pairs
    if not pairs.empty and pairs["units"].max() > 0:
        click.echo("\nCohen's kappa per pair:\n" + _table(pairs[pairs["units"] > 0]))
    click.echo(
        f"\nmachine ({report.machine_coder}) against the coders' final codes "
        f"({report.reviewed} segments):"
    )
    click.echo(_table(report.machine))
    if report.below_gate:
        click.echo(
            f"\nbelow the reliability gate (alpha < {threshold} on >= {min_units} "
            f"segments): {', '.join(report.below_gate)}"
        )
    if report.open_disagreements:
        click.echo(
            f"\n{len(report.open_disagreements)} segment(s) with disagreements: "
            "dshift review adjudicate --coder SENIOR"
        )


def _table(frame: pd.DataFrame) -> str:
    return frame.to_string(index=False, float_format=lambda v: f"{v:.3f}")
