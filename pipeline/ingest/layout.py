"""Turn the positioned words of one page into lines in reading order.

Columns are found from the words themselves, not from page templates: a *gutter* is an x position
that, over several consecutive horizontal strips of the page, has text on both sides and none on
it. The page is then cut into bands of full-width text and bands of columns; columns are read
left to right, each top to bottom, and the search recurses inside each column (three-column
pages, a table inside a column). Pure functions, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter

import numpy as np

from pipeline.ingest.words import Word, logical_order

MAX_DEPTH = 4
MIN_REGION_WIDTH = 60.0  # points; narrower regions are never split into columns
LONG_CLEAN_RUN = 8  # lines; a gap kept clear this long is a gutter even with little text beside it


@dataclass(slots=True)
class Line:
    """One line of text in reading order, with the geometry the paragraph logic needs.

    Attributes:
        words: the words of the line, left to right.
        col_x0, col_x1: horizontal extent of the column (or full-width band) holding the line.
        block_start: True for the first line of a column or band, where reading jumps.
    """

    words: list[Word]
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    col_x0: float
    col_x1: float
    block_start: bool = False
    text: str = field(init=False)

    def __post_init__(self) -> None:
        self.text = " ".join(word.text for word in self.words)


def page_lines(words: list[Word]) -> list[Line]:
    """Return the lines of a page in reading order."""
    usable = [w for w in words if w.bottom > w.top and w.x1 >= w.x0]
    lines: list[Line] = []
    if usable:
        _read_region(usable, lines, depth=0)
    return lines


def _read_region(words: list[Word], out: list[Line], depth: int) -> None:
    grid = _Grid.of(words)
    gutter = _find_gutter(words, grid) if depth < MAX_DEPTH else None
    if gutter is None:
        out.extend(_lines(words))
        return
    for columned, band in _bands(words, gutter, grid):
        if not columned:
            out.extend(_lines(band))
            continue
        left = [w for w in band if w.x1 <= gutter]
        right = [w for w in band if w.x1 > gutter]
        for part in (left, right):
            if part:
                _read_region(part, out, depth + 1)


@dataclass(slots=True)
class _Grid:
    """The words of a region as arrays, each assigned to a horizontal strip about one line
    pitch high (columns rarely share baselines; a strip a little taller than a word catches a
    line from each), and the half width of the window a gutter must keep clear."""

    x0: np.ndarray
    x1: np.ndarray
    strip: np.ndarray
    n_strips: int
    half: int

    @classmethod
    def of(cls, words: list[Word]) -> _Grid:
        n = len(words)
        x0 = np.fromiter([w.x0 for w in words], dtype=np.float64, count=n)
        x1 = np.fromiter([w.x1 for w in words], dtype=np.float64, count=n)
        top = np.fromiter([w.top for w in words], dtype=np.float64, count=n)
        bottom = np.fromiter([w.bottom for w in words], dtype=np.float64, count=n)
        size = np.fromiter([w.size for w in words], dtype=np.float64, count=n)
        heights = bottom - top
        step = max(1.6 * float(np.median(heights)), 2.0)
        middles = (top + bottom) / 2
        strip = ((middles - middles.min()) / step).astype(np.int64)
        half = max(3, round(0.35 * float(np.median(np.where(size != 0, size, heights)))))
        return cls(x0, x1, strip, int(strip.max()) + 1, half)


def find_gutter(words: list[Word]) -> float | None:
    """Return the x position of the strongest column gutter among ``words``, or None."""
    return _find_gutter(words, _Grid.of(words)) if words else None


def _find_gutter(words: list[Word], grid: _Grid) -> float | None:
    x_start = float(grid.x0.min())
    width = float(grid.x1.max()) - x_start
    if width < MIN_REGION_WIDTH or len(words) < 6:
        return None
    n_strips, n_bins = grid.n_strips, int(width) + 2
    # Each word covers bins [x0, x1] of its strip: +1 where it starts, -1 past its end.
    edges = np.zeros((n_strips, n_bins + 1), dtype=np.int32)
    np.add.at(edges, (grid.strip, (grid.x0 - x_start).astype(np.int64)), 1)
    np.add.at(edges, (grid.strip, (grid.x1 - x_start).astype(np.int64) + 1), -1)
    covered = np.cumsum(edges[:, :n_bins], axis=1) > 0
    half = grid.half
    # counts[r, b] = covered bins in [0, b) of strip r, for window sums in O(1).
    counts = np.zeros((n_strips, n_bins + 1), dtype=np.int32)
    np.cumsum(covered, axis=1, out=counts[:, 1:])
    bins = np.arange(n_bins)
    lo = np.clip(bins - half, 0, n_bins)
    hi = np.clip(bins + half + 1, 0, n_bins)
    crossing = (counts[:, hi] - counts[:, lo]) > 0
    left = counts[:, lo] > 0
    right = (counts[:, -1:] - counts[:, hi]) > 0
    both = left & right & ~crossing
    nonempty = counts[:, -1] > 0
    # A river of spaces in justified text rarely lines up over more than three lines; a real
    # gutter does over the whole band. A band may hold only a few two-sided lines (the end of a
    # document in the right column) but then its gap stays clean over many lines of the left.
    threshold = max(3, min(6, 0.15 * int(nonempty.sum())))
    best = _best_runs(crossing[nonempty], both[nonempty], threshold)
    margin = int(0.08 * width)
    best[: margin + half] = 0
    best[n_bins - margin - half :] = 0
    top = int(best.max())
    if top == 0:
        return None
    # Centre of the plateau of best bins around the first maximum: the middle of the gutter.
    start = int(np.argmax(best))
    end = start
    while end + 1 < n_bins and best[end + 1] == top:
        end += 1
    return x_start + (start + end) / 2


def _best_runs(crossing: np.ndarray, both: np.ndarray, threshold: float) -> np.ndarray:
    """Per bin, the longest credible run of two-sided lines down the strips (rows), a run
    broken by a strip whose text crosses the bin: at least ``threshold`` lines, or one line in
    a gap clean over :data:`LONG_CLEAN_RUN` strips.

    All strips at once: a run at strip i counts the two-sided strips since the last crossing
    one at or above it (cumulative sums, less their value at that strip), and the clean stretch
    is the number of strips since it.
    """
    if not len(both):
        return np.zeros(both.shape[1], dtype=np.int32)
    strips = np.arange(len(both))[:, None]
    last_cross = np.maximum.accumulate(np.where(crossing, strips, -1), axis=0)
    sums = np.cumsum(both, axis=0, dtype=np.int32)
    before = np.take_along_axis(sums, np.maximum(last_cross, 0), axis=0)
    run = sums - np.where(last_cross >= 0, before, 0)
    clean = strips - last_cross
    credible = (run >= threshold) | ((run >= 1) & (clean >= LONG_CLEAN_RUN))
    return np.where(credible, run, 0).max(axis=0).astype(np.int32)


def _bands(words: list[Word], gutter: float, grid: _Grid) -> list[tuple[bool, list[Word]]]:
    """Cut a region into vertical runs of columned and full-width strips, top to bottom."""
    strip_of, n_strips, half = grid.strip.tolist(), grid.n_strips, grid.half
    crossing = [False] * n_strips
    has_left = [False] * n_strips
    has_right = [False] * n_strips
    members: list[list[Word]] = [[] for _ in range(n_strips)]
    for word, strip in zip(words, strip_of):
        members[strip].append(word)
        if word.x0 < gutter + half and word.x1 > gutter - half:
            crossing[strip] = True
        elif word.x1 <= gutter:
            has_left[strip] = True
        else:
            has_right[strip] = True
    bands: list[tuple[bool, list[Word]]] = []
    run: list[int] = []

    def flush_run() -> None:
        evidence = sum(1 for s in run if has_left[s] and has_right[s])
        lines = sum(1 for s in run if members[s])
        band_words = [w for s in run for w in members[s]]
        if band_words:
            columned = evidence >= 2 or (evidence >= 1 and lines >= LONG_CLEAN_RUN)
            _append(bands, columned, band_words)
        run.clear()

    for strip in range(n_strips):
        if crossing[strip]:
            flush_run()
            _append(bands, False, members[strip])
        else:
            run.append(strip)
    flush_run()
    return bands


def _append(bands: list[tuple[bool, list[Word]]], columned: bool, words: list[Word]) -> None:
    if bands and not columned and not bands[-1][0]:
        bands[-1][1].extend(words)
    else:
        bands.append((columned, list(words)))


def _lines(words: list[Word]) -> list[Line]:
    """Group the words of one column (or band) into lines, top to bottom."""
    col_x0 = min([w.x0 for w in words])
    groups: list[list[Word]] = []
    extents: list[tuple[float, float]] = []  # top and bottom of each group
    top = bottom = 0.0
    for word in sorted(words, key=_reading_key):
        w_top, w_bottom = word.top, word.bottom
        if groups:
            overlap = (bottom if bottom < w_bottom else w_bottom) - (top if top > w_top else w_top)
            shorter = bottom - top if bottom - top < w_bottom - w_top else w_bottom - w_top
            if overlap >= 0.5 * shorter:
                groups[-1].append(word)
                if w_top < top:
                    top = w_top
                if w_bottom > bottom:
                    bottom = w_bottom
                extents[-1] = (top, bottom)
                continue
        groups.append([word])
        extents.append((w_top, w_bottom))
        top, bottom = w_top, w_bottom
    rights = [max([w.x1 for w in group]) for group in groups]
    # The column's right edge is where most lines end: a stray page number or footer sitting in
    # the same band must not make every body line look short.
    ends = sorted(rights)
    col_x1 = ends[int(0.8 * (len(ends) - 1))] if len(ends) >= 4 else ends[-1]
    lines = []
    for group, (top, bottom), right in zip(groups, extents, rights):
        group.sort(key=_X0)
        left = group[0].x0
        group[:] = logical_order(group)
        lines.append(Line(group, left, right, top, bottom, _dominant_size(group), col_x0, col_x1))
    if lines:
        lines[0].block_start = True
    return lines


_X0 = attrgetter("x0")


def _reading_key(word: Word) -> tuple[float, float]:
    return (word.top + word.bottom, word.x0)


def _dominant_size(words: list[Word]) -> float:
    first = words[0].size
    if all(word.size == first for word in words):
        return first
    weight: dict[float, int] = {}
    for word in words:
        key = round(word.size, 1)
        weight[key] = weight.get(key, 0) + len(word.text)
    return max(weight, key=lambda k: weight[k])
