"""The Excel export: one reproducible workbook of every table, with a README and the dictionary.

Sheet names are made valid and unique; text goes into typed string cells, exactly as it is (no
quote in front: a string cell is never read as a formula) and cut only to what a cell holds; the
workbook's dates and zip entries are fixed so that the same input gives the same bytes.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from pipeline.exports.plain import dates_as_dates, json_default, plain_rows

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
EXCEL_MAX_CELL = 32_767
EXCEL_MAX_SHEET_NAME = 31
EXCEL_RESERVED_SHEETS = ("README", "dictionary", "History")
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def sheet_names(tables: Iterable[str]) -> dict[str, str]:
    """Map table names to unique Excel sheet names.

    Sheet names have at most 31 characters, none of ``[ ] : * ? / \\``, and are unique ignoring
    case; ``README``, ``dictionary`` and ``History`` (reserved by Excel) are kept for other uses.
    A clash gets ``_2``, ``_3``, ...
    """
    taken = {name.casefold() for name in EXCEL_RESERVED_SHEETS}
    result = {}
    for table in tables:
        base = _SHEET_FORBIDDEN.sub("_", table).strip("'") or "table"
        base = base[:EXCEL_MAX_SHEET_NAME]
        name, number = base, 1
        while name.casefold() in taken:
            number += 1
            suffix = f"_{number}"
            name = base[: EXCEL_MAX_SHEET_NAME - len(suffix)] + suffix
        taken.add(name.casefold())
        result[table] = name
    return result


def workbook_bytes(
    tables: Mapping[str, pd.DataFrame],
    *,
    manifest: Mapping[str, Any],
    dictionary: pd.DataFrame,
    timestamp: datetime,
) -> bytes:
    """Return one Excel workbook: a README sheet, one sheet per table, then the dictionary.

    Each sheet has a bold, frozen header row. Text cells are typed strings holding the text as
    it is, so ``=HYPERLINK(...)`` shows as text and runs nothing; missing values, NaN and
    infinities are empty cells; characters Excel cannot store (control characters) become
    U+FFFD, and text longer than Excel's 32,767 characters per cell is cut (the CSV and Parquet
    files keep it whole). The workbook's created and modified dates are ``timestamp`` and its zip
    entries are dated 1980-01-01, so the same input gives the same bytes.

    Raises:
        ValueError: A table has more rows or columns than an Excel sheet holds.
    """
    too_big = [
        f"table {name!r} has {frame.shape[0]} rows and {frame.shape[1]} columns"
        for name, frame in tables.items()
        if frame.shape[0] + 1 > EXCEL_MAX_ROWS or frame.shape[1] > EXCEL_MAX_COLUMNS
    ]
    if too_big:
        raise ValueError(
            "; ".join(too_big)
            + f", more than an Excel sheet holds ({EXCEL_MAX_ROWS} rows, {EXCEL_MAX_COLUMNS} "
            "columns); fix: leave 'xlsx' out of the formats and use the CSV or Parquet files"
        )
    book = Workbook(write_only=True)
    book.properties.creator = "dshift"
    book.properties.created = timestamp
    book.properties.modified = timestamp
    sheets = sheet_names(tables)
    _readme_sheet(book, tables, sheets, manifest)
    for name, frame in tables.items():
        _table_sheet(book, sheets[name], frame)
    _table_sheet(book, "dictionary", dictionary)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        # ExcelWriter rather than Workbook.save, which stamps "modified" with the current time.
        ExcelWriter(book, archive).write_data()
    return _fix_zip_dates(buffer.getvalue())


def _readme_sheet(
    book: Workbook,
    tables: Mapping[str, pd.DataFrame],
    sheets: Mapping[str, str],
    manifest: Mapping[str, Any],
) -> None:
    sheet = book.create_sheet("README")
    sheet.freeze_panes = "A2"
    names = [len(str(name)) for name in [*tables, *sheets.values(), *manifest, "manifest field"]]
    _set_widths(sheet, [min(max(names, default=10) + 2, WIDTH_MAX), 20, 8, 8])
    sheet.append(_bold_row(sheet, ["table", "sheet", "rows", "columns"]))
    for name, frame in tables.items():
        sheet.append([_cell(sheet, name), _cell(sheet, sheets[name]), *frame.shape])
    sheet.append([])
    sheet.append(_bold_row(sheet, ["manifest field", "value"]))
    for key in sorted(manifest):
        value = manifest[key]
        if not (value is None or isinstance(value, (str, int, float, bool))):
            value = json.dumps(value, sort_keys=True, ensure_ascii=False, default=json_default)
        sheet.append([_cell(sheet, key), _cell(sheet, value)])
    sheet.append([])
    sheet.append(_bold_row(sheet, ["note"]))
    for note in (
        "Text cells hold the text exactly as the Parquet, JSON and Stata files do: they are "
        "typed as text, so one that starts with = + - @ runs no formula. Only the CSV files put "
        "a ' in front of such text (a CSV file has no types).",
        f"Text longer than {EXCEL_MAX_CELL} characters is cut; the CSV and Parquet files hold "
        "it whole.",
    ):
        sheet.append([note])


def _table_sheet(book: Workbook, title: str, frame: pd.DataFrame) -> None:
    sheet = book.create_sheet(title)
    sheet.freeze_panes = "A2"
    _set_widths(sheet, _column_widths(frame))
    sheet.append(_bold_row(sheet, [str(column) for column in frame.columns]))
    for row in plain_rows(dates_as_dates(frame), lambda value: _cell(sheet, value)):
        sheet.append(list(row))


WIDTH_MIN, WIDTH_MAX, WIDTH_SAMPLE = 8, 60, 200
"""Column widths in characters, and how many rows are measured to choose them."""


def _column_widths(frame: pd.DataFrame) -> list[float]:
    """A width per column that shows its header and the values of its first rows (dates in
    full rather than as ``###``), within :data:`WIDTH_MIN` and :data:`WIDTH_MAX`."""
    widths = []
    head = frame.head(WIDTH_SAMPLE)
    for position, column in enumerate(frame.columns):
        values = head.iloc[:, position]
        if pd.api.types.is_datetime64_dtype(values.dtype):
            longest = 11  # yyyy-mm-dd
        elif pd.api.types.is_float_dtype(values.dtype):
            longest = 12
        else:
            longest = (
                int(values.dropna().astype(str).str.len().max()) if values.notna().any() else 0
            )
        widths.append(float(min(max(len(str(column)) + 2, longest + 1, WIDTH_MIN), WIDTH_MAX)))
    return widths


def _set_widths(sheet: Any, widths: list[float]) -> None:
    # Write-only sheets take column widths only before their first row is appended.
    for number, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = width


def _bold_row(sheet: Any, values: list[Any]) -> list[WriteOnlyCell]:
    cells = []
    for value in values:
        cell = _text_cell(sheet, _excel_value(value))
        cell.font = Font(bold=True)
        cells.append(cell)
    return cells


def _cell(sheet: Any, value: Any) -> Any:
    """The value to append for ``value``: text that openpyxl would take for a formula or an
    error (``=...``, ``#N/A``) as a typed string cell, anything else as a plain value."""
    value = _excel_value(value)
    if isinstance(value, str) and (value.startswith("=") or value in ERROR_CODES):
        return _text_cell(sheet, value)
    return value


def _text_cell(sheet: Any, value: Any) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        # Set after the value: openpyxl types text starting with "=" as a formula on assignment.
        cell.data_type = "s"
    return cell


def _excel_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is not None:
            value = value.tz_convert("UTC").tz_localize(None)
        return value.to_pydatetime()
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)[:EXCEL_MAX_CELL]
    if isinstance(value, (bool, int, float, Decimal, datetime, date, time, timedelta)):
        return value
    return _excel_value(str(value))


def _fix_zip_dates(data: bytes) -> bytes:
    """Rewrite a zip archive with every entry dated :data:`ZIP_EPOCH` and fixed attributes."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as target,
    ):
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=ZIP_EPOCH)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.create_system = 3
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(entry))
    return buffer.getvalue()
