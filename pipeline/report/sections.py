"""Sections of the report that are tables and text: the shifts with the segments behind them,
and the correlations with outside series."""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd

from pipeline.report.tables import plain_table

SEGMENT_CHARACTERS = 420  # a shown segment is cut here, at a word, with its id to look it up


@dataclass
class ShiftEvidence:
    """The segments behind one shift, and which period they come from and why."""

    label: str  # e.g. "hedging (all documents): 0.009 in 2014 → 0.226 in 2015"
    where: str  # e.g. "hedging segments of 2015 that weigh most in its share"
    segments: list[tuple[str, str, str, str]]  # segment id, document name, year, text


def shift_name(series: object) -> str:
    """A shift's series as a reader says it: ``hedging``, not ``hedging / overall / all``."""
    return str(series).replace(" / overall / all", "")


def shift_key(series: str, period: str) -> str:
    """The key of a shift in :attr:`ReportInputs.evidence`."""
    return f"{series}|{period}"


def shifts_section(
    shifts: pd.DataFrame, change_points: pd.DataFrame, evidence: dict[str, ShiftEvidence]
) -> list[str]:
    """A compact table of the shifts, the change points, and each shift's segments."""
    parts = [
        "<h2>Shifts and change points</h2><p class='note'>A shift: two consecutive periods "
        "whose intervals do not overlap (periods resting on too few documents are passed "
        "over). Change points: where a series enters a new regime (ruptures, PELT).</p>"
    ]
    if shifts.empty:
        parts.append("<p class='note'>No shifts: every period's interval overlaps the last.</p>")
    else:
        table = pd.DataFrame(
            {
                "series": [shift_name(s) for s in shifts["series"]],
                "from": [
                    f"{v:.3f} in {p}"
                    for v, p in zip(shifts["previous_value"], shifts["previous_period"])
                ],
                "to": [f"{v:.3f} in {p}" for v, p in zip(shifts["value"], shifts["period"])],
                "change": [f"{'+' if c > 0 else '−'}{abs(c):.3f}" for c in shifts["change"]],
            }
        )
        parts.append(plain_table(table, ("series", "from", "to", "change")))
    if change_points.empty:
        parts.append("<p class='note'>No change points found.</p>")
    else:
        parts.append("<h3>Change points</h3>" + plain_table(change_points, ("series", "period")))
    if evidence:
        parts.append("<h3>What moved: the segments behind each shift</h3>")
        for item in evidence.values():
            parts.append(f"<p class='shift'>{html.escape(item.label)}</p>")
            parts.append(f"<p class='note'>{html.escape(item.where)}</p>")
            if not item.segments:
                parts.append("<p class='note'>(no coded segment in that period)</p>")
            for segment_id, name, year, text in item.segments:
                parts.append(
                    f"<div class='seg'>{html.escape(_cut(text))}<br><span class='note'>"
                    f"{html.escape(name)}, {html.escape(year)} · segment "
                    f"{html.escape(segment_id)} (dshift show {html.escape(segment_id)})"
                    "</span></div>"
                )
    return parts


def correlations_section(
    correlations: pd.DataFrame, figure: str, caution: str, notes: list[str]
) -> list[str]:
    """The correlation plot, what of the file was left out, and the full table folded."""
    parts = ["<h2>Outside evidence</h2>"]
    if caution:
        parts.append("<p class='note'>" + html.escape(caution) + "</p>")
    for note in notes:
        parts.append("<p class='note'>" + html.escape(note[:1].upper() + note[1:]) + ".</p>")
    parts.append(figure)
    table = pd.DataFrame(
        {
            "index": correlations["index"],
            "covariate": correlations["covariate"],
            "lag": correlations["lag"],
            "years": [
                "" if pd.isna(a) else f"{int(a)}–{int(b)} ({n})"
                for a, b, n in zip(
                    correlations["first_year"], correlations["last_year"], correlations["n_years"]
                )
            ],
            "pearson": _with_interval(correlations, "pearson"),
            "spearman": _with_interval(correlations, "spearman"),
        }
    )
    parts.append(
        f"<details><summary>All {len(table)} correlations (table)</summary>"
        + plain_table(table, ("index", "covariate", "years", "pearson", "spearman"))
        + "</details>"
    )
    return parts


def _with_interval(table: pd.DataFrame, name: str) -> list[str]:
    return [
        "too few years" if pd.isna(v) else f"{v:.2f} ({lo:.2f} to {hi:.2f})"
        for v, lo, hi in zip(table[name], table[f"{name}_low"], table[f"{name}_high"])
    ]


def _cut(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= SEGMENT_CHARACTERS:
        return text
    return text[:SEGMENT_CHARACTERS].rsplit(" ", 1)[0] + " …"
