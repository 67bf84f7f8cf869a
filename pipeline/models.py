"""Plain data passed between stages and the store. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.errors import Problem

SOURCE_TYPES = ("mofa", "ispr", "treaty", "speech", "other")
METADATA_FIELDS = ("source_type", "issuer", "date", "title", "language")
# Provenance of a metadata value, strongest first. Human input beats inference; among human
# inputs the most recent wins (see pipeline.ingest.metadata.resolve).
METADATA_SOURCES = ("manual", "sidecar", "text", "filename", "file_info", "default")


@dataclass(frozen=True)
class MetaValue:
    """One candidate value for a metadata field, and how it was obtained.

    Attributes:
        field: one of METADATA_FIELDS.
        value: the value as text ("2013-04-15", "2013", "mofa", ...).
        source: one of METADATA_SOURCES.
        detail: evidence, e.g. the matched words and their character offset.
    """

    field: str
    value: str
    source: str
    detail: str = ""


@dataclass(frozen=True)
class Extraction:
    """The canonical text of one file and what its reader learned on the way.

    Attributes:
        kind: input format ("pdf", "txt", "html", "docx").
        text: canonical text (NFC, "\\n" line ends, paragraphs separated by a blank line).
        pages: (start, end) code-point offsets into ``text`` for each page, in page order.
        info: the format's own metadata (PDF info dictionary, HTML <title>, DOCX core properties).
        extractor: the name and version of the reader, e.g. "pdfium-layout.v1".
        warnings: problems that did not prevent ingestion (scanned pages, bad encoding).
        furniture: running heads and footers removed from the text; kept for metadata cues.
    """

    kind: str
    text: str
    pages: list[tuple[int, int]]
    info: dict[str, str]
    extractor: str
    warnings: list[Problem] = field(default_factory=list)
    furniture: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Resolved:
    """The metadata a document is filed under, each field with its provenance."""

    source_type: str
    issuer: str | None
    date: str | None
    year: int | None
    title: str | None
    language: str | None
    provenance: dict[str, str]


@dataclass(frozen=True)
class Sighting:
    """Where and when a file with given bytes was seen."""

    path: str
    name: str
    size: int
    mtime_ns: int
