"""What the review page shows besides the queue: a document with its segments, the codebook's
tracks with definitions and examples, the agreement report (pure over what the store gives)."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.codebook.model import Codebook
from pipeline.core import DEFAULT_SEGMENTER
from pipeline.core.decisions import current
from pipeline.core.records import TagRow
from pipeline.errors import DshiftError
from pipeline.review.sheet_model import tracks_of
from pipeline.store import Store


@dataclass(frozen=True)
class CodeHelp:
    """A code as a coder needs it on the page: what it means, with examples."""

    id: str
    label: str
    definition: str
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    positive: tuple[str, ...]
    negative: tuple[str, ...]


@dataclass(frozen=True)
class TrackHelp:
    """A track (top-level code), its key on the page, and its subcodes."""

    key: str  # "1", "2", "3"...
    code: CodeHelp
    subcodes: tuple[CodeHelp, ...]


@dataclass(frozen=True)
class Piece:
    """A stretch of a document's text: a segment (with its codes) or what lies between."""

    text: str
    segment_id: str | None = None
    machine_codes: tuple[str, ...] = ()
    mine: tuple[str, ...] | None = None


@dataclass(frozen=True)
class DocumentView:
    """A document's canonical text, cut into its segments."""

    id: int
    title: str
    date: str
    source_type: str
    name: str
    pieces: tuple[Piece, ...]


def machine_tags(store: Store, segment_id: str, coder: str, version: str) -> list[TagRow]:
    """The tags one machine coder gave a segment under one codebook version."""
    return [
        t
        for t in store.tags_of_segment(segment_id)
        if t.coder == coder and t.codebook_version == version
    ]


def codes_of(tags: list[TagRow]) -> list[str]:
    """The codes of some tags, each with its track (top-level code), sorted."""
    return sorted({t.code for t in tags} | {t.top_code for t in tags})


def _help(codebook: Codebook, code_id: str) -> CodeHelp:
    code = codebook.codes[code_id]
    return CodeHelp(
        code.id,
        code.label,
        code.definition,
        code.include,
        code.exclude,
        code.positive_examples,
        code.negative_examples,
    )


def tracks(codebook: Codebook) -> list[TrackHelp]:
    """The codebook's tracks in order, each with its key (1, 2, 3...) and its subcodes."""
    return [
        TrackHelp(str(n), _help(codebook, t.id), tuple(_help(codebook, c) for c in t.codes[1:]))
        for n, t in enumerate(tracks_of(codebook), start=1)
    ]


def document_view(
    store: Store, codebook: Codebook, machine_coder: str, doc_id: int, coder: str, *, blind: bool
) -> DocumentView:
    """A document cut into its segments, with the machine's codes (not when ``blind``) and the
    coder's own standing codes."""
    document = store.document(doc_id)
    if document is None:
        raise DshiftError(
            f"there is no document {doc_id} in this workspace", "go back to the queue", code="usage"
        )
    text = store.document_text(doc_id)
    segments = store.document_segments(doc_id, DEFAULT_SEGMENTER)
    ids = [s.id for s in segments]
    mine = {
        segment: event
        for (segment, who), event in current(store.decisions(ids)).items()
        if who == coder
    }
    machine = {
        segment_id: codes_of(machine_tags(store, segment_id, machine_coder, codebook.version))
        for segment_id in ([] if blind else ids)
    }
    pieces: list[Piece] = []
    at = 0
    for segment in segments:
        if segment.start > at:
            pieces.append(Piece(text[at : segment.start]))
        event = mine.get(segment.id)
        pieces.append(
            Piece(
                text[segment.start : segment.end],
                segment.id,
                tuple(machine.get(segment.id, ())),
                tuple(sorted(event.codes)) if event else None,
            )
        )
        at = segment.end
    if at < len(text):
        pieces.append(Piece(text[at:]))
    return DocumentView(
        document.id,
        document.title or document.name,
        document.date or "",
        document.source_type,
        document.name,
        tuple(pieces),
    )
