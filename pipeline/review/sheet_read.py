"""Reading a review sheet back: a workbook's cells as written, before any check against the store.

Reading is bounded (a sheet of more than :data:`MAX_ROWS` rows is refused, sheets are read by the
cells they hold, not the size they declare), reports a formula in any cell rather than reading it,
and finds the true length of text longer than a cell holds, which openpyxl cuts silently.
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook

from pipeline.review.sheet_model import (
    NOTE_LIMIT,
    REVIEW,
    RawSheet,
    SheetProblem,
    column_letter,
)


def _text(value: Any) -> str:
    """A cell's text exactly as written (numbers as they print)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _column_number(reference: str) -> int:
    number = 0
    for ch in reference:
        if not ch.isalpha():
            break
        number = number * 26 + ord(ch.upper()) - 64
    return number


def long_texts(data: bytes, sheet_name: str) -> dict[tuple[int, int], int]:
    """(row, column) -> true length of every text cell of ``sheet_name`` longer than a cell's
    limit: openpyxl cuts such text when reading, so its real length is read from the XML."""
    import posixpath
    import zipfile

    import defusedxml.ElementTree as safe_xml

    out: dict[tuple[int, int], int] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        workbook = safe_xml.fromstring(archive.read("xl/workbook.xml"))
        relation = next(
            (
                s.get(f"{_RELS}id")
                for s in workbook.iter(f"{_MAIN}sheet")
                if s.get("name") == sheet_name
            ),
            None,
        )
        rels = safe_xml.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        target = next((r.get("Target") for r in rels if r.get("Id") == relation), None)
        if not target:
            return out
        path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        shared: list[int] = []
        if "xl/sharedStrings.xml" in names:
            strings = safe_xml.fromstring(archive.read("xl/sharedStrings.xml"))
            shared = [
                sum(len(t.text or "") for t in si.iter(f"{_MAIN}t"))
                for si in strings.iter(f"{_MAIN}si")
            ]
        if path not in names:
            return out
        for cell in safe_xml.fromstring(archive.read(path)).iter(f"{_MAIN}c"):
            kind, reference = cell.get("t"), cell.get("r", "")
            if kind == "s":
                value = cell.find(f"{_MAIN}v")
                index = int(value.text) if value is not None and value.text else -1
                length = shared[index] if 0 <= index < len(shared) else 0
            elif kind == "inlineStr":
                length = sum(len(t.text or "") for t in cell.iter(f"{_MAIN}t"))
            else:
                continue
            if length > NOTE_LIMIT and reference:
                row = int("".join(ch for ch in reference if ch.isdigit()))
                out[(row, _column_number(reference) - 1)] = length
    return out


def open_sheet(data: bytes) -> RawSheet:
    """Read a workbook's review and about sheets; report formulas in any cell (pure)."""
    raw = RawSheet()
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:
        raw.problems.append(
            SheetProblem(
                "(file)",
                0,
                "",
                f"not a readable Excel workbook ({type(exc).__name__})",
                "export a new sheet with 'dshift review export' and fill that in",
            )
        )
        return raw
    if "about" not in book.sheetnames or REVIEW not in book.sheetnames:
        raw.problems.append(
            SheetProblem(
                "(file)",
                0,
                "",
                "this is not a dshift review sheet (no 'review'/'about' sheet)",
                "export one with 'dshift review export --coder NAME'",
            )
        )
        return raw
    try:
        _read_cells(book, raw)
    except Exception as exc:  # openpyxl parses lazily: a damaged sheet fails only here
        raw.problems.append(
            SheetProblem(
                "(file)",
                0,
                "",
                f"the workbook is damaged ({type(exc).__name__}: {str(exc)[:80]})",
                "export a new sheet with 'dshift review export' and copy the answers over",
            )
        )
        return raw
    finally:
        book.close()
    if any(p.sheet == "(file)" for p in raw.problems):
        return raw
    cut = _cut_cells(raw)
    if cut:
        lengths = long_texts(data, REVIEW)
        for row, column in cut:
            if lengths.get((row, column), 0) > NOTE_LIMIT:
                raw.lengths[(row, column)] = lengths[(row, column)]
    return raw


MAX_ROWS = 20_000
"""The most rows a sheet may hold (a review sheet has one per segment sent, a few hundred)."""


def _read_cells(book: Any, raw: RawSheet) -> None:
    """Fill ``raw`` from an open read-only workbook: formulas anywhere, the about and review
    sheets' values.

    Sheets are read by the cells they hold, not the size they declare (a crafted ``dimension``
    of a million rows costs nothing), and a sheet of more than :data:`MAX_ROWS` rows is refused.
    """
    for name in book.sheetnames:
        sheet = book[name]
        sheet.reset_dimensions()
        for count, row in enumerate(sheet.iter_rows(), start=1):
            if count > MAX_ROWS:
                raw.problems.append(
                    SheetProblem(
                        "(file)",
                        0,
                        "",
                        f"the sheet '{name}' has more than {MAX_ROWS:,} rows",
                        "this is not a sheet dshift wrote; export a new one",
                    )
                )
                return
            for cell in row:
                if getattr(cell, "data_type", None) == "f":
                    raw.problems.append(
                        SheetProblem(
                            name,
                            cell.row,
                            column_letter(cell.column - 1),
                            f"a formula ({_text(cell.value)[:60]}) where text is expected",
                            "type the value itself, not a formula (or start it with ')",
                        )
                    )
    for number, values in enumerate(book["about"].iter_rows(values_only=True), start=1):
        if values and values[0] is not None:
            raw.about[_text(values[0]).strip()] = (
                number,
                _text(values[1]).strip() if len(values) > 1 else "",
            )
    rows = book[REVIEW].iter_rows(values_only=True)
    raw.header = [_text(v).strip() for v in next(rows, ())]
    for number, values in enumerate(rows, start=2):
        texts = [_text(v) for v in values]
        if any(t.strip() for t in texts):
            raw.rows.append((number, texts))


def _cut_cells(raw: RawSheet) -> list[tuple[int, int]]:
    return [
        (number, column)
        for number, texts in raw.rows
        for column, text in enumerate(texts)
        if len(text) >= NOTE_LIMIT
    ]
