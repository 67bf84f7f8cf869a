"""Checking a review sheet made before sheets were signed (kept so old sheets still import).

Such a sheet has a ``codes`` column of dotted code ids and the decisions accept, reject and
relabel; every decision on it judged every code.
"""

from __future__ import annotations

from pipeline.codebook.model import Codebook
from pipeline.review.sheet_check import columns_missing, refuse_cut_cells
from pipeline.review.sheet_model import (
    HIDDEN_HASH,
    REVIEW,
    About,
    ParsedSheet,
    RawSheet,
    SheetDecision,
    SheetProblem,
    column_letter,
    text_hash,
)

LEGACY_COLUMNS = ("segment_id", "segment", "decision", "codes", "note", HIDDEN_HASH)


def check_legacy_sheet(
    raw: RawSheet,
    about: About,
    shown: dict[str, list[str]],
    segments: dict[str, str],
    codebook: Codebook,
) -> ParsedSheet:
    """Check a sheet made before sheets were signed (decision accept/reject/relabel and dotted
    code ids in 'codes'); every decision on it judged every code.

    Args:
        raw: the sheet as read by :func:`.sheet_read.open_sheet`.
        about: the store's record of its export (coder, blind) with the sheet's codebook
            version, checked by the caller to be one the machine coded under.
        shown: segment id -> the machine codes the sheet showed (from the machine's tags under
            the sheet's codebook version; empty when blind), for the export's segments.
        segments: segment id -> hash of its current text.
        codebook: the current codebook, to check relabelled codes.
    """
    parsed = ParsedSheet(None, problems=list(raw.problems))
    if any(p.sheet != REVIEW for p in parsed.problems):
        return parsed
    if columns_missing(raw, LEGACY_COLUMNS, parsed):
        return parsed
    parsed.about = about
    where = {name: raw.header.index(name) for name in LEGACY_COLUMNS}
    letters = {name: column_letter(i) for name, i in where.items()}
    seen: dict[str, int] = {}
    formula_rows = {p.row for p in raw.problems}
    for number, values in raw.rows:
        cells = {n: values[i] if i < len(values) else "" for n, i in where.items()}

        def problem(column: str, what: str, fix: str, number: int = number) -> None:
            parsed.problems.append(SheetProblem(REVIEW, number, letters[column], what, fix))

        before = len(parsed.problems)
        segment_id = cells["segment_id"].strip()
        word = cells["decision"].strip().lower()
        if segment_id not in shown:
            problem("segment_id", f"segment '{segment_id}' was not on this sheet", "undo the edit")
        elif segment_id in seen:
            problem("segment_id", f"segment {segment_id} is also on row {seen[segment_id]}", "")
        else:
            seen[segment_id] = number
            # These sheets wrote text that looked like a formula with a ' in front.
            text = cells["segment"]
            sha = cells[HIDDEN_HASH].strip()
            if sha not in (text_hash(text), text_hash(text[1:]) if text[:1] == "'" else ""):
                problem("segment", "the segment's text was edited", "undo the edit")
            elif segments.get(segment_id) != sha:
                problem("segment_id", f"segment {segment_id} is no longer in the corpus", "")
        codes = [c.strip() for c in cells["codes"].replace(",", ";").split(";") if c.strip()]
        action = {"accept": "accept", "reject": "reject", "relabel": "relabel"}.get(word)
        if word and action is None:
            problem("decision", f"'{cells['decision'].strip()}' is not a decision", "")
        elif action == "accept" and about.blind:
            problem("decision", "'accept' is not available on a blind sheet", "")
        elif action == "relabel" and not codes:
            problem("codes", "relabel needs the codes the segment should have", "")
        elif action != "relabel" and codes:
            problem("codes", "codes are only read when relabelling", "clear them")
        for code in codes if action == "relabel" else []:
            if code not in codebook.codes:
                problem("codes", f"unknown code '{code}'", "use ids from the codebook sheet")
        if len(parsed.problems) > before or number in formula_rows:
            parsed.rejected_rows.append(number)
            continue
        if action is None:
            continue
        machine = shown[segment_id]
        final = machine if action == "accept" else ([] if action == "reject" else codes)
        note = cells["note"] if cells["note"].strip() else ""
        parsed.decisions.append(
            SheetDecision(number, segment_id, action, sorted(final), note, machine, [])
        )
    refuse_cut_cells(raw, parsed)
    return parsed
