"""Checking a signed review sheet against the store's record of its export.

The store's record is the truth: a sheet whose ``about`` sheet, hidden hash column or signature
disagrees with it is refused; each filled-in row becomes a :class:`SheetDecision` or a
:class:`SheetProblem` saying where, what and how to fix it.
"""

from __future__ import annotations

import difflib
import hmac
from collections.abc import Sequence

from pipeline.review.sheet_model import (
    ABOUT_FIELDS,
    ACTION_OF,
    AS_MARKED,
    HIDDEN_HASH,
    NO,
    NO_CODE,
    NOTE_LIMIT,
    REVIEW,
    About,
    ParsedSheet,
    RawSheet,
    SheetDecision,
    SheetProblem,
    Track,
    about_values,
    column_letter,
    decision_options,
    text_hash,
)
from pipeline.review.sheet_signing import sign


def check_sheet(
    raw: RawSheet,
    about: About | None,
    key: bytes,
    shown: dict[str, tuple[str, list[str]]],
    segments: dict[str, str],
    workspace_id: str,
) -> ParsedSheet:
    """Check a sheet against the store's record of its export; return its decisions.

    Args:
        raw: the sheet as read by :func:`.sheet_read.open_sheet`.
        about: the store's record of the export named by the sheet (None: not found).
        key: this workspace's signing key.
        shown: segment id -> (text hash, machine codes shown), as the store recorded the export.
        segments: segment id -> hash of its current text, for the segments of this workspace.
        workspace_id: this workspace's id.
    """
    parsed = ParsedSheet(None, problems=list(raw.problems))
    if not raw.about and not raw.header:
        return parsed
    row, workspace = raw.about.get("workspace_id", (1, ""))
    if workspace != workspace_id:
        parsed.problems.append(
            SheetProblem(
                "about",
                row,
                "B",
                f"the sheet comes from another workspace ({workspace or 'none named'})",
                "import it into the workspace it was exported from",
            )
        )
        return parsed
    if about is None:
        place = raw.about.get("export_id", (4, ""))[0]
        parsed.problems.append(
            SheetProblem(
                "about",
                place,
                "B",
                f"no export '{raw.export_id}' was made from this workspace",
                "import the sheet into the workspace it was exported from, or export a new one",
            )
        )
        return parsed
    _check_identity(raw, about, key, shown, parsed)
    if parsed.problems and any(p.sheet in ("about", "(file)") for p in parsed.problems):
        return parsed
    parsed.about = about
    needed = ["segment_id", "segment", "decision", *(t.id for t in about.tracks), "note"]
    needed.append(HIDDEN_HASH)
    if columns_missing(raw, needed, parsed):
        return parsed
    where = {name: raw.header.index(name) for name in needed}
    letters = {name: column_letter(i) for name, i in where.items()}
    seen: dict[str, int] = {}
    for number, values in raw.rows:
        cells = {n: values[i] if i < len(values) else "" for n, i in where.items()}
        before = len(parsed.problems)
        decision = _check_row(number, cells, letters, about, shown, segments, seen, parsed)
        if len(parsed.problems) > before:
            parsed.rejected_rows.append(number)
        elif decision is not None:
            parsed.decisions.append(decision)
    refuse_cut_cells(raw, parsed)
    return parsed


def refuse_cut_cells(raw: RawSheet, parsed: ParsedSheet) -> None:
    """Refuse rows with a formula, or with text longer than a cell holds (never store part)."""
    for (row, column), length in sorted(raw.lengths.items()):
        name = raw.header[column] if column < len(raw.header) else column_letter(column)
        parsed.problems.append(
            SheetProblem(
                REVIEW,
                row,
                column_letter(column),
                f"the {name} is {length:,} characters long, more than a cell holds "
                f"({NOTE_LIMIT:,}); it would be cut",
                "shorten it (put long remarks in a file and name it in the note)",
            )
        )
    bad = {p.row for p in raw.problems if p.sheet == REVIEW} | {r for r, _ in raw.lengths}
    parsed.decisions = [d for d in parsed.decisions if d.row not in bad]
    parsed.rejected_rows = sorted(set(parsed.rejected_rows) | bad)


def _check_identity(
    raw: RawSheet,
    about: About,
    key: bytes,
    shown: dict[str, tuple[str, list[str]]],
    parsed: ParsedSheet,
) -> None:
    expected = about_values(about)
    for name in ABOUT_FIELDS:
        if name == "signature":
            continue
        row, value = raw.about.get(name, (0, ""))
        if value != expected[name]:
            parsed.problems.append(
                SheetProblem(
                    "about",
                    row or ABOUT_FIELDS.index(name) + 1,
                    "B",
                    f"{name} reads '{value}', but export {about.export_id} was made with "
                    f"'{expected[name]}'",
                    "undo the edit to the hidden 'about' sheet (or export a new sheet)",
                )
            )
    row, signature = raw.about.get("signature", (ABOUT_FIELDS.index("signature") + 1, ""))
    good = sign(key, about, [(s, h, c) for s, (h, c) in shown.items()])
    if not hmac.compare_digest(signature, good):
        parsed.problems.append(
            SheetProblem(
                "about",
                row,
                "B",
                "the sheet's signature does not match its export: the sheet was altered or "
                "comes from elsewhere",
                "import the sheet as it was exported (or export a new one for this coder)",
            )
        )


def parse_track(track: Track, text: str) -> tuple[set[str] | None, str | None]:
    """The codes a track cell gives (None: blank, not judged) or what is wrong with it."""
    words = [w.strip().lower() for w in text.replace(",", ";").split(";") if w.strip()]
    if not words:
        return None, None
    names = {track.name_of(c).lower(): c for c in track.codes}
    if words == [NO]:
        return set(), None
    codes = set()
    for word in words:
        if word == NO:
            return None, "'no' cannot go with codes of the same track"
        if word not in names:
            close = difflib.get_close_matches(word, [*names, NO], n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            return None, f"'{word}' is not a code of {track.id}{hint}"
        codes.add(names[word])
    return codes, None


def _check_row(
    number: int,
    cells: dict[str, str],
    letters: dict[str, str],
    about: About,
    shown: dict[str, tuple[str, list[str]]],
    segments: dict[str, str],
    seen: dict[str, int],
    parsed: ParsedSheet,
) -> SheetDecision | None:
    def problem(column: str, what: str, fix: str) -> None:
        parsed.problems.append(SheetProblem(REVIEW, number, letters[column], what, fix))

    segment_id = cells["segment_id"].strip()
    if segment_id not in shown:
        problem(
            "segment_id",
            f"segment '{segment_id}' was not on this sheet when it was exported",
            "do not edit ids or paste rows from other sheets; undo the change",
        )
        return None
    if segment_id in seen:
        problem(
            "segment_id",
            f"segment {segment_id} is also on row {seen[segment_id]}",
            "keep one row per segment",
        )
        return None
    seen[segment_id] = number
    sha, machine = shown[segment_id]
    if cells[HIDDEN_HASH].strip() != sha:
        problem(
            HIDDEN_HASH,
            "the hidden text hash was edited",
            "undo the edit (or copy the row from the sheet as exported)",
        )
    if text_hash(cells["segment"]) != sha:
        problem(
            "segment",
            "the segment's text was edited (it no longer matches its hash)",
            "undo the edit: segments are fixed; write remarks in 'note'",
        )
    elif segments.get(segment_id) != sha:
        problem(
            "segment_id",
            f"segment {segment_id} is no longer in the corpus (its document was replaced)",
            "leave this row blank; the segment will be offered again on a new sheet",
        )
    note = cells["note"] if cells["note"].strip() else ""
    prefill = about.kind == "review" and not about.blind
    marked: dict[str, set[str] | None] = {}
    changed = False
    for track in about.tracks:
        given, wrong = parse_track(track, cells[track.id])
        if wrong:
            problem(track.id, wrong, f"pick from the drop-down of '{track.id}'")
        marked[track.id] = given
        start = track.cell_text(machine) if prefill else ""
        if cells[track.id].strip().lower() != start.lower():
            changed = True
    word = cells["decision"].strip().lower()
    if not word:
        if changed or note:
            problem(
                "decision",
                "codes or a note are filled in but the decision is blank",
                f"choose a decision ({', '.join(decision_options(about))}), or clear the row",
            )
        return None
    if word not in ACTION_OF:
        problem(
            "decision",
            f"'{cells['decision'].strip()}' is not a decision",
            f"choose one of {', '.join(decision_options(about))}",
        )
        return None
    action = ACTION_OF[word]
    if action == "accept" and about.blind:
        problem(
            "decision",
            "'accept' is not available on a blind sheet (the machine's codes were hidden)",
            f"mark the codes you see and choose '{AS_MARKED}', or choose '{NO_CODE}'",
        )
        return None
    if action == "accept" and changed:  # on any sheet: marked codes never vanish silently
        problem(
            "decision",
            "'accept' keeps the machine's codes, but the track columns were changed",
            f"choose '{AS_MARKED}' to record your codes, or undo the changes",
        )
        return None
    all_codes = [c for t in about.tracks for c in t.codes]
    if action == "relabel":
        judged = [t for t in about.tracks if marked[t.id] is not None]
        if not judged and not any(cells[t.id].strip() for t in about.tracks):
            problem(
                "decision",
                f"'{AS_MARKED}' but no track is marked",
                f"write 'no' or codes in the track columns, or choose '{NO_CODE}'",
            )
            return None
        scope = [c for t in judged for c in t.codes]
        codes = sorted(set().union(*(marked[t.id] or set() for t in judged)))
    elif action == "accept":
        scope, codes = all_codes, sorted(c for c in machine if c in set(all_codes))
    else:
        scope, codes = all_codes, []
    return SheetDecision(number, segment_id, action, codes, note, list(machine), scope)


def columns_missing(raw: RawSheet, needed: Sequence[str], parsed: ParsedSheet) -> bool:
    """Report the columns of ``needed`` the review sheet lacks; return whether any."""
    missing = [c for c in needed if c not in raw.header]
    if missing:
        parsed.problems.append(
            SheetProblem(
                REVIEW,
                1,
                "",
                f"columns missing: {', '.join(missing)}",
                "do not delete or rename columns; export a new sheet if needed",
            )
        )
    return bool(missing)
