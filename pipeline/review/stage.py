"""The review stages: sheets out, coders' decisions in, adjudication, agreement.

Every write of a decision goes through the functions here (sheets, REFI-QDA projects; later the
web page), so that each is checked against the store's record of what was shown, and recorded
append-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.codebook.versions import read_decisions
from pipeline.core.agreement import between_coders, disagreements, gate, machine_against_human
from pipeline.core.codes import machine_codes
from pipeline.core.decisions import final_decisions
from pipeline.review.refi_io import RefiImport, import_refi
from pipeline.review.run import ImportResult, adjudication_sheet, export_sheets, import_sheet
from pipeline.review.settings import AgreementSettings, ImportSettings, SheetSettings
from pipeline.stage import Context
from pipeline.store import Store


def _refuse_if_read_only(store: Store) -> None:
    """Refuse at once, before any file is read or written, a store that cannot record what
    the command does: the review commands take no workspace lock, whose failure used to say
    this first. The store's own refusal says what, where and how to fix."""
    if store.read_only:
        with store.transaction():  # raises
            pass


def write_sheets(ctx: Context, settings: SheetSettings) -> list[Path]:
    """Write one sheet per coder into ``outputs/review/`` (recorded as review exports)."""
    _refuse_if_read_only(ctx.store)
    return export_sheets(
        ctx.store,
        ctx.codebook,
        ctx.outputs / "review",
        coders=list(settings.coders),
        size=settings.size,
        strategy=settings.strategy,
        code=settings.code,
        year=settings.year,
        blind=settings.blind,
        overlap=settings.overlap,
        seed=settings.seed,
        role=settings.role,
        with_csv=settings.with_csv,
        model_folder=ctx.models,
    )


def write_adjudication(ctx: Context, adjudicator: str) -> Path | None:
    """A sheet of the segments coders disagree on, for ``adjudicator``; None if none."""
    _refuse_if_read_only(ctx.store)
    return adjudication_sheet(ctx.store, ctx.codebook, ctx.outputs / "review", adjudicator)


def import_decisions(ctx: Context, settings: ImportSettings) -> ImportResult | RefiImport:
    """Check the file, then record its decisions (nothing if any row is bad, unless skip_bad)."""
    if not settings.dry_run:
        _refuse_if_read_only(ctx.store)
    if settings.is_refi:
        return import_refi(
            ctx.store,
            ctx.codebook,
            settings.path,
            dry_run=settings.dry_run,
            skip_unplaced=settings.skip_unplaced,
        )
    return import_sheet(
        ctx.store,
        ctx.codebook,
        settings.path,
        skip_bad=settings.skip_bad,
        rejects_folder=ctx.outputs / "review",
        dry_run=settings.dry_run,
    )


@dataclass
class AgreementReport:
    """Agreement between coders, and between the active machine coder and their final codes.

    Attributes:
        decided: whether any coder has decided any segment (nothing else is filled if not).
        machine_coder: the active machine coder measured.
        coders: per code, alpha (and percent agreement) among coders on shared segments.
        pairs: Cohen's kappa per pair of coders.
        machine: per code, the machine against the coders' final codes.
        reviewed: how many segments have final human codes.
        below_gate: codes whose machine alpha is below the threshold.
        open_disagreements: segments coders disagree on that no adjudicator settled.
    """

    decided: bool
    machine_coder: str
    settings: AgreementSettings
    coders: pd.DataFrame = field(default_factory=pd.DataFrame)
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame)
    machine: pd.DataFrame = field(default_factory=pd.DataFrame)
    reviewed: int = 0
    below_gate: list[str] = field(default_factory=list)
    open_disagreements: list[str] = field(default_factory=list)


def agreement(ctx: Context, settings: AgreementSettings) -> AgreementReport:
    """Measure agreement on the store's decisions (reads only)."""
    store, book = ctx.store, ctx.codebook
    active = store.active_coder()
    events = read_decisions(store, book)
    if not events:
        return AgreementReport(False, active, settings)
    tags = store.machine_tags(active, book.version)
    codes = list(book.codes) if settings.all_codes else [c.id for c in book.children(None)]
    coders, pairs = between_coders(events, book, codes, n_boot=settings.n_boot)
    machine = machine_codes(tags)
    finals = final_decisions(events, book, machine=machine)
    reference = {s: set(f.codes) for s, f in finals.items()}
    judged = {s: f.judged for s, f in finals.items()}
    versus = machine_against_human(reference, machine, codes, n_boot=settings.n_boot, judged=judged)
    return AgreementReport(
        decided=True,
        machine_coder=active,
        settings=settings,
        coders=coders,
        pairs=pairs,
        machine=versus,
        reviewed=len(reference),
        below_gate=gate(versus, threshold=settings.threshold, min_units=settings.min_units),
        open_disagreements=disagreements(events, book),
    )
