"""Review sheets: an Excel workbook a coder fills in, and the checks before it comes back.

The ``review`` sheet has one row per segment; the coder fills ``decision`` (accept, reject,
relabel), ``codes`` (for relabel: code ids separated by ';') and ``note``. The ``codebook`` sheet
holds every code's definition, rules and examples. A hidden ``about`` sheet says which workspace,
coder and export the sheet belongs to, and a hidden column keeps a hash of each segment's text,
so that an edited segment is caught on import.
"""

from __future__ import annotations

import difflib
import hashlib
import io
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.datavalidation import DataValidation

from pipeline.codebook.model import Codebook
from pipeline.exports.safe import neutralise

ACTIONS = ("accept", "reject", "relabel")
COLUMNS = (
    "segment_id",
    "document",
    "source_type",
    "date",
    "before",
    "segment",
    "after",
    "machine_codes",
    "evidence",
    "decision",
    "codes",
    "note",
    "text_sha1",
)
WIDTHS = {
    "segment_id": 16,
    "document": 24,
    "before": 30,
    "segment": 70,
    "after": 30,
    "machine_codes": 28,
    "evidence": 30,
    "decision": 11,
    "codes": 28,
    "note": 30,
}


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class SheetRow:
    """A segment as the coder sees it."""

    segment_id: str
    document: str
    source_type: str
    date: str
    before: str
    text: str
    after: str
    machine_codes: list[str]
    evidence: str


@dataclass(frozen=True)
class About:
    """Whose sheet it is, and from where."""

    workspace_id: str
    coder: str
    role: str
    export_id: str
    codebook_version: str
    blind: bool


def build_sheet(rows: list[SheetRow], about: About, codebook: Codebook) -> bytes:
    """Return the workbook for one coder (pure)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "review"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        machine = "" if about.blind else "; ".join(row.machine_codes)
        evidence = "" if about.blind else row.evidence
        sheet.append(
            [
                neutralise(v)
                for v in (
                    row.segment_id,
                    row.document,
                    row.source_type,
                    row.date,
                    row.before,
                    row.text,
                    row.after,
                    machine,
                    evidence,
                    "",
                    "",
                    "",
                    text_hash(row.text),
                )
            ]
        )
    sheet.freeze_panes = "B2"
    for index, name in enumerate(COLUMNS, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = WIDTHS.get(name, 12)
        if name in ("before", "segment", "after", "evidence"):
            for cell in sheet[letter][1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions[sheet.cell(row=1, column=len(COLUMNS)).column_letter].hidden = True
    decision_column = sheet.cell(row=1, column=COLUMNS.index("decision") + 1).column_letter
    # On a blind sheet the machine's codes are hidden, so 'accept' would mean nothing.
    allowed = [a for a in ACTIONS if not (about.blind and a == "accept")]
    rule = DataValidation(
        type="list",
        formula1='"' + ",".join(allowed) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="decision",
        error="Choose " + " or ".join(allowed) + ".",
    )
    rule.add(f"{decision_column}2:{decision_column}{len(rows) + 1}")
    sheet.add_data_validation(rule)
    rules = book.create_sheet("codebook")
    rules.append(
        [
            "code",
            "label",
            "parent",
            "definition",
            "include",
            "exclude",
            "positive examples",
            "negative examples",
        ]
    )
    for code in codebook.codes.values():
        rules.append(
            [
                neutralise(v)
                for v in (
                    code.id,
                    code.label,
                    code.parent or "",
                    code.definition,
                    "\n".join(code.include),
                    "\n".join(code.exclude),
                    "\n".join(code.positive_examples),
                    "\n".join(code.negative_examples),
                )
            ]
        )
    for letter, width in zip("ABCDEFGH", (26, 30, 16, 70, 40, 40, 50, 50)):
        rules.column_dimensions[letter].width = width
    info = book.create_sheet("about")
    for key, value in (
        ("workspace_id", about.workspace_id),
        ("coder", about.coder),
        ("role", about.role),
        ("export_id", about.export_id),
        ("codebook_version", about.codebook_version),
        ("blind", "yes" if about.blind else "no"),
    ):
        info.append([key, value])
    info.sheet_state = "hidden"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


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
    """A valid filled-in row."""

    row: int
    segment_id: str
    action: str
    codes: list[str]
    note: str
    machine_codes: list[str]


@dataclass
class ParsedSheet:
    about: About | None
    decisions: list[SheetDecision] = field(default_factory=list)
    problems: list[SheetProblem] = field(default_factory=list)
    rejected_rows: list[int] = field(default_factory=list)


def _cell(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    return text[1:] if text.startswith("'") else text


def read_sheet(
    data: bytes, codebook: Codebook, segments: dict[str, str], workspace_id: str
) -> ParsedSheet:
    """Check a filled-in sheet completely and return its decisions and every problem.

    Args:
        data: the workbook's bytes.
        codebook: the current codebook, to check relabelled codes.
        segments: segment id -> hash of its text, for the segments of this workspace.
        workspace_id: this workspace's id.
    """
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        return ParsedSheet(
            None,
            problems=[
                SheetProblem(
                    "(file)",
                    0,
                    "",
                    f"not a readable Excel workbook ({type(exc).__name__})",
                    "export a new sheet with 'dshift review export' and fill that in",
                )
            ],
        )
    parsed = ParsedSheet(None)
    if "about" not in book.sheetnames or "review" not in book.sheetnames:
        parsed.problems.append(
            SheetProblem(
                "(file)",
                0,
                "",
                "this is not a dshift review sheet (no 'review'/'about' sheet)",
                "export one with 'dshift review export --coder NAME'",
            )
        )
        return parsed
    info = {
        _cell(r[0]): _cell(r[1])
        for r in book["about"].iter_rows(values_only=True)
        if r and r[0] is not None
    }
    about = About(
        info.get("workspace_id", ""),
        info.get("coder", ""),
        info.get("role", "coder") or "coder",
        info.get("export_id", ""),
        info.get("codebook_version", ""),
        info.get("blind") == "yes",
    )
    parsed.about = about
    if about.workspace_id != workspace_id:
        parsed.problems.append(
            SheetProblem(
                "about",
                1,
                "B",
                f"the sheet comes from another workspace ({about.workspace_id})",
                "import it into the workspace it was exported from",
            )
        )
    if not about.coder:
        parsed.problems.append(
            SheetProblem(
                "about",
                2,
                "B",
                "the coder's name is missing",
                "unhide the 'about' sheet and put the coder's name in B2",
            )
        )
    if about.role not in ("coder", "adjudicator"):
        parsed.problems.append(
            SheetProblem(
                "about", 3, "B", f"unknown role '{about.role}'", "use coder or adjudicator"
            )
        )
    rows = book["review"].iter_rows(values_only=True)
    header = [_cell(v) for v in next(rows, ())]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        parsed.problems.append(
            SheetProblem(
                "review",
                1,
                "",
                f"columns missing: {', '.join(missing)}",
                "do not delete or rename columns; export a new sheet if needed",
            )
        )
        return parsed
    where = {name: header.index(name) for name in COLUMNS}
    letters = {name: _letter(where[name]) for name in COLUMNS}
    seen: dict[str, int] = {}
    for number, values in enumerate(rows, start=2):
        cells = {
            name: _cell(values[where[name]]) if where[name] < len(values) else ""
            for name in COLUMNS
        }
        before = len(parsed.problems)
        decision = _check_row(number, cells, letters, codebook, segments, seen, parsed)
        if decision is not None and len(parsed.problems) == before:
            parsed.decisions.append(decision)
        elif len(parsed.problems) > before:
            parsed.rejected_rows.append(number)
    return parsed


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _check_row(
    number: int,
    cells: dict[str, str],
    letters: dict[str, str],
    codebook: Codebook,
    segments: dict[str, str],
    seen: dict[str, int],
    parsed: ParsedSheet,
) -> SheetDecision | None:
    def problem(column: str, what: str, fix: str) -> None:
        parsed.problems.append(SheetProblem("review", number, letters[column], what, fix))

    segment_id = cells["segment_id"]
    action = cells["decision"].lower()
    if not segment_id and not action:
        return None
    if segment_id not in segments:
        problem(
            "segment_id",
            f"unknown segment id '{segment_id}'",
            "do not edit ids; this row may come from another workspace",
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
    if (
        text_hash(cells["segment"]) != cells["text_sha1"]
        or segments[segment_id] != cells["text_sha1"]
    ):
        problem(
            "segment",
            "the segment's text was edited (it no longer matches its hash)",
            "undo the edit: segments are fixed; write remarks in 'note'",
        )
    if not action:
        return None
    if action not in ACTIONS:
        problem(
            "decision",
            f"'{cells['decision']}' is not a decision",
            f"choose one of {', '.join(ACTIONS)}",
        )
        return None
    if action == "accept" and parsed.about is not None and parsed.about.blind:
        problem(
            "decision",
            "'accept' is not available on a blind sheet (the machine's codes were hidden)",
            "choose relabel with the codes you see, or reject for none",
        )
        return None
    codes = [c.strip() for c in cells["codes"].replace(",", ";").split(";") if c.strip()]
    if action == "relabel" and not codes:
        problem(
            "codes",
            "relabel needs the codes the segment should have",
            "write code ids separated by ';' (see the codebook sheet)",
        )
    if action != "relabel" and codes:
        problem(
            "codes",
            f"codes are only read when relabelling, not for '{action}'",
            "clear the codes, or choose relabel",
        )
    for code in codes:
        if code not in codebook.codes:
            close = difflib.get_close_matches(code, list(codebook.codes), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problem("codes", f"unknown code '{code}'{hint}", "use code ids from the codebook sheet")
    machine = [c.strip() for c in cells["machine_codes"].split(";") if c.strip()]
    final = machine if action == "accept" else ([] if action == "reject" else codes)
    return SheetDecision(number, segment_id, action, final, cells["note"], machine)
