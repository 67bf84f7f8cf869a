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

from pipeline.ingest.words import Word, has_rtl, logical_order

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
    lines: list[Line] = []
    if not words:
        return lines
    grid = _Grid.of(words)
    usable = (grid.bottom > grid.top) & (grid.x1 >= grid.x0)
    if not usable.all():
        if not usable.any():
            return lines
        grid = grid.part(np.flatnonzero(usable))
    _read_region(grid, lines, depth=0)
    return lines


def _read_region(grid: _Grid, out: list[Line], depth: int) -> None:
    gutter = _find_gutter(grid) if depth < MAX_DEPTH else None
    if gutter is None:
        out.extend(_lines(grid.words, grid.x0, grid.x1, grid.top, grid.bottom))
        return
    for columned, band in _bands(grid, gutter):
        if not columned:
            words = [grid.words[i] for i in band.tolist()]
            out.extend(
                _lines(words, grid.x0[band], grid.x1[band], grid.top[band], grid.bottom[band])
            )
            continue
        on_left = grid.x1[band] <= gutter
        for part in (band[on_left], band[~on_left]):
            if len(part):
                _read_region(grid.part(part), out, depth + 1)


@dataclass(slots=True)
class _Grid:
    """The words of a region and their boxes as arrays, each word assigned to a horizontal
    strip about one line pitch high (columns rarely share baselines; a strip a little taller
    than a word catches a line from each), and the half width of the window a gutter must
    keep clear."""

    words: list[Word]
    x0: np.ndarray
    x1: np.ndarray
    top: np.ndarray
    bottom: np.ndarray
    size: np.ndarray
    strip: np.ndarray = field(init=False)
    n_strips: int = field(init=False)
    half: int = field(init=False)

    def __post_init__(self) -> None:
        heights = self.bottom - self.top
        step = max(1.6 * _median(heights), 2.0)
        middles = (self.top + self.bottom) / 2
        self.strip = ((middles - middles.min()) / step).astype(np.int64)
        self.n_strips = int(self.strip.max()) + 1
        self.half = max(3, round(0.35 * _median(np.where(self.size != 0, self.size, heights))))

    @classmethod
    def of(cls, words: list[Word]) -> _Grid:
        n = len(words)
        return cls(
            words,
            np.fromiter([w.x0 for w in words], dtype=np.float64, count=n),
            np.fromiter([w.x1 for w in words], dtype=np.float64, count=n),
            np.fromiter([w.top for w in words], dtype=np.float64, count=n),
            np.fromiter([w.bottom for w in words], dtype=np.float64, count=n),
            np.fromiter([w.size for w in words], dtype=np.float64, count=n),
        )

    def part(self, indices: np.ndarray) -> _Grid:
        """The grid of some of the words (in the order given), strips drawn afresh."""
        words = self.words
        return _Grid(
            [words[i] for i in indices.tolist()],
            self.x0[indices],
            self.x1[indices],
            self.top[indices],
            self.bottom[indices],
            self.size[indices],
        )


def _median(values: np.ndarray) -> float:
    """The median, as ``statistics.median`` gives it; far cheaper than ``np.median`` on the
    few hundred values of a page region."""
    ordered = np.sort(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return float((ordered[middle - 1] + ordered[middle]) / 2)


def find_gutter(words: list[Word]) -> float | None:
    """Return the x position of the strongest column gutter among ``words``, or None."""
    return _find_gutter(_Grid.of(words)) if words else None


def _find_gutter(grid: _Grid) -> float | None:
    x_start = float(grid.x0.min())
    width = float(grid.x1.max()) - x_start
    if width < MIN_REGION_WIDTH or len(grid.words) < 6:
        return None
    n_strips, n_bins = grid.n_strips, int(width) + 2
    # Each word covers bins [x0, x1] of its strip: +1 where it starts, -1 past its end.
    edges = np.zeros((n_strips, n_bins + 1), dtype=np.int32)
    np.add.at(edges, (grid.strip, (grid.x0 - x_start).astype(np.int64)), 1)
    np.add.at(edges, (grid.strip, (grid.x1 - x_start).astype(np.int64) + 1), -1)
    covered = np.cumsum(edges[:, :n_bins], axis=1) > 0
    half = grid.half
    # counts[r, b] = covered bins in [0, b) of strip r, for window sums in O(1); padded with
    # copies of its first and last column so that the window [b - half, b + half] of every bin
    # is two slices: at_lo[:, b] = counts[:, max(b - half, 0)], at_hi[:, b] = counts[:,
    # min(b + half + 1, n_bins)].
    padded = np.zeros((n_strips, n_bins + 2 * half + 1), dtype=np.int32)
    counts = padded[:, half : half + n_bins + 1]
    np.cumsum(covered, axis=1, out=counts[:, 1:])
    padded[:, half + n_bins + 1 :] = counts[:, -1:]
    at_lo = padded[:, :n_bins]
    at_hi = padded[:, 2 * half + 1 :]
    crossing = (at_hi - at_lo) > 0
    left = at_lo > 0
    right = (counts[:, -1:] - at_hi) > 0
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


def _bands(grid: _Grid, gutter: float) -> list[tuple[bool, np.ndarray]]:
    """Cut a region into vertical runs of columned and full-width strips, top to bottom.

    Returns each band as the indices of its words in the grid, strip by strip.
    """
    n_strips, half = grid.n_strips, grid.half
    members: list[list[int]] = [[] for _ in range(n_strips)]
    for index, strip in enumerate(grid.strip.tolist()):
        members[strip].append(index)
    across = (grid.x0 < gutter + half) & (grid.x1 > gutter - half)
    on_left = grid.x1 <= gutter
    crossing = _strips_with(grid, across)
    has_left = _strips_with(grid, ~across & on_left)
    has_right = _strips_with(grid, ~across & ~on_left)
    bands: list[tuple[bool, list[int]]] = []
    run: list[int] = []

    def flush_run() -> None:
        evidence = sum(1 for s in run if has_left[s] and has_right[s])
        lines = sum(1 for s in run if members[s])
        band = [i for s in run for i in members[s]]
        if band:
            columned = evidence >= 2 or (evidence >= 1 and lines >= LONG_CLEAN_RUN)
            _append(bands, columned, band)
        run.clear()

    for strip in range(n_strips):
        if crossing[strip]:
            flush_run()
            _append(bands, False, members[strip])
        else:
            run.append(strip)
    flush_run()
    return [(columned, np.array(band, dtype=np.int64)) for columned, band in bands]


def _strips_with(grid: _Grid, chosen: np.ndarray) -> list[bool]:
    """Per strip, whether any of the ``chosen`` words lies in it."""
    flags = np.zeros(grid.n_strips, dtype=bool)
    flags[grid.strip[chosen]] = True
    return flags.tolist()


def _append(bands: list[tuple[bool, list[int]]], columned: bool, members: list[int]) -> None:
    if bands and not columned and not bands[-1][0]:
        bands[-1][1].extend(members)
    else:
        bands.append((columned, list(members)))


def _lines(
    words: list[Word], x0: np.ndarray, x1: np.ndarray, top: np.ndarray, bottom: np.ndarray
) -> list[Line]:
    """Group the words of one column (or band) into lines, top to bottom.

    The arrays hold the words' boxes; words are taken by the middle of their height, then
    from the left (a stable sort: ties keep the order given).
    """
    col_x0 = float(x0.min())
    tops, bottoms, ends_x = top.tolist(), bottom.tolist(), x1.tolist()
    groups: list[list[Word]] = []
    extents: list[tuple[float, float, float]] = []  # top, bottom and right end of each group
    line_top = line_bottom = line_right = 0.0
    for i in np.lexsort((x0, top + bottom)).tolist():
        w_top, w_bottom, w_right = tops[i], bottoms[i], ends_x[i]
        if groups:
            overlap = (line_bottom if line_bottom < w_bottom else w_bottom) - (
                line_top if line_top > w_top else w_top
            )
            shorter = (
                line_bottom - line_top
                if line_bottom - line_top < w_bottom - w_top
                else w_bottom - w_top
            )
            if overlap >= 0.5 * shorter:
                groups[-1].append(words[i])
                if w_top < line_top:
                    line_top = w_top
                if w_bottom > line_bottom:
                    line_bottom = w_bottom
                if w_right > line_right:
                    line_right = w_right
                extents[-1] = (line_top, line_bottom, line_right)
                continue
        groups.append([words[i]])
        extents.append((w_top, w_bottom, w_right))
        line_top, line_bottom, line_right = w_top, w_bottom, w_right
    # The column's right edge is where most lines end: a stray page number or footer sitting in
    # the same band must not make every body line look short.
    ends = sorted(extent[2] for extent in extents)
    col_x1 = ends[int(0.8 * (len(ends) - 1))] if len(ends) >= 4 else ends[-1]
    rtl = has_rtl("".join([w.text for w in words]))  # else no line needs reordering
    lines = []
    for group, (upper, lower, right) in zip(groups, extents):
        group.sort(key=_X0)
        left = group[0].x0
        if rtl:
            group[:] = logical_order(group)
        lines.append(Line(group, left, right, upper, lower, _dominant_size(group), col_x0, col_x1))
    if lines:
        lines[0].block_start = True
    return lines


_X0 = attrgetter("x0")


def _dominant_size(words: list[Word]) -> float:
    first = words[0].size
    if all(word.size == first for word in words):
        return first
    weight: dict[float, int] = {}
    for word in words:
        key = round(word.size, 1)
        weight[key] = weight.get(key, 0) + len(word.text)
    return max(weight, key=lambda k: weight[k])
