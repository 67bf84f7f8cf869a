"""Canonical text of a PDF: reading order, no running heads, joined lines and paragraphs.

Pure: takes the positioned words of every page (from either engine in ``pdf.py``) and returns
text and page spans.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass
from statistics import median

from pipeline.ingest.canonical import PAGE_NUMBER, assemble, vocabulary
from pipeline.ingest.layout import Line, page_lines
from pipeline.ingest.words import PageWords

EDGE_ZONE = 0.12  # share of the page height at the top and bottom where running heads live
EDGE_LINES = 3  # how many lines nearest to each edge are candidates
_DIGITS = re.compile(r"\d+")
_BULLET = re.compile(r"^(?:[•▪◦‣·∙–—-]|\(?[0-9]{1,2}[.)]|\(?[a-z][.)]|\(?[ivx]{1,4}[.)])\s")


@dataclass(frozen=True)
class PdfText:
    """Canonical text of a PDF and where each page's text lies in it."""

    text: str
    pages: list[tuple[int, int]]
    empty_pages: list[int]  # 1-based numbers of pages without any text
    image_only_pages: list[int]  # of which: pages carrying images (scanned)


def pdf_text(pages: list[PageWords]) -> PdfText:
    """Build the canonical text of a document from the words of its pages."""
    lines = [page_lines(page.words) for page in pages]
    lines = remove_running_heads(pages, lines)
    vocab = vocabulary(line.text for page in lines for line in page)
    paragraphs = _paragraphs(lines)
    text, spans = assemble(paragraphs, vocab, len(pages))
    empty = [p.number for p, page in zip(pages, lines) if not page]
    scanned = [p.number for p, page in zip(pages, lines) if not page and p.has_images]
    return PdfText(text, spans, empty, scanned)


def _key(text: str) -> str:
    return _DIGITS.sub("#", " ".join(text.lower().split()))


def remove_running_heads(pages: list[PageWords], lines: list[list[Line]]) -> list[list[Line]]:
    """Drop running headers, footers and page numbers.

    A line near the top or bottom edge goes if it is a bare page number ("7", "- 7 -",
    "Page 7 of 9"), or if the same text (digits ignored) sits near the same edge on at least half
    the pages of a multi-page document.
    """
    candidates: list[dict[int, str]] = []
    seen: Counter[str] = Counter()
    for page, page_lines_ in zip(pages, lines):
        edge: dict[int, str] = {}
        by_height = sorted(range(len(page_lines_)), key=lambda i: page_lines_[i].top)
        top_zone = [
            i for i in by_height[:EDGE_LINES] if page_lines_[i].bottom <= EDGE_ZONE * page.height
        ]
        bottom_zone = [
            i
            for i in by_height[-EDGE_LINES:]
            if page_lines_[i].top >= (1 - EDGE_ZONE) * page.height
        ]
        for zone, indices in (("top", top_zone), ("bottom", bottom_zone)):
            for i in indices:
                edge[i] = f"{zone}:{_key(page_lines_[i].text)}"
        candidates.append(edge)
        seen.update(set(edge.values()))
    text_pages = sum(1 for page in lines if page)
    needed = max(2, math.ceil(0.5 * text_pages))
    kept: list[list[Line]] = []
    for page_lines_, edge in zip(lines, candidates):
        drop = {
            i
            for i, key in edge.items()
            if PAGE_NUMBER.match(page_lines_[i].text) or (text_pages >= 2 and seen[key] >= needed)
        }
        kept.append([line for i, line in enumerate(page_lines_) if i not in drop])
    return kept


def _paragraphs(pages: list[list[Line]]) -> list[list[tuple[int, str]]]:
    """Group lines into paragraphs, which may run across column and page breaks."""
    pitch = _typical_pitch(pages)
    paragraphs: list[list[tuple[int, str]]] = []
    previous: Line | None = None
    for page_index, page in enumerate(pages):
        for line_index, line in enumerate(page):
            jump = line_index == 0 or line.block_start
            if previous is None or _breaks(previous, line, jump, pitch):
                paragraphs.append([])
            paragraphs[-1].append((page_index, line.text))
            previous = line
    return paragraphs


def _typical_pitch(pages: list[list[Line]]) -> float:
    steps = [
        b.bottom - a.bottom
        for page in pages
        for a, b in itertools.pairwise(page)
        if not b.block_start and abs(a.size - b.size) < 0.5 and b.bottom > a.bottom
    ]
    return median(steps) if steps else 0.0


def _is_full(line: Line) -> bool:
    slack = max(2.5 * line.size, 0.12 * (line.col_x1 - line.col_x0))
    return line.x1 >= line.col_x1 - slack


def _is_indented(line: Line) -> bool:
    return line.x0 > line.col_x0 + 0.8 * line.size


def _breaks(prev: Line, line: Line, jump: bool, pitch: float) -> bool:
    """Decide whether ``line`` starts a new paragraph after ``prev``."""
    text = line.text
    if _BULLET.match(text) or abs(prev.size - line.size) > 0.08 * max(prev.size, line.size):
        return True
    if jump:
        # Across a column or page break only geometry of the previous line can tell: a full last
        # line with an unindented follower is a paragraph that flows on.
        return not (_is_full(prev) and not _is_indented(line))
    if pitch and line.bottom - prev.bottom > 1.3 * pitch:
        return True
    if _is_indented(line) and not _is_indented(prev):
        return True
    return not _is_full(prev) and not prev.text.endswith("-")
