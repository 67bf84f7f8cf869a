"""What the report says behind its numbers: the segments behind each shift, and the periods the
charts span."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipeline.codebook.model import Codebook
from pipeline.indices.explain import top_segments
from pipeline.report.sections import ShiftEvidence, shift_key, shift_name
from pipeline.store import Store

SHOWN_SHIFTS = 12
SEGMENTS_PER_SHIFT = 3

# A composite moves with one code when it goes up and another (or the same one, a period
# earlier) when it goes down: (code shown for a rise, code shown for a fall, fall in the new
# period?). The hedging balance falls when alignment gains, so its fall shows alignment's
# segments of the new period; an intensity falls when its code's segments go, so its fall
# shows what the previous period had.
_COMPOSITES = {
    "hedging_balance": ("hedging", "alignment", True),
    "securitization_intensity": ("securitization", "securitization", False),
    "shift_alignment": ("alignment", "alignment", False),
    "shift_securitization": ("securitization", "securitization", False),
    "shift_hedging": ("hedging", "hedging", False),
}


def chart_periods(coverage: pd.DataFrame, period: str) -> list[str]:
    """Every period the charts span: each year from the first to the last (so that a year
    with no documents shows as a gap), or each quarter or month that has documents."""
    labels = [str(p) for p in coverage["period"].unique() if str(p)[:4].isdigit()]
    if not labels:
        return []
    if period == "year":
        years = [int(p) for p in labels]
        return [str(y) for y in range(min(years), max(years) + 1)]
    return sorted(set(labels))


def shift_evidence(
    store: Store, codebook: Codebook, shifts: pd.DataFrame, frame: pd.DataFrame, labels: pd.Series
) -> dict[str, ShiftEvidence]:
    """For each shown shift, the coded segments that weigh most in the move.

    A rise shows the code's segments of the new period; a fall, those of the period before,
    which the new one lacks (a share that drops to zero has nothing of its own to show).
    """
    found: dict[str, ShiftEvidence] = {}
    for row in shifts.head(SHOWN_SHIFTS).itertuples():
        up = row.direction == "up"
        code, period, where = _what_to_show(row, up)
        if code is None or code not in codebook.codes:
            continue
        picks = top_segments(frame, labels, period, code, SEGMENTS_PER_SHIFT)
        texts = store.segment_text_map([p.segment_id for p in picks])
        name = shift_name(row.series)
        label = (
            f"{name}: {row.previous_value:.3f} in {row.previous_period} → "
            f"{row.value:.3f} in {row.period} ({'up' if up else 'down'})"
        )
        found[shift_key(str(row.series), str(row.period))] = ShiftEvidence(
            label,
            where,
            [
                (
                    p.segment_id,
                    texts[p.segment_id][1],
                    texts[p.segment_id][2],
                    texts[p.segment_id][0],
                )
                for p in picks
                if p.segment_id in texts
            ],
        )
    return found


def _what_to_show(row: Any, up: bool) -> tuple[str | None, str, str]:
    period, previous = str(row.period), str(row.previous_period)
    index = getattr(row, "index", None)
    if isinstance(index, str) and index:
        if index not in _COMPOSITES:
            return None, period, ""
        rise, fall, fall_now = _COMPOSITES[index]
        code: str | None = rise if up else fall
        shown = period if up or fall_now else previous
    else:
        breakdown = getattr(row, "breakdown", None)
        code = getattr(row, "code", None)
        if breakdown != "overall" or not isinstance(code, str):
            return None, period, ""
        shown = period if up else previous
    if shown == period:
        where = f"The {code} segments of {period} that weigh most in its share."
    else:
        where = (
            f"The {code} segments of {previous} that weighed most in its share: "
            f"{period} lacks them."
        )
    return code, shown, where
