"""The report stage: one self-contained HTML file of coverage, indices with their intervals,
shifts with the segments behind them, correlations, topics and open problems."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline import __version__
from pipeline.codebook.model import Codebook
from pipeline.exports.stage import topics_provenance
from pipeline.indices.compute import period_of
from pipeline.indices.correlate import CAUTION, correlate, read_covariates
from pipeline.indices.stage import IndexSettings, IndexTables, compute_tables, gate_note
from pipeline.indices.views import yearly_series
from pipeline.learning.topic_tables import topic_tables
from pipeline.report.evidence import chart_periods, shift_evidence
from pipeline.report.html import ReportInputs, write_report
from pipeline.stage import Context
from pipeline.store import Store
from pipeline.store.sqlite import utc_now


@dataclass(frozen=True)
class ReportSettings:
    """What the report shows: the index parameters and, optionally, outside series."""

    index: IndexSettings
    covariates: Path | None = None


def run(ctx: Context, settings: ReportSettings, tables: IndexTables | None = None) -> Path:
    """Write ``outputs/report/report.html`` (and its figures); ``tables`` are computed when not
    given (``run_all`` passes the ones it already has)."""
    return build_report(
        ctx.store,
        ctx.codebook,
        settings.index,
        ctx.outputs / "report",
        covariates=settings.covariates,
        tables=tables,
    )


def build_report(
    store: Store,
    codebook: Codebook,
    settings: IndexSettings,
    folder: Path,
    covariates: Path | None = None,
    tables: IndexTables | None = None,
) -> Path:
    """Write the HTML report with its figures into ``folder`` from the index ``tables``
    (computed here when not given)."""
    if tables is None:
        tables = compute_tables(store, codebook, settings)
    labels = period_of(tables.frame, settings.period).astype("string")
    evidence = shift_evidence(store, codebook, tables.shifts, tables.frame, labels)
    problems = pd.DataFrame(
        [
            {
                "severity": p.severity,
                "code": p.code,
                "file": Path(p.path).name,
                "place": p.place,
                "reason": p.reason,
                "fix": p.hint,
            }
            for p in store.open_problems()
        ]
    )
    correlations, notes = None, []
    if covariates is not None and settings.period == "year":
        found = read_covariates(covariates.read_text("utf-8"), str(covariates))
        correlations = correlate(yearly_series(tables), found.table, seed=settings.seed)
        notes = found.notes()
    fitted, record = topic_tables(store)
    topics: pd.DataFrame | None = fitted.get("topic_prevalence")
    topic_terms: dict[str, str] = {}
    if "topics" in fitted:
        topic_terms = {
            f"topic_{t}": ", ".join(part.sort_values("rank")["term"].head(4))
            for t, part in fitted["topics"].groupby("topic")
        }
    _, stale = topics_provenance(store, codebook, record)
    gated = tables.reliability.get("below_gate", [])
    runs = store.recent_runs(1)
    manifest = {
        "run_id": runs[0].id if runs else "",
        "codebook_version": codebook.version,
        "pipeline_version": __version__,
        "created": utc_now(),
        "gate_note": gate_note(set(gated), list(codebook.codes), tables.reliability)
        if gated
        else "",
    }
    return write_report(
        folder,
        ReportInputs(
            manifest=manifest,
            coverage=tables.coverage,
            tidy=tables.tidy,
            composites=tables.composites,
            shifts=tables.shifts,
            change_points=tables.change_points,
            problems=problems,
            periods=chart_periods(tables.coverage, settings.period),
            evidence=evidence,
            correlations=correlations,
            correlations_caution=CAUTION,
            correlation_notes=notes,
            topics=topics,
            topic_terms=topic_terms,
            topics_note=stale or "",
        ),
    )
