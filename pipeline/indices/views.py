"""What the index commands show: text tables, the drill-down, the report, correlations."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline import __version__
from pipeline.codebook.model import Codebook
from pipeline.errors import DshiftError
from pipeline.indices.correlate import correlate, read_covariates
from pipeline.indices.explain import keyness, lemma_counts, top_segments
from pipeline.indices.run import IndexSettings, IndexTables, compute_tables
from pipeline.indices.tables import TOP_CODES
from pipeline.store import Store
from pipeline.store.sqlite import utc_now


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
        raise DshiftError(f"unknown code '{code}'", "see 'dshift codebook show' for the codes")
    settings = IndexSettings(
        period="year" if len(period) == 4 else ("quarter" if "Q" in period else "month")
    )
    from pipeline.indices.run import load_frame

    frame = load_frame(store, codebook)
    labels = period_of(frame, settings.period).astype("string")
    if not (labels == period).any():
        raise DshiftError(
            f"no dated segments in period {period}",
            "see 'dshift status' for the years the corpus covers",
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
    """Correlate the yearly index series with the columns of a covariates CSV."""
    found = read_covariates(covariates.read_text("utf-8"), str(covariates))
    tables = compute_tables(store, codebook, settings)
    return correlate(yearly_series(tables), found.table, seed=settings.seed), found.skipped


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


def build_report(
    store: Store,
    codebook: Codebook,
    settings: IndexSettings,
    folder: Path,
    covariates: Path | None = None,
) -> Path:
    """Compute the tables and write the HTML report with its figures."""
    from pipeline.indices.compute import period_of
    from pipeline.report.html import ReportInputs, write_report

    tables = compute_tables(store, codebook, settings)
    labels = period_of(tables.frame, settings.period).astype("string")
    evidence: dict[str, list[tuple[str, str, str, str]]] = {}
    code_shifts = tables.shifts[tables.shifts["series"].astype(str).str.contains(r"\|overall")]
    for row in code_shifts.head(12).itertuples():
        code = str(row.series).split("|")[0]
        if code not in codebook.codes:
            continue
        picks = top_segments(tables.frame, labels, str(row.period), code, 3)
        texts = store.segment_text_map([p.segment_id for p in picks])
        evidence[f"{row.series} {row.direction} in {row.period}"] = [
            (p.segment_id, texts[p.segment_id][1], texts[p.segment_id][2], texts[p.segment_id][0])
            for p in picks
            if p.segment_id in texts
        ]
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
    correlations = None
    if covariates is not None and settings.period == "year":
        found = read_covariates(covariates.read_text("utf-8"), str(covariates))
        correlations = correlate(yearly_series(tables), found.table, seed=settings.seed)
    topics: pd.DataFrame | None = None
    topic_terms: dict[str, str] = {}
    prevalence_csv = folder.parent / "topics" / "topic_prevalence.csv"
    if prevalence_csv.exists():
        topics = pd.read_csv(prevalence_csv, dtype={"period": str})
        terms = pd.read_csv(folder.parent / "topics" / "topics.csv")
        topic_terms = {
            f"topic_{t}": ", ".join(part.sort_values("rank")["term"].head(4))
            for t, part in terms.groupby("topic")
        }
    runs = store.recent_runs(1)
    manifest = {
        "run_id": runs[0].id if runs else "",
        "codebook_version": codebook.version,
        "pipeline_version": __version__,
        "created": utc_now(),
        "below_gate": tables.reliability.get("below_gate", []),
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
            evidence=evidence,
            correlations=correlations,
            topics=topics,
            topic_terms=topic_terms,
        ),
    )
