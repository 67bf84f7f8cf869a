"""What a review sheet is made of: its decision words, tracks, rows, identity and problems.

Every other sheet module (writing, reading, checking, signing) builds on these plain values and
pure helpers; this module imports none of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pipeline.codebook.model import Codebook

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


def about_values(about: About) -> dict[str, str]:
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
    """A sheet after its checks: the valid decisions, the problems and the rows refused.

    ``about`` stays None when the sheet is refused as a whole (another workspace, no such
    export, an altered about sheet or signature, missing columns).
    """

    about: About | None
    decisions: list[SheetDecision] = field(default_factory=list)
    problems: list[SheetProblem] = field(default_factory=list)
    rejected_rows: list[int] = field(default_factory=list)


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters
