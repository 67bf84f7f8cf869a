"""What the index commands show: text tables, the drill-down, correlations."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.codebook.model import Codebook
from pipeline.errors import DshiftError
from pipeline.indices.correlate import correlate, read_covariates
from pipeline.indices.explain import keyness, lemma_counts, top_segments
from pipeline.indices.stage import IndexSettings, IndexTables, compute_tables
from pipeline.indices.tables import TOP_CODES
from pipeline.store import Store


def format_indices(tables: IndexTables, codes: list[str] | None = None) -> str:
    """The yearly document-weighted shares with intervals, and the composite indices."""
    codes = codes or list(TOP_CODES)
    overall = tables.tidy[(tables.tidy["breakdown"] == "overall")]
    lines = []
    header = f"{'period':8} {'docs':>5}" + "".join(f" {c[:22]:>24}" for c in codes)
    lines.append(header)
    for period, part in overall.groupby("period", sort=True):
        docs = int(part["documents"].iloc[0])
        cells = []
        for code in codes:
            row = part[part["code"] == code]
            if row.empty:
                cells.append(f" {'':>24}")
                continue
            r = row.iloc[0]
            flag = "*" if r["low_documents"] else " "
            cells.append(
                f" {r['doc_share']:6.3f} [{r['doc_share_low']:.3f},{r['doc_share_high']:.3f}]{flag}"
            )
        lines.append(f"{period!s:8} {docs:5}" + "".join(cells))
    lines.append(
        "document-weighted share of segments coded [95% bootstrap interval]; "
        "* fewer documents than --min-docs"
    )
    if not tables.composites.empty:
        lines.append("")
        pivot = tables.composites.pivot_table(index="period", columns="index", values="value")
        lines.append(pivot.to_string(float_format=lambda v: f"{v:.3f}"))
    return "\n".join(lines)


def format_explain(store: Store, codebook: Codebook, period: str, code: str, top: int) -> str:
    """Top contributing segments of a period and code, and the period's key terms."""
    from pipeline.indices.compute import period_of

    if code not in codebook.codes:
        raise DshiftError(
            f"unknown code '{code}'", "see 'dshift codebook show' for the codes", code="usage"
        )
    settings = IndexSettings(
        period="year" if len(period) == 4 else ("quarter" if "Q" in period else "month")
    )
    from pipeline.indices.stage import load_frame

    frame = load_frame(store, codebook)
    labels = period_of(frame, settings.period).astype("string")
    if not (labels == period).any():
        raise DshiftError(
            f"no dated segments in period {period}",
            "see 'dshift status' for the years the corpus covers",
            code="not-found",
        )
    contributions = top_segments(frame, labels, period, code, top)
    texts = store.segment_text_map([c.segment_id for c in contributions])
    lines = [
        f"{code} in {period}: the {len(contributions)} segments that weigh most in the "
        "document-weighted share"
    ]
    for c in contributions:
        text, name, date = texts.get(c.segment_id, ("", "", ""))
        lines.append(f"  {c.contribution:.4f}  {c.segment_id}  {name} ({date})\n      {text}")
    in_period = set(frame.loc[labels == period, "segment_id"])
    all_texts = store.segment_text_map(list(frame["segment_id"]))
    target = lemma_counts(t for s, (t, _, _) in all_texts.items() if s in in_period)
    rest = lemma_counts(t for s, (t, _, _) in all_texts.items() if s not in in_period)
    lines.append(f"terms that mark {period} against the other periods (log-likelihood G2):")
    for term, g2, a, b in keyness(target, rest, n=top):
        lines.append(f"  {term:24} G2 {g2:7.1f}   {a} here, {b} elsewhere")
    return "\n".join(lines)


def correlations_for(
    store: Store, codebook: Codebook, settings: IndexSettings, covariates: Path
) -> tuple[pd.DataFrame, list[str]]:
    """Correlate the yearly index series with the columns of a covariates CSV.

    Returns:
        The correlations, and notes on what of the file was left out (text columns, years
        whose figures are requests or estimates).
    """
    found = read_covariates(covariates.read_text("utf-8"), str(covariates))
    tables = compute_tables(store, codebook, settings)
    return correlate(yearly_series(tables), found.table, seed=settings.seed), found.notes()


def yearly_series(tables: IndexTables) -> pd.DataFrame:
    """Index series by year: each top code's document-weighted share and each composite."""
    overall = tables.tidy[
        (tables.tidy["breakdown"] == "overall") & tables.tidy["code"].isin(TOP_CODES)
    ]
    series = overall.pivot_table(index="period", columns="code", values="doc_share")
    composites = tables.composites.pivot_table(index="period", columns="index", values="value")
    frame = series.join(composites, how="outer")
    frame.index = frame.index.astype(int)
    return frame
