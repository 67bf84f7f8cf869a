"""Cut canonical text into segments: sentences (default) or paragraphs.

Segments never cross a paragraph break; they are trimmed of surrounding spaces, ordered, never
overlap, and together cover every non-space character of the text (they tile it). Ids are stable:
a hash of the document, the segmenter and the offsets.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from spacy.attrs import IDX, IS_SPACE
from spacy.language import Language
from spacy.tokens import Doc

_PARAGRAPH = re.compile(r"[^\n]+(?:\n(?!\n)[^\n]*)*")


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of a document: its offset and text."""

    start: int
    text: str


def paragraphs(text: str) -> list[Paragraph]:
    """Split canonical text at blank lines, keeping offsets (trimmed of outer spaces)."""
    out = []
    for match in _PARAGRAPH.finditer(text):
        raw = match.group()
        stripped = raw.strip()
        if stripped:
            out.append(Paragraph(match.start() + len(raw) - len(raw.lstrip()), stripped))
    return out


def segment_id(document_sha256: str, segmenter: str, start: int, end: int) -> str:
    """Return the stable id of a segment."""
    digest = hashlib.sha1(f"{document_sha256}:{segmenter}:{start}:{end}".encode()).hexdigest()
    return "s" + digest[:12]


def sentence_spans(doc: Doc) -> Iterator[tuple[int, int, int, int]]:
    """Yield (start_char, end_char, start_token, end_token) of each sentence, trimmed of spaces."""
    spaces = doc.to_array(IS_SPACE).tolist()
    starts = doc.to_array(IDX).tolist()
    for sent in doc.sents:
        start, end = sent.start, sent.end
        while start < end and spaces[start]:
            start += 1
        while end > start and spaces[end - 1]:
            end -= 1
        if end > start:
            yield starts[start], starts[end - 1] + len(doc[end - 1]), start, end


def parse_paragraphs(nlp: Language, text: str) -> Iterator[tuple[Paragraph, Doc]]:
    """Run the pipeline over each paragraph of ``text``."""
    parts = paragraphs(text)
    docs = nlp.pipe((p.text for p in parts), batch_size=256)
    yield from zip(parts, docs)
