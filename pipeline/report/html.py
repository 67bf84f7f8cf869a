"""Write the report: one self-contained HTML file (figures inlined) plus PNG and SVG files."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.core.codes import TOP_CODES
from pipeline.report import figures

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
margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;font-size:.85em;margin:.6em 0}
td,th{border:1px solid #ddd;padding:.25em .5em;text-align:right}th{background:#f4f4f4}
div.wide{overflow-x:auto}
td.t{text-align:left}img{max-width:100%}.note{color:#555;font-size:.9em}
.seg{background:#fafafa;border-left:3px solid #bbb;padding:.3em .6em;margin:.3em 0;font-size:.9em}
"""


@dataclass
class ReportInputs:
    """Everything the report shows; built by the index stage."""

    manifest: dict[str, Any]
    coverage: pd.DataFrame
    tidy: pd.DataFrame
    composites: pd.DataFrame
    shifts: pd.DataFrame
    change_points: pd.DataFrame
    problems: pd.DataFrame
    # shift key (series|period) -> [(segment id, document name, year, text)]
    evidence: dict[str, list[tuple[str, str, str, str]]] = field(default_factory=dict)
    correlations: pd.DataFrame | None = None
    # How to read the correlations, shown above them (the correlation stage words it).
    correlations_caution: str = ""
    topics: pd.DataFrame | None = None  # topic prevalence per period (from dshift topics)
    topic_terms: dict[str, str] = field(default_factory=dict)  # topic column -> top terms
    topics_note: str = ""  # said when the topics were fitted before the store last changed


def _table(frame: pd.DataFrame, text_columns: tuple[str, ...] = (), digits: int = 3) -> str:
    if frame.empty:
        return "<p class='note'>(none)</p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, record):
            if isinstance(value, float):
                shown = "" if pd.isna(value) else f"{value:.{digits}f}"
            else:
                shown = html.escape(str(value))
            css = (
                " class='t'"
                if column in text_columns or not isinstance(value, (int, float))
                else ""
            )
            cells.append(f"<td{css}>{shown}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _img(uri: str, alt: str) -> str:
    return f"<p><img src='{uri}' alt='{html.escape(alt)}'></p>"


def _series(frame: pd.DataFrame, value: str, low: str, high: str) -> pd.DataFrame:
    return frame.rename(columns={value: "value", low: "low", high: "high"})[
        ["period", "value", "low", "high", "low_documents"]
    ]


def write_report(folder: Path, data: ReportInputs) -> Path:
    """Write ``report.html`` and its figures into ``folder``; return the HTML path."""
    figs = folder / "figures"
    m = data.manifest
    parts = [
        f"<h1>Discourse-shift report</h1><p class='note'>run {html.escape(str(m.get('run_id')))}"
        f" · codebook {html.escape(str(m.get('codebook_version')))} · dshift "
        f"{html.escape(str(m.get('pipeline_version')))} · {html.escape(str(m.get('created')))}"
        f"</p>"
    ]
    gated = data.manifest.get("below_gate") or []
    if gated:
        parts.append(
            "<p><b>Reliability gate:</b> the machine's agreement with the coders is "
            "below the threshold for "
            + html.escape(", ".join(gated))
            + "; read those series with care.</p>"
        )
    parts.append("<h2>Corpus coverage</h2>")
    parts.append(
        _img(
            figures.save(figures.coverage_chart(data.coverage), figs, "coverage"),
            "documents per period and source type",
        )
    )
    # Source types as rows and periods as columns: one short table however many years.
    pivot = data.coverage.pivot_table(
        index="source_type", columns="period", values="documents", aggfunc="sum", fill_value=0
    )
    pivot.columns = [str(c) for c in pivot.columns]
    parts.append(
        "<div style='overflow-x:auto'>" + _table(pivot.reset_index(), ("source_type",)) + "</div>"
    )
    parts.append(
        "<h2>Indices</h2><p class='note'>Lines are document-weighted shares (each "
        "document counts once) or the composite named; bands are 95% bootstrap "
        "intervals over documents; hollow points rest on too few documents; dashed "
        "lines mark change points.</p>"
    )
    marks: dict[str, list[str]] = {}
    for row in data.change_points.itertuples():
        marks.setdefault(row.series, []).append(row.period)
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
        _img(
            figures.save(
                figures.series_chart(
                    lines,
                    "Share of segments coded, by track",
                    "document-weighted share",
                    code_marks,
                ),
                figs,
                "tracks",
            ),
            "yearly shares of the three tracks",
        )
    )
    for name, (title, ylabel) in COMPOSITE_TITLES.items():
        frame = data.composites[data.composites["index"] == name]
        if frame.empty:
            continue
        chart = figures.series_chart({name: frame}, title, ylabel, {name: marks.get(name, [])})
        parts.append(_img(figures.save(chart, figs, name), title))
    parts.append("<h2>By source type and by partner</h2>")
    for code in TOP_CODES:
        by_source = data.tidy[
            (data.tidy["breakdown"] == "source_type") & (data.tidy["code"] == code)
        ]
        if not by_source.empty:
            series = {
                g: _series(f, "doc_share", "doc_share_low", "doc_share_high")
                for g, f in by_source.groupby("group")
            }
            chart = figures.series_chart(
                series, f"{code}: by source type", "document-weighted share"
            )
            parts.append(
                _img(figures.save(chart, figs, f"{code}_by_source"), chart.axes[0].get_title())
            )
        by_partner = data.tidy[(data.tidy["breakdown"] == "partner") & (data.tidy["code"] == code)]
        if not by_partner.empty:
            grid = by_partner.pivot_table(
                index="group", columns="period", values="share", aggfunc="first"
            )
            chart = figures.heatmap(
                grid, f"{code}: share of segments coded, among segments that mention each partner"
            )
            parts.append(_img(figures.save(chart, figs, f"{code}_by_partner"), code))
    parts.append(
        "<h2>Shifts and change points</h2><p class='note'>A shift: two consecutive "
        "periods whose intervals do not overlap. Change points: where a series enters "
        "a new regime (ruptures, PELT).</p>"
    )
    parts.append(
        "<div class='wide'>"
        + _table(data.shifts, ("series", "period", "previous_period", "direction"))
        + "</div>"
    )
    parts.append("<div class='wide'>" + _table(data.change_points, ("series", "period")) + "</div>")
    if data.evidence:
        parts.append("<h3>What moved: top contributing segments of each shift</h3>")
        for key, segments in data.evidence.items():
            parts.append(f"<p><b>{html.escape(key)}</b></p>")
            for segment_id, name, year, text in segments:
                parts.append(
                    f"<div class='seg'>{html.escape(text)}<br><span class='note'>"
                    f"{html.escape(name)}, {html.escape(year)} · {segment_id}</span></div>"
                )
    if data.topics is not None and not data.topics.empty:
        parts.append(
            "<h2>Topics (what else the corpus talks about)</h2><p class='note'>LDA "
            "topics from 'dshift topics': the share of each period's documents given "
            "to each topic.</p>"
        )
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
    if data.correlations is not None and not data.correlations.empty:
        parts.append("<h2>Outside evidence</h2>")
        if data.correlations_caution:
            parts.append("<p class='note'>" + html.escape(data.correlations_caution) + "</p>")
        parts.append(
            "<div class='wide'>" + _table(data.correlations, ("index", "covariate")) + "</div>"
        )
    parts.append("<h2>Problems</h2>")
    parts.append(_table(data.problems, tuple(data.problems.columns)))
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
