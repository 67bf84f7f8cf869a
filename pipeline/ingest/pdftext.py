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
_BULLET = re.compile(r"^(?:[•▪◦‣∙-]|\(?[0-9]{1,2}[.)]|\(?[a-z][.)]|\(?[ivx]{1,4}[.)])\s")


@dataclass(frozen=True)
class PdfText:
    """Canonical text of a PDF and where each page's text lies in it."""

    text: str
    pages: list[tuple[int, int]]
    empty_pages: list[int]  # 1-based numbers of pages without any text
    image_only_pages: list[int]  # of which: pages carrying images (scanned)
    furniture: list[str]  # running heads and footers removed, distinct, for metadata inference


def pdf_text(pages: list[PageWords]) -> PdfText:
    """Build the canonical text of a document from the words of its pages."""
    lines = [page_lines(page.words) for page in pages]
    lines, furniture = remove_running_heads(pages, lines)
    vocab = vocabulary(_line_text(line) for page in lines for line in page)
    paragraphs = _paragraphs(lines)
    text, spans = assemble(paragraphs, vocab, len(pages))
    empty = [p.number for p, page in zip(pages, lines) if not page]
    scanned = [p.number for p, page in zip(pages, lines) if not page and p.has_images]
    return PdfText(text, spans, empty, scanned, list(dict.fromkeys(furniture)))


_DETACHED_HYPHEN = re.compile(r"(?<=[^\W\d_])\s+([-‐])$")


def _line_text(line: Line) -> str:
    # Some producers place a line-end hyphen a little apart from its word.
    text = line.text
    return _DETACHED_HYPHEN.sub(r"\1", text) if text.endswith(("-", "‐")) else text


def _key(text: str) -> str:
    return _DIGITS.sub("#", " ".join(text.lower().split()))


def _pieces(line: Line) -> list[str]:
    """Split a line at wide gaps: a footer and a page number may share one line."""
    pieces: list[list[str]] = [[]]
    for before, word in zip([None, *line.words], line.words):
        if before is not None and word.x0 - before.x1 > 2.5 * max(line.size, 1.0):
            pieces.append([])
        pieces[-1].append(word.text)
    return [" ".join(p) for p in pieces]


def remove_running_heads(
    pages: list[PageWords], lines: list[list[Line]]
) -> tuple[list[list[Line]], list[str]]:
    """Drop running headers, footers and page numbers; return the kept lines and the dropped text.

    A line near the top or bottom edge goes if each of its pieces is a bare page number ("7",
    "- 7 -", "Page 7 of 9") or text (digits ignored) found near the same edge on at least half
    the pages; on a single page, if it is the outermost line, set in a smaller type than the body
    and well apart from it.
    """
    body = _body_size(lines)
    candidates: list[dict[int, tuple[str, list[str]]]] = []
    seen: Counter[str] = Counter()
    for page, page_lines_ in zip(pages, lines):
        edge: dict[int, tuple[str, list[str]]] = {}
        by_height = sorted(range(len(page_lines_)), key=lambda i: page_lines_[i].top)
        zones = (
            (
                "top",
                [
                    i
                    for i in by_height[:EDGE_LINES]
                    if page_lines_[i].bottom <= EDGE_ZONE * page.height
                ],
            ),
            (
                "bottom",
                [
                    i
                    for i in by_height[-EDGE_LINES:]
                    if page_lines_[i].top >= (1 - EDGE_ZONE) * page.height
                ],
            ),
        )
        for zone, indices in zones:
            for i in indices:
                edge[i] = (zone, [f"{zone}:{_key(p)}" for p in _pieces(page_lines_[i])])
        candidates.append(edge)
        seen.update({key for _, keys in edge.values() for key in keys})
    text_pages = sum(1 for page in lines if page)
    needed = max(2, math.ceil(0.5 * text_pages))
    kept: list[list[Line]] = []
    dropped: list[str] = []
    for page, page_lines_, edge in zip(pages, lines, candidates):
        drop = set()
        for i, (zone, keys) in edge.items():
            line = page_lines_[i]
            repeated = text_pages >= 2 and all(
                seen[key] >= needed or PAGE_NUMBER.match(key.split(":", 1)[1]) for key in keys
            )
            if (
                PAGE_NUMBER.match(line.text)
                or repeated
                or _lone_small_edge_line(line, zone, page, page_lines_, body)
            ):
                drop.add(i)
        kept.append([line for i, line in enumerate(page_lines_) if i not in drop])
        dropped.extend(page_lines_[i].text for i in sorted(drop))
    return kept, dropped


def _body_size(lines: list[list[Line]]) -> float:
    weight: Counter[float] = Counter()
    for page in lines:
        for line in page:
            weight[round(line.size, 1)] += len(line.text)
    return weight.most_common(1)[0][0] if weight else 0.0


def _lone_small_edge_line(
    line: Line, zone: str, page: PageWords, page_lines_: list[Line], body: float
) -> bool:
    if not body or line.size > 0.85 * body or len(page_lines_) < 3:
        return False
    others = [o for o in page_lines_ if o is not line and not PAGE_NUMBER.match(o.text)]
    if not others:
        return False
    if zone == "top":
        if line.bottom > 0.08 * page.height or any(o.top < line.top for o in others):
            return False
        gap = min(o.top for o in others) - line.bottom
    else:
        if line.top < 0.92 * page.height or any(o.bottom > line.bottom for o in others):
            return False
        gap = line.top - max(o.bottom for o in others)
    return gap > 1.5 * body


def _paragraphs(pages: list[list[Line]]) -> list[list[tuple[int, str]]]:
    """Group lines into paragraphs, which may run across column and page breaks."""
    pitch = _typical_pitch(pages)
    body = _body_size(pages)
    paragraphs: list[list[tuple[int, str]]] = []
    previous: Line | None = None
    for page_index, page in enumerate(pages):
        for line_index, line in enumerate(page):
            jump = line_index == 0 or line.block_start
            if previous is None or _breaks(previous, line, jump, pitch, body):
                paragraphs.append([])
            paragraphs[-1].append((page_index, _line_text(line)))
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


def _breaks(prev: Line, line: Line, jump: bool, pitch: float, body: float) -> bool:
    """Decide whether ``line`` starts a new paragraph after ``prev``."""
    text = line.text
    heading = prev.size > 1.05 * body and abs(prev.size - line.size) < 0.1
    if heading and not jump and line.top - prev.bottom < 0.8 * prev.size:
        return False  # the second line of a wrapped heading
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
