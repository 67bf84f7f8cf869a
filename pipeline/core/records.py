"""The rows a corpus store returns and the inputs it takes: plain frozen data, no I/O.

Every store backend (SQLite today, PostgreSQL next) returns these, so stage code reads fields by
name and never depends on the order of a query's columns. Lists and dicts in them are the
caller's to read, not to change.

Most are frozen dataclasses. The rows read in bulk, one per segment or tag of the corpus
(:class:`FrameSegment`, :class:`FrameTag`, :class:`FramePartner`, :class:`MachineTag`,
:class:`SegmentSpan`, :class:`SegmentText`, :class:`SegmentContext`), are named tuples:
as immutable and as named, but built at the speed of a tuple (a frozen dataclass costs about
2 µs a row, which made reading 50,000 segments into the segment frame 60 % slower) and handed
to pandas as they are. Read them by name all the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pipeline.models import MetaValue

# -- runs --------------------------------------------------------------------------------------


@dataclass
class RunRecord:
    """A run in progress: its id, and the counts and status to record when it ends."""

    id: str
    counts: dict[str, Any] = field(default_factory=dict)
    status: str = "completed"


@dataclass(frozen=True)
class RunRow:
    """A recorded run: what ran, when, how it ended and what it counted."""

    id: str
    command: str
    started_at: str
    ended_at: str | None
    status: str
    counts: dict[str, Any]
    pipeline_version: str
    pid: int | None = None  # of the process that ran it (on whichever machine ran it)


# -- documents ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentRow:
    """A stored document with its resolved metadata (its canonical text is read apart)."""

    id: int
    sha256: str
    kind: str
    name: str
    n_chars: int
    n_pages: int
    source_type: str
    issuer: str | None
    date: str | None
    year: int | None
    title: str | None
    language: str | None
    provenance: dict[str, str]
    supersedes: int | None
    superseded_by: int | None
    extractor: str
    created_at: str


@dataclass(frozen=True, slots=True)
class PageSpan:
    """Where a page lies in its document's canonical text (code-point offsets, end excluded)."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class MetadataRecord:
    """A metadata value once proposed for a document, and when it was recorded (ISO UTC)."""

    value: MetaValue
    recorded_at: str


@dataclass(frozen=True, slots=True)
class CoverageRow:
    """How many current documents, and pages, a year and source type have (year None: undated)."""

    year: int | None
    source_type: str
    documents: int
    pages: int


@dataclass(frozen=True, slots=True)
class UndatedDocument:
    """A current document without a date, and the first path it was seen under."""

    document_id: int
    path: str


# -- problems ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProblemRow:
    """A problem recorded about a file or document, as the user sees it."""

    id: int
    run_id: str
    path: str
    sha256: str | None
    document_id: int | None
    stage: str
    code: str
    severity: str
    reason: str
    hint: str
    place: str
    created_at: str


# -- coding ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SegmentRow:
    """A stored segment: a span of its document's canonical text cut by one segmenter."""

    id: str
    document_id: int
    segmenter: str
    seq: int
    start: int
    end: int
    n_words: int


@dataclass(frozen=True)
class TagRow:
    """A machine tag of a segment under one coder and codebook version."""

    segment_id: str
    code: str
    top_code: str
    confidence: float
    partners: list[str]
    evidence: list[dict[str, Any]]
    coder: str
    codebook_version: str
    run_id: str


@dataclass(frozen=True)
class SegmentToSave:
    """A segment to store with a document's coding, and the partners it speaks about."""

    id: str
    seq: int
    start: int
    end: int
    n_words: int
    partners: list[str]


@dataclass(frozen=True)
class TagToSave:
    """A machine tag to store with a document's coding."""

    segment_id: str
    code: str
    top_code: str
    confidence: float
    partners: list[str]
    evidence: list[dict[str, Any]]


@dataclass(frozen=True)
class CodingToSave:
    """One document's coding, as the coding stage hands it to the store.

    Attributes:
        replace: the coder's earlier tags of the document under ``version`` go first (its
            model was retrained).
    """

    document_id: int
    segmenter: str
    coder: str
    version: str
    run_id: str
    segments: list[SegmentToSave]
    tags: list[TagToSave]
    replace: bool = False


@dataclass(frozen=True, slots=True)
class DocumentToCode:
    """A current document not yet coded under some segmenter, coder and codebook version."""

    document_id: int
    sha256: str


@dataclass(frozen=True, slots=True)
class CodingCounts:
    """How many documents, segments and tags one coder coded under one codebook version."""

    documents: int
    segments: int
    tags: int


class SegmentText(NamedTuple):
    """A segment of a current document with its text, its document's year and name."""

    segment: SegmentRow
    text: str
    year: int | None
    document_name: str


class SegmentSpan(NamedTuple):
    """Where a segment of a current document lies, and the bytes (sha256) of its document."""

    segment_id: str
    document_id: int
    start: int
    end: int
    document_sha256: str


class MachineTag(NamedTuple):
    """One machine code of a segment: the code, its top-level code and the confidence."""

    code: str
    top_code: str
    confidence: float


class FrameSegment(NamedTuple):
    """A segment of a current document as the segment frame (the indices' input) needs it."""

    segment_id: str
    document_id: int
    date: str | None
    year: int | None
    source_type: str
    n_words: int
    document_sha256: str = ""  # the document's identity: orders documents in the bootstrap


class FrameTag(NamedTuple):
    """A machine tag as the segment frame needs it."""

    segment_id: str
    code: str
    top_code: str


class FramePartner(NamedTuple):
    """A partner a segment speaks about, under one codebook version."""

    segment_id: str
    partner: str


class SegmentContext(NamedTuple):
    """A segment's text with what names its source: document name and date (or year, or '')."""

    text: str
    document_name: str
    date: str


# -- review ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionRow:
    """A coder's decision about a segment: an event, never changed once recorded."""

    id: int
    segment_id: str
    coder: str
    role: str
    action: str
    codes: list[str]
    machine_codes: list[str]
    note: str
    codebook_version: str
    source: str
    created_at: str
    scope: list[str] | None = None
    """The codes the decision judged; None: every code of the codebook."""
    export_id: str | None = None
    """The review export (sheet) it was filled in on, if any."""


@dataclass(frozen=True)
class CoderAccount:
    """A person who may log in to the review page (their token is kept only as a hash)."""

    name: str
    role: str  # coder or adjudicator
    created_at: str
    disabled_at: str | None = None


@dataclass(frozen=True)
class NewDecision:
    """A decision to record (the store gives it its id, file and time)."""

    segment_id: str
    coder: str
    role: str
    action: str
    codes: list[str]
    machine_codes: list[str]
    note: str
    codebook_version: str
    source: str
    scope: list[str] | None = None
    export_id: str | None = None


@dataclass(frozen=True)
class ShownRow:
    """One segment as a review export showed it."""

    segment_id: str
    text_sha: str
    machine_codes: list[str]


@dataclass(frozen=True)
class ReviewExport:
    """What a review export sent, to whom, as what, and what each of its rows showed.

    ``signature`` is None for exports made before sheets were signed (``rows`` is then empty).
    """

    id: str
    kind: str
    coder: str
    role: str
    path: str
    blind: bool
    codebook_version: str
    scope: list[str] | None
    signature: str | None
    rows: list[ShownRow]
    tracks: dict[str, list[str]]
    segment_ids: list[str]


@dataclass(frozen=True, slots=True)
class ReviewFile:
    """A file decisions were imported from: where it was, whose, and when it was imported."""

    path: str
    coder: str
    imported_at: str


@dataclass(frozen=True)
class DerivedResult:
    """Tables a stage derived from the store (topic models today), kept with their provenance.

    Derived results are regenerable, so a new one replaces the old under the same name; the
    provenance says whether they still describe the store (see ``inputs_as_of``).

    Attributes:
        name: what they are (``topics``).
        run_id: the run that made them.
        codebook_version: the codebook they were made under.
        inputs_as_of: the store's ``inputs_as_of()`` when they were made: a later value means
            the corpus, its coding or its decisions changed since.
        parameters: the parameters they were made with.
        tables: table name -> the table as Parquet bytes.
        created_at: when they were made (ISO 8601 UTC).
    """

    name: str
    run_id: str
    codebook_version: str
    inputs_as_of: str | None
    parameters: dict[str, Any]
    tables: dict[str, bytes]
    created_at: str = ""
