"""The report's page: bands and document counts behind every line, gaps where a period has no
documents, the segments behind each shift, and tables that fit the page."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from pipeline.indices.stage import gate_note
from pipeline.report.evidence import chart_periods
from pipeline.report.html import ReportInputs, write_report
from pipeline.report.sections import ShiftEvidence, shift_key


def _tidy() -> pd.DataFrame:
    rows = []
    for period, docs, value in (("2001", 3, 0.2), ("2002", 4, 0.5), ("2004", 1, 0.1)):
        for code in ("alignment", "securitization", "hedging"):
            for breakdown, group in (("overall", "all"), ("source_type", "mofa")):
                rows.append(
                    {
                        "period": period,
                        "code": code,
                        "breakdown": breakdown,
                        "group": group,
                        "documents": docs,
                        "doc_share": value,
                        "doc_share_low": value - 0.05,
                        "doc_share_high": value + 0.07,
                        "share": value,
                        "low_documents": docs < 3,
                    }
                )
    return pd.DataFrame(rows)


def _inputs(evidence: dict[str, ShiftEvidence]) -> ReportInputs:
    coverage = pd.DataFrame(
        {
            "period": ["2001", "2002", "2004", "undated"],
            "source_type": ["mofa"] * 4,
            "documents": [3, 4, 1, 2],
            "segments": [30, 40, 10, 5],
            "words": [300, 400, 100, 50],
        }
    )
    composites = pd.DataFrame(
        {
            "period": ["2001", "2002", "2004"],
            "index": ["hedging_balance"] * 3,
            "value": [0.1, -0.3, 0.4],
            "low": [0.0, -0.5, 0.4],
            "high": [0.2, -0.1, 0.4],
            "documents": [3, 4, 1],
            "low_documents": [False, False, True],
        }
    )
    shifts = pd.DataFrame(
        {
            "series": ["alignment / overall / all"],
            "period": ["2002"],
            "previous_period": ["2001"],
            "value": [0.5],
            "previous_value": [0.2],
            "change": [0.3],
            "direction": ["up"],
        }
    )
    return ReportInputs(
        manifest={"run_id": "r1", "codebook_version": "cb-1", "pipeline_version": "0"},
        coverage=coverage,
        tidy=_tidy(),
        composites=composites,
        shifts=shifts,
        change_points=pd.DataFrame(columns=["series", "period"]),
        problems=pd.DataFrame(columns=["severity", "file"]),
        periods=chart_periods(coverage, "year"),
        evidence=evidence,
    )


def test_every_line_has_its_band_counts_and_gaps(tmp_path: Path) -> None:
    page = write_report(tmp_path, _inputs({})).read_text("utf-8")
    # Every chart folds its numbers: value, interval and documents per period.
    tables = page.count("Values, 95% intervals and documents behind each point")
    assert tables >= 3, "tracks, the composite and the source-type breakdowns"
    assert "0.500 <span class=iv>0.450–0.570</span> <span class=n>4 doc</span>" in page
    # 2003 has no documents: a gap, not a line joining 2002 to 2004.
    assert chart_periods(_inputs({}).coverage, "year") == ["2001", "2002", "2003", "2004"]
    row_2003 = re.search(r"<tr><td class=t>2003</td>(.*?)</tr>", page)
    assert row_2003 and "no documents" in row_2003.group(1)
    assert "thin" in page, "the point on one document is marked"


def test_each_shift_shows_the_segments_behind_it(tmp_path: Path) -> None:
    evidence = {
        shift_key("alignment / overall / all", "2002"): ShiftEvidence(
            "alignment: 0.200 in 2001 → 0.500 in 2002 (up)",
            "The alignment segments of 2002 that weigh most in its share.",
            [("s1", "briefing.pdf", "2002-05-01", "Talks on <aid> & basing " + "word " * 200)],
        )
    }
    page = write_report(tmp_path, _inputs(evidence)).read_text("utf-8")
    assert "What moved: the segments behind each shift" in page
    assert "alignment: 0.200 in 2001 → 0.500 in 2002 (up)" in page
    assert "Talks on &lt;aid&gt; &amp; basing" in page and "<aid>" not in page
    assert "briefing.pdf, 2002-05-01 · segment s1" in page
    shown = re.search(r"<div class='seg'>(.*?)<br>", page)
    assert shown and len(shown.group(1)) < 500 and shown.group(1).endswith("…"), "cut at a word"
    # The compact shift table: from, to and change, not every column of the export.
    assert "<th>from</th><th>to</th><th>change</th>" in page
    assert "0.200 in 2001" in page and "+0.300" in page


def test_the_gate_note_counts_codes_by_track() -> None:
    codes = ["alignment", "alignment.aid", "alignment.basing", "hedging", "hedging.china"]
    note = gate_note({"alignment.aid", "alignment.basing", "hedging"}, codes, {"threshold": 0.667})
    assert "for 3 code(s): alignment 2 of 3 codes; hedging 1 of 2 codes (the track itself too)" in (
        note
    )
    assert "alpha below 0.667" in note and "dshift agreement" in note
    assert "alignment.aid" not in note, "a count per track, not a list of every code"
