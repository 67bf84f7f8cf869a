"""Review sheets: an Excel workbook a coder fills in, and the checks before it comes back.

The ``review`` sheet has one row per segment. The coder picks a ``decision`` from a drop-down
(``accept`` the machine's codes as shown, ``as marked``, or ``no code applies``) and, for ``as
marked``, picks each track's codes from the drop-down of its column: ``no``, ``yes`` (the track
without a subcode) or a subcode's short name (two subcodes: ``china; gulf``). Nobody types a
dotted code id. On a sheet that shows the machine's codes, the track columns start with them, so
that keeping one code, dropping another and adding a third is editing those cells. A blank track
cell judges nothing: a decision speaks only for the codes of the tracks it marks.

A hidden ``about`` sheet names the workspace, coder, role and export, with an HMAC signature
(key kept in the store, never in the sheet) over those and every row's segment id, text hash
and shown machine codes. On import, the store's record of the export is the truth: a sheet
whose about sheet or hidden column disagrees with it, or whose signature fails, is refused.

Cells are written as typed strings (with Excel's quote prefix where the text would look like a
formula), so text beginning with ``'``, ``=``, ``+``, ``-`` or ``@`` comes back unchanged, and
a formula typed into any cell is reported rather than read.

The sheet is built, read and checked by the modules this one gathers: :mod:`.sheet_model`
(words, tracks, rows, identity), :mod:`.sheet_write`, :mod:`.sheet_read`, :mod:`.sheet_signing`,
:mod:`.sheet_check` and :mod:`.sheet_legacy` (sheets made before signing). Import from here.
"""

from __future__ import annotations

from pipeline.review.sheet_check import check_sheet, parse_track
from pipeline.review.sheet_legacy import LEGACY_COLUMNS, check_legacy_sheet
from pipeline.review.sheet_model import (
    ABOUT_FIELDS,
    ACCEPT,
    ACTION_OF,
    AS_MARKED,
    HIDDEN_HASH,
    MACHINE,
    NO,
    NO_CODE,
    NOTE_LIMIT,
    REVIEW,
    YES,
    About,
    ParsedSheet,
    RawSheet,
    SheetDecision,
    SheetProblem,
    SheetRow,
    Track,
    columns_of,
    decision_options,
    describe,
    text_hash,
    tracks_of,
)
from pipeline.review.sheet_read import MAX_ROWS, long_texts, open_sheet
from pipeline.review.sheet_signing import sign
from pipeline.review.sheet_write import LINE_HEIGHT, MAX_ROW_HEIGHT, WIDTHS, WRAPPED, build_sheet

__all__ = [
    "ABOUT_FIELDS",
    "ACCEPT",
    "ACTION_OF",
    "AS_MARKED",
    "HIDDEN_HASH",
    "LEGACY_COLUMNS",
    "LINE_HEIGHT",
    "MACHINE",
    "MAX_ROWS",
    "MAX_ROW_HEIGHT",
    "NO",
    "NOTE_LIMIT",
    "NO_CODE",
    "REVIEW",
    "WIDTHS",
    "WRAPPED",
    "YES",
    "About",
    "ParsedSheet",
    "RawSheet",
    "SheetDecision",
    "SheetProblem",
    "SheetRow",
    "Track",
    "build_sheet",
    "check_legacy_sheet",
    "check_sheet",
    "columns_of",
    "decision_options",
    "describe",
    "long_texts",
    "open_sheet",
    "parse_track",
    "sign",
    "text_hash",
    "tracks_of",
]
