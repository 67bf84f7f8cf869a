"""Write the report: one self-contained HTML file (figures inlined) plus PNG and SVG files.

The page is for analysts: every line shows its uncertainty band and, below it, how many
documents stand behind each point; every figure folds the numbers it draws under it; each shift
comes with the segments behind it. Nothing is wider than the page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.core.codes import TOP_CODES
from pipeline.report import figures
from pipeline.report.sections import ShiftEvidence, correlations_section, shifts_section
from pipeline.report.tables import plain_table, values_table

COMPOSITE_TITLES = {
    "hedging_balance": ("Hedging balance (hedging against alignment, −1 to +1)", "balance"),
    "securitization_intensity": (
        "Securitization intensity (coded segments per 1,000 words)",
        "per 1,000 words",
    ),
    "divergence": ("Divergence from the baseline (Jensen–Shannon, 0 to 1)", "divergence"),
}
_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1000px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;font-size:.85em;margin:.6em 0}
td,th{border:1px solid #ddd;padding:.25em .5em;text-align:right}th{background:#f4f4f4}
td.t{text-align:left}img{max-width:100%}.note{color:#555;font-size:.9em}
td.gap{color:#999;font-style:italic}td.thin{color:#777}
.iv{color:#666;font-size:.85em;white-space:nowrap}.n{color:#888;font-size:.8em;white-space:nowrap}
details{margin:.3em 0 1.2em}summary{cursor:pointer;color:#245;font-size:.9em}
details table{display:block;overflow-x:auto;max-width:100%}
.seg{background:#fafafa;border-left:3px solid #bbb;padding:.3em .6em;margin:.3em 0;font-size:.9em}
.shift{margin:1em 0 .4em;font-weight:600}
"""


@dataclass
class ReportInputs:
    """Everything the report shows; built by the report stage."""

    manifest: dict[str, Any]
    coverage: pd.DataFrame
    tidy: pd.DataFrame
    composites: pd.DataFrame
    shifts: pd.DataFrame
    change_points: pd.DataFrame
    problems: pd.DataFrame
    periods: list[str] = field(default_factory=list)  # every period the charts span, in order
    # shift key (series|period) -> the segments behind it
    evidence: dict[str, ShiftEvidence] = field(default_factory=dict)
    correlations: pd.DataFrame | None = None
    # How to read the correlations, shown above them (the correlation stage words it).
    correlations_caution: str = ""
    correlation_notes: list[str] = field(default_factory=list)  # what of the file was left out
    topics: pd.DataFrame | None = None  # topic prevalence per period (from dshift topics)
    topic_terms: dict[str, str] = field(default_factory=dict)  # topic column -> top terms
    topics_note: str = ""  # said when the topics were fitted before the store last changed


def _img(uri: str, alt: str) -> str:
    return f"<p><img src='{uri}' alt='{html.escape(alt)}'></p>"


def _series(frame: pd.DataFrame, value: str, low: str, high: str) -> pd.DataFrame:
    return frame.rename(columns={value: "value", low: "low", high: "high"})[
        ["period", "value", "low", "high", "documents", "low_documents"]
    ]


def _documents(
    series: dict[str, pd.DataFrame], periods: list[str], by_series: bool
) -> pd.DataFrame:
    """The documents behind each point: one column per series (stacked in the strip), or the
    first series' counts when every series rests on the same documents (the three tracks)."""
    chosen = series if by_series else dict(list(series.items())[:1])
    table = pd.DataFrame(
        {
            name: frame.set_index(frame["period"].astype(str))["documents"]
            for name, frame in chosen.items()
        }
    )
    return table.reindex(periods).fillna(0)


def _chart(
    data: ReportInputs,
    figs: Path,
    series: dict[str, pd.DataFrame],
    name: str,
    title: str,
    ylabel: str,
    marks: dict[str, list[str]] | None = None,
    by: str | None = None,
) -> str:
    counts = _documents(series, data.periods, by_series=by is not None)
    chart = figures.series_chart(series, title, ylabel, marks, periods=data.periods, counts=counts)
    figure = _img(figures.save(chart, figs, name), title)
    return figure + values_table(series, data.periods)


def _coverage(data: ReportInputs, figs: Path) -> list[str]:
    parts = ["<h2>Corpus coverage</h2>"]
    chart = figures.coverage_chart(data.coverage)
    parts.append(_img(figures.save(chart, figs, "coverage"), "documents per period and type"))
    # Periods as rows: the table stays inside the page however many years the corpus spans.
    pivot = data.coverage.pivot_table(
        index="period", columns="source_type", values="documents", aggfunc="sum", fill_value=0
    )
    pivot["all"] = pivot.sum(axis=1)
    pivot.index = pivot.index.astype(str)
    table = pivot.reset_index()
    parts.append(
        "<details><summary>Documents per period and source type (table)</summary>"
        + plain_table(table, ("period",))
        + "</details>"
    )
    return parts


def _indices(data: ReportInputs, figs: Path) -> list[str]:
    parts = [
        "<h2>Indices</h2><p class='note'>Lines are document-weighted shares (each document "
        "counts once) or the composite named; bands are 95% bootstrap intervals over "
        "documents; hollow points rest on too few documents; dashed lines mark change points; "
        "a line breaks where a period has no documents. The bars under each chart count the "
        "documents behind each point; the table under it gives the numbers.</p>"
    ]
    marks: dict[str, list[str]] = {}
    for row in data.change_points.itertuples():
        marks.setdefault(str(row.series), []).append(str(row.period))
    overall = data.tidy[(data.tidy["breakdown"] == "overall")]
    lines = {
        code: _series(
            overall[overall["code"] == code], "doc_share", "doc_share_low", "doc_share_high"
        )
        for code in TOP_CODES
        if code in set(overall["code"])
    }
    code_marks = {code: marks.get(f"{code}|overall|all", []) for code in lines}
    parts.append(
        _chart(
            data,
            figs,
            lines,
            "tracks",
            "Share of segments coded, by track",
            "document-weighted share",
            code_marks,
        )
    )
    for name, (title, ylabel) in COMPOSITE_TITLES.items():
        frame = data.composites[data.composites["index"] == name]
        if not frame.empty:
            parts.append(
                _chart(data, figs, {name: frame}, name, title, ylabel, {name: marks.get(name, [])})
            )
    return parts


def _breakdowns(data: ReportInputs, figs: Path) -> list[str]:
    parts = ["<h2>By source type and by partner</h2>"]
    for code in TOP_CODES:
        tidy = data.tidy[data.tidy["code"] == code]
        by_source = tidy[tidy["breakdown"] == "source_type"]
        if not by_source.empty:
            series = {
                str(g): _series(f, "doc_share", "doc_share_low", "doc_share_high")
                for g, f in by_source.groupby("group")
            }
            title = f"{code}: by source type"
            parts.append(
                _chart(
                    data,
                    figs,
                    series,
                    f"{code}_by_source",
                    title,
                    "document-weighted share",
                    by="source_type",
                )
            )
        by_partner = tidy[tidy["breakdown"] == "partner"]
        if not by_partner.empty:
            grid = by_partner.pivot_table(
                index="group", columns="period", values="share", aggfunc="first"
            )
            chart = figures.heatmap(
                grid, f"{code}: share of segments coded, among segments that mention each partner"
            )
            parts.append(_img(figures.save(chart, figs, f"{code}_by_partner"), code))
    return parts


def _topics(data: ReportInputs, figs: Path) -> list[str]:
    if data.topics is None or data.topics.empty:
        return []
    parts = [
        "<h2>Topics (what else the corpus talks about)</h2><p class='note'>LDA topics from "
        "'dshift topics': the share of each period's documents given to each topic.</p>"
    ]
    if data.topics_note:
        parts.append("<p class='note'>" + html.escape(data.topics_note) + "</p>")
    dated = data.topics[data.topics["period"] != "undated"]
    series = {
        f"{c}: {data.topic_terms.get(c, '')}": pd.DataFrame(
            {
                "period": dated["period"],
                "value": dated[c],
                "low": dated[c],
                "high": dated[c],
                "low_documents": False,
            }
        )
        for c in dated.columns
        if c.startswith("topic_")
    }
    chart = figures.series_chart(series, "Topic prevalence", "share of documents")
    parts.append(_img(figures.save(chart, figs, "topics"), "topic prevalence"))
    return parts


def write_report(folder: Path, data: ReportInputs) -> Path:
    """Write ``report.html`` and its figures into ``folder``; return the HTML path."""
    m = data.manifest
    figs = folder / "figures"
    parts = [
        f"<h1>Discourse-shift report</h1><p class='note'>run {html.escape(str(m.get('run_id')))}"
        f" · codebook {html.escape(str(m.get('codebook_version')))} · dshift "
        f"{html.escape(str(m.get('pipeline_version')))} · {html.escape(str(m.get('created')))}"
        f"</p>"
    ]
    if m.get("gate_note"):
        parts.append("<p><b>Reliability gate:</b> " + html.escape(str(m["gate_note"])) + "</p>")
    parts += _coverage(data, figs)
    parts += _indices(data, figs)
    parts += _breakdowns(data, figs)
    parts += shifts_section(data.shifts, data.change_points, data.evidence)
    parts += _topics(data, figs)
    if data.correlations is not None and not data.correlations.empty:
        chart = figures.correlation_chart(
            data.correlations, "Correlations of the yearly indices with outside series"
        )
        uri = figures.save(chart, figs, "correlations")
        parts += correlations_section(
            data.correlations,
            _img(uri, "correlations with outside series"),
            data.correlations_caution,
            data.correlation_notes,
        )
    parts.append("<h2>Problems</h2>")
    parts.append(plain_table(data.problems, tuple(data.problems.columns)))
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Discourse-shift report</title><style>"
        + _STYLE
        + "</style></head><body>"
        + "\n".join(parts)
        + "</body></html>\n"
    )
    path = folder / "report.html"
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path
