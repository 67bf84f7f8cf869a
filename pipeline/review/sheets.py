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
"""

from __future__ import annotations

import difflib
import hashlib
import hmac
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from pipeline.codebook.model import Codebook
from pipeline.exports.safe import TRIGGERS

ACCEPT = "accept"
AS_MARKED = "as marked"
NO_CODE = "no code applies"
ACTION_OF = {
    ACCEPT: "accept",
    AS_MARKED: "relabel",
    NO_CODE: "reject",
    # Words of earlier sheets and of habit, still understood.
    "relabel": "relabel",
    "change": "relabel",
    "reject": "reject",
    "none": "reject",
}
YES = "yes"
NO = "no"
NOTE_LIMIT = 32_767  # the most characters an Excel cell holds (openpyxl cuts longer text)
REVIEW = "review"
HIDDEN_HASH = "text_sha1"
MACHINE = "machine codes"
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


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Track:
    """A top-level code and the codes of its subtree, as a sheet offers them."""

    id: str
    codes: tuple[str, ...]  # the track first, then its subcodes

    def name_of(self, code: str) -> str:
        """The short name a coder picks for ``code`` (``yes`` for the track itself)."""
        if code == self.id:
            return YES
        prefix = self.id + "."
        return code[len(prefix) :] if code.startswith(prefix) else code

    @property
    def options(self) -> list[str]:
        return [NO] + [self.name_of(c) for c in self.codes]

    def cell_text(self, codes: Iterable[str]) -> str:
        """How a set of codes reads in this track's column (``no`` when none is in it)."""
        mine = [c for c in self.codes if c in set(codes)]
        leaves = [c for c in mine if c != self.id] or mine
        return "; ".join(self.name_of(c) for c in leaves) or NO


def tracks_of(codebook: Codebook, only: str | None = None) -> list[Track]:
    """The tracks of the codebook (only the one holding code ``only``, when given)."""
    tops = [c.id for c in codebook.children(None)]
    if only is not None:
        code = codebook.codes[only]
        while code.parent is not None:
            code = codebook.codes[code.parent]
        tops = [code.id]
    out = []
    for top in tops:
        members = [c for c in codebook.codes if c != top and _top_of(codebook, c) == top]
        out.append(Track(top, (top, *members)))
    return out


def _top_of(codebook: Codebook, code_id: str) -> str:
    code = codebook.codes[code_id]
    while code.parent is not None and code.parent in codebook.codes:
        code = codebook.codes[code.parent]
    return code.id


@dataclass(frozen=True)
class SheetRow:
    """A segment as the coder sees it.

    ``coded_by`` (adjudication sheets): per coder, how they coded the segment, as shown text.
    """

    segment_id: str
    document: str
    source_type: str
    date: str
    before: str
    text: str
    after: str
    machine_codes: list[str]
    evidence: str
    coded_by: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class About:
    """Whose sheet it is, and from where.

    ``tracks`` are the tracks the sheet asks about; ``coders`` the coders whose codes an
    adjudication sheet shows side by side; ``signature`` the HMAC over all this and the rows.
    """

    workspace_id: str
    coder: str
    role: str
    export_id: str
    codebook_version: str
    blind: bool
    kind: str = "review"
    tracks: tuple[Track, ...] = ()
    coders: tuple[str, ...] = ()
    signature: str = ""


ABOUT_FIELDS = (
    "workspace_id",
    "coder",
    "role",
    "export_id",
    "codebook_version",
    "blind",
    "kind",
    "tracks",
    "signature",
)


def _about_values(about: About) -> dict[str, str]:
    return {
        "workspace_id": about.workspace_id,
        "coder": about.coder,
        "role": about.role,
        "export_id": about.export_id,
        "codebook_version": about.codebook_version,
        "blind": "yes" if about.blind else "no",
        "kind": about.kind,
        "tracks": ", ".join(t.id for t in about.tracks),
        "signature": about.signature,
    }


def sign(key: bytes, about: About, rows: Iterable[tuple[str, str, Sequence[str]]]) -> str:
    """HMAC-SHA256 over a sheet's identity and its rows (segment id, text hash, shown codes)."""
    payload = {
        **{k: v for k, v in _about_values(about).items() if k != "signature"},
        "track_codes": {t.id: list(t.codes) for t in about.tracks},
        "rows": sorted([s, h, sorted(c)] for s, h, c in rows),
    }
    message = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def columns_of(about: About) -> list[str]:
    """The columns of a review sheet, left to right (the last one hidden)."""
    columns = ["segment_id", "document", "date", "before", "segment", "after"]
    if not about.blind:
        columns += [MACHINE, "evidence"]
    columns += [f"coded by {c}" for c in about.coders]
    columns += ["decision", *(t.id for t in about.tracks), "note", HIDDEN_HASH]
    return columns


def decision_options(about: About) -> list[str]:
    """The decisions a sheet offers: no 'accept' where the machine's codes were hidden."""
    return ([] if about.blind else [ACCEPT]) + [AS_MARKED, NO_CODE]


def describe(codes: Iterable[str], tracks: Sequence[Track], judged: Iterable[str] | None) -> str:
    """Codes as a coder reads them, one line per track (``?`` for a track not judged)."""
    given, seen = set(codes), None if judged is None else set(judged)
    lines = []
    for track in tracks:
        if seen is not None and not seen & set(track.codes):
            lines.append(f"{track.id}: ?")
        else:
            lines.append(f"{track.id}: {track.cell_text(given)}")
    return "\n".join(lines)


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
    letters = {name: _letter(i) for i, name in enumerate(columns)}
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
    for number, (key, value) in enumerate(_about_values(about).items(), start=1):
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
        letter = _letter(column - 1)
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


@dataclass(frozen=True)
class SheetProblem:
    """One bad cell or row: where, what, and how to fix it."""

    sheet: str
    row: int
    column: str
    what: str
    fix: str

    def format(self) -> str:
        place = f"{self.sheet}!{self.column}{self.row}" if self.row else self.sheet
        return f"{place}: {self.what} — {self.fix}"


@dataclass(frozen=True)
class SheetDecision:
    """A valid filled-in row: the action, the full resulting codes within ``scope`` (the codes
    the row judged), the note, and the machine codes the row showed."""

    row: int
    segment_id: str
    action: str
    codes: list[str]
    note: str
    machine_codes: list[str]
    scope: list[str] = field(default_factory=list)


@dataclass
class RawSheet:
    """A workbook's cells as read, before any check against the store."""

    about: dict[str, tuple[int, str]] = field(default_factory=dict)  # key -> (row, value)
    header: list[str] = field(default_factory=list)
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    problems: list[SheetProblem] = field(default_factory=list)
    lengths: dict[tuple[int, int], int] = field(default_factory=dict)
    """(row, column) -> true length of text cut at a cell's limit when read."""

    @property
    def export_id(self) -> str:
        return self.about.get("export_id", (0, ""))[1]


@dataclass
class ParsedSheet:
    about: About | None
    decisions: list[SheetDecision] = field(default_factory=list)
    problems: list[SheetProblem] = field(default_factory=list)
    rejected_rows: list[int] = field(default_factory=list)


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
                            _letter(cell.column - 1),
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
        raw: the sheet as read by :func:`open_sheet`.
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
    if _columns_missing(raw, needed, parsed):
        return parsed
    where = {name: raw.header.index(name) for name in needed}
    letters = {name: _letter(i) for name, i in where.items()}
    seen: dict[str, int] = {}
    for number, values in raw.rows:
        cells = {n: values[i] if i < len(values) else "" for n, i in where.items()}
        before = len(parsed.problems)
        decision = _check_row(number, cells, letters, about, shown, segments, seen, parsed)
        if len(parsed.problems) > before:
            parsed.rejected_rows.append(number)
        elif decision is not None:
            parsed.decisions.append(decision)
    _refuse_cut_cells(raw, parsed)
    return parsed


def _refuse_cut_cells(raw: RawSheet, parsed: ParsedSheet) -> None:
    """Refuse rows with a formula, or with text longer than a cell holds (never store part)."""
    for (row, column), length in sorted(raw.lengths.items()):
        name = raw.header[column] if column < len(raw.header) else _letter(column)
        parsed.problems.append(
            SheetProblem(
                REVIEW,
                row,
                _letter(column),
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
    expected = _about_values(about)
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


def _columns_missing(raw: RawSheet, needed: Sequence[str], parsed: ParsedSheet) -> bool:
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


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


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
        raw: the sheet as read by :func:`open_sheet`.
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
    if _columns_missing(raw, LEGACY_COLUMNS, parsed):
        return parsed
    parsed.about = about
    where = {name: raw.header.index(name) for name in LEGACY_COLUMNS}
    letters = {name: _letter(i) for name, i in where.items()}
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
    _refuse_cut_cells(raw, parsed)
    return parsed
