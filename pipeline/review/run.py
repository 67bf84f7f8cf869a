"""Review stage I/O: write sheets for coders, read them back into decisions.

Each command has its module: :mod:`.sheet_rows` (what a sheet shows), :mod:`.sheet_export`
(``review export``), :mod:`.adjudication` (``review adjudicate``), :mod:`.sheet_import` with
:mod:`.import_record` and :mod:`.legacy_import` (``review import``). Import from here.
"""

from __future__ import annotations

from pipeline.review.adjudication import adjudication_sheet
from pipeline.review.import_record import ImportResult
from pipeline.review.sheet_export import export_sheets
from pipeline.review.sheet_import import import_sheet
from pipeline.review.sheet_rows import CONTEXT, candidates, sheet_rows

__all__ = [
    "CONTEXT",
    "ImportResult",
    "adjudication_sheet",
    "candidates",
    "export_sheets",
    "import_sheet",
    "sheet_rows",
]
