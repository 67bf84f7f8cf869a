"""Writing a review sheet: the Excel workbook a coder fills in (pure: rows in, bytes out).

Besides the ``review`` sheet (one row per segment, drop-downs for the decision and each track),
the workbook holds a ``how to fill in`` sheet, the ``codebook`` sheet, and hidden ``lists`` and
``about`` sheets. Cells are written as typed strings, with Excel's quote prefix where the text
would look like a formula.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from pipeline.codebook.model import Codebook
from pipeline.core.cells import TRIGGERS
from pipeline.review.sheet_model import (
    HIDDEN_HASH,
    MACHINE,
    REVIEW,
    About,
    SheetRow,
    about_values,
    column_letter,
    columns_of,
    decision_options,
    describe,
    text_hash,
)

WIDTHS = {
    "segment_id": 15,
    "document": 22,
    "date": 11,
    "before": 26,
    "segment": 56,
    "after": 26,
    MACHINE: 22,
    "evidence": 26,
    "decision": 15,
    "note": 28,
}
WRAPPED = {"document", "before", "segment", "after", MACHINE, "evidence", "note"}
LINE_HEIGHT = 13.0  # points per wrapped line at the default font size
MAX_ROW_HEIGHT = 400.0


def _put(cell: Cell, value: str) -> None:
    """Write text as a string cell that spreadsheets never read as a formula."""
    cell.value = value
    cell.data_type = "s"
    if value.lstrip(" ").startswith((*TRIGGERS, "'")):
        cell.quotePrefix = True


def _height(values: dict[str, str], widths: Mapping[str, float], wrapped: set[str]) -> float:
    """A row height that shows every wrapped cell in full (estimated from its text)."""
    lines = 1
    for name, text in values.items():
        if name not in wrapped or not text:
            continue
        per_line = max(1, int(widths.get(name, 12) * 1.15))
        count = sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))
        lines = max(lines, count)
    return min(MAX_ROW_HEIGHT, LINE_HEIGHT * lines + 4)


def build_sheet(rows: list[SheetRow], about: About, codebook: Codebook) -> bytes:
    """Return the workbook for one coder (pure)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = REVIEW
    columns = columns_of(about)
    widths = {**WIDTHS, **{t.id: 18 for t in about.tracks}}
    widths.update({f"coded by {c}": 22 for c in about.coders})
    for index, name in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index)
        _put(cell, name)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDDDDD")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    inputs = {"decision", "note", *(t.id for t in about.tracks)}
    prefill = about.kind == "review" and not about.blind
    wrapped = WRAPPED | inputs | {f"coded by {c}" for c in about.coders}
    for number, row in enumerate(rows, start=2):
        values = {
            "segment_id": row.segment_id,
            "document": f"{row.document} ({row.source_type})" if row.source_type else row.document,
            "date": row.date,
            "before": row.before,
            "segment": row.text,
            "after": row.after,
            MACHINE: describe(row.machine_codes, about.tracks, None),
            "evidence": row.evidence,
            "decision": "",
            "note": "",
            HIDDEN_HASH: text_hash(row.text),
            **{f"coded by {c}": text for c, text in row.coded_by},
            **{t.id: t.cell_text(row.machine_codes) if prefill else "" for t in about.tracks},
        }
        for index, name in enumerate(columns, start=1):
            cell = sheet.cell(row=number, column=index)
            if values.get(name):
                _put(cell, values[name])
            cell.alignment = Alignment(wrap_text=name in wrapped, vertical="top")
            if name in inputs:
                cell.fill = PatternFill("solid", fgColor="FFF8DC")
        sheet.row_dimensions[number].height = _height(values, widths, wrapped)
    sheet.row_dimensions[1].height = 2 * LINE_HEIGHT + 4
    sheet.freeze_panes = "B2"
    letters = {name: column_letter(i) for i, name in enumerate(columns)}
    for name, letter in letters.items():
        sheet.column_dimensions[letter].width = widths.get(name, 12)
    sheet.column_dimensions[letters[HIDDEN_HASH]].hidden = True
    last = max(len(rows) + 1, 2)
    _validations(book, sheet, about, letters, last)
    sheet.print_title_rows = "1:1"
    sheet.print_options.gridLines = True
    _print_wide(sheet)
    _how_to(book, about)
    _codebook_sheet(book, codebook)
    info = book.create_sheet("about")
    for number, (key, value) in enumerate(about_values(about).items(), start=1):
        _put(info.cell(row=number, column=1), key)
        if value:
            _put(info.cell(row=number, column=2), value)
    info.sheet_state = "hidden"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _validations(
    book: Workbook, sheet: Worksheet, about: About, letters: dict[str, str], last: int
) -> None:
    lists = book.create_sheet("lists")
    options = decision_options(about)
    for row, value in enumerate(options, start=1):
        _put(lists.cell(row=row, column=1), value)
    hint = (
        "accept: the machine's codes as shown. as marked: the codes in the track columns. "
        if not about.blind
        else "as marked: the codes in the track columns. "
    ) + "no code applies: none of the codebook's codes fits."
    rule = DataValidation(
        type="list",
        formula1=f"lists!$A$1:$A${len(options)}",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="decision",
        error="Choose " + ", ".join(options) + ".",
        showInputMessage=True,
        promptTitle="decision",
        prompt=hint[:255],
    )
    rule.add(f"{letters['decision']}2:{letters['decision']}{last}")
    sheet.add_data_validation(rule)
    for column, track in enumerate(about.tracks, start=2):
        for row, value in enumerate(track.options, start=1):
            _put(lists.cell(row=row, column=column), value)
        letter = column_letter(column - 1)
        # A warning, not a stop: two subcodes are written 'china; gulf'.
        rule = DataValidation(
            type="list",
            formula1=f"lists!${letter}$1:${letter}${len(track.options)}",
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",
            errorTitle=track.id,
            error=f"Pick from the list; for two subcodes write them with ';' (e.g. "
            f"{'; '.join(track.options[2:4]) or 'yes'}).",
            showInputMessage=True,
            promptTitle=track.id,
            prompt=(
                f"no: not {track.id}. yes: {track.id} without a subcode. Or a subcode; "
                "two with ';'. Blank: not judged."
            )[:255],
        )
        rule.add(f"{letters[track.id]}2:{letters[track.id]}{last}")
        sheet.add_data_validation(rule)
    lists.sheet_state = "hidden"


def _print_wide(sheet: Worksheet) -> None:
    """Print on landscape A4 pages, fitted to the page width."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4


def _how_to(book: Workbook, about: About) -> None:
    help_sheet = book.create_sheet("how to fill in")
    lines = [
        "How to fill in this sheet",
        "",
        "One row per segment. Read the segment (with its context before and after), then in the "
        "yellow cells:",
        "decision: "
        + (
            "'accept' keeps the machine's codes exactly as shown in 'machine codes'; "
            if not about.blind
            else ""
        )
        + "'as marked' records the codes in the track columns; 'no code applies' records that "
        "none of the codebook's codes fits the segment.",
        "track columns ("
        + ", ".join(t.id for t in about.tracks)
        + "): pick 'no', 'yes' (the track without a subcode) or a subcode. Two subcodes: write "
        "them separated by ';' (e.g. 'china; gulf'). A blank track cell means you did not judge "
        "that track: nothing is recorded for it.",
        (
            "The track columns start with the machine's codes: to keep one code, drop another "
            "and add a third, edit those cells and choose 'as marked'."
            if about.kind == "review" and not about.blind
            else "The track columns start blank: mark every track you judge."
        ),
        "note: anything you want to say about the segment (kept in full).",
        "Leave the decision blank on rows you did not review: they are not recorded.",
        "Do not edit the segment text, the segment ids or the hidden sheets: such a sheet is "
        "refused. Do not type formulas.",
        "See the 'codebook' sheet for every code's definition, rules and examples.",
        "When done: dshift review import FILE",
    ]
    for number, line in enumerate(lines, start=1):
        cell = help_sheet.cell(row=number, column=1)
        if line:
            _put(cell, line)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        help_sheet.row_dimensions[number].height = _height({"note": line}, {"note": 100}, {"note"})
    help_sheet["A1"].font = Font(bold=True, size=13)
    help_sheet.row_dimensions[1].height = 2 * LINE_HEIGHT
    help_sheet.column_dimensions["A"].width = 100
    _print_wide(help_sheet)


def _codebook_sheet(book: Workbook, codebook: Codebook) -> None:
    rules = book.create_sheet("codebook")
    header = [
        "code",
        "label",
        "parent",
        "definition",
        "include",
        "exclude",
        "positive examples",
        "negative examples",
    ]
    for index, name in enumerate(header, start=1):
        _put(rules.cell(row=1, column=index), name)
        rules.cell(row=1, column=index).font = Font(bold=True)
    for number, code in enumerate(codebook.codes.values(), start=2):
        values = (
            code.id,
            code.label,
            code.parent or "",
            code.definition,
            "\n".join(code.include),
            "\n".join(code.exclude),
            "\n".join(code.positive_examples),
            "\n".join(code.negative_examples),
        )
        for index, value in enumerate(values, start=1):
            cell = rules.cell(row=number, column=index)
            if value:
                _put(cell, value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCDEFGH", (26, 30, 16, 70, 40, 40, 50, 50)):
        rules.column_dimensions[letter].width = width
    rules.freeze_panes = "B2"
    _print_wide(rules)
