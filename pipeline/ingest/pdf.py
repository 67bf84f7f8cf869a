"""Read positioned words out of PDF pages.

Two engines produce the same :class:`~pipeline.ingest.words.PageWords`, so the layout code that
turns words into reading-order text is shared:

* ``pdfium`` (default) reads PDFium's character boxes through pypdfium2, which pdfplumber itself
  depends on. It is an order of magnitude faster than parsing content streams in Python
  (``bench/ingest.py`` measures it).
* ``pdfplumber`` uses pdfplumber's word extraction (pdfminer.six). Slower, but a second, independent
  reading of the file; it is the reference in tests and the fallback when PDFium cannot read a
  file that pdfminer can.
"""

from __future__ import annotations

import ctypes
import itertools
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from pipeline.ingest.words import PageWords, Word, has_rtl, is_rtl

ENGINES = ("pdfium", "pdfplumber")
_SPACES = frozenset(" \t\r\n\x00\xa0\u2002\u2003\u2009\u200b\u3000\ufeff")
# PDFium reports a hyphen it believes to be soft as U+0002.
_HYPHENS = {"\x02": "-", "\xad": "-", "\ufffe": "-"}
_HYPHEN_TABLE = str.maketrans(_HYPHENS)


def _unchecked(function: Any) -> Callable[..., int]:
    """Return the same PDFium entry point without ctypes' per-call argument conversion.

    The binding converts and checks each argument on every call, which costs more than the call
    itself when it is made for every word of a drop. Callers must pass exactly the C types:
    a ``c_void_p`` handle, a Python int for an index, ``byref`` for an out-parameter.
    """
    address = ctypes.cast(function, ctypes.c_void_p).value
    if address is None:
        raise RuntimeError("PDFium's library has no such function")
    unchecked = ctypes.CFUNCTYPE(ctypes.c_int)(address)
    unchecked.argtypes = None  # type: ignore[assignment]  # None: pass the arguments as given
    return unchecked


# (text page, char index, out FS_RECTF) -> bool: the loose box of one character.
_GET_BOX = _unchecked(pdfium_c.FPDFText_GetLooseCharBox)
# (text page, char index) -> 1 if PDFium inserted the character (a space or line break), else 0.
_IS_GENERATED = _unchecked(pdfium_c.FPDFText_IsGenerated)


class PdfOpenError(Exception):
    """The PDF cannot be opened; ``reason`` is 'encrypted' or 'corrupt'."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def damage(exc: BaseException) -> str | None:
    """Say how a PDF is damaged if ``exc`` is a parser giving up on it, else None (a bug).

    PDFium errors, pdfminer's syntax errors and recursion without end (a page tree or an object
    that contains itself) are damage in the file, not failures of dshift.
    """
    if isinstance(exc, RecursionError):
        return "its structure nests without end (a page tree or an object that contains itself)"
    if isinstance(exc, pdfium.PdfiumError):
        return f"PDFium: {exc}"
    from pdfminer.psexceptions import PSException

    if isinstance(exc, PSException):
        return f"pdfminer: {type(exc).__name__}: {exc}".rstrip(": ")
    return None


def open_pdf(path: Path) -> pdfium.PdfDocument:
    """Open a PDF with PDFium, mapping its failures to :class:`PdfOpenError`."""
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        message = str(exc)
        reason = "encrypted" if "password" in message.lower() else "corrupt"
        raise PdfOpenError(reason, message) from exc


def pdf_info(doc: pdfium.PdfDocument) -> dict[str, str]:
    """Return the non-empty entries of the PDF's info dictionary (Title, Author...)."""
    try:
        raw = doc.get_metadata_dict(skip_empty=True)
    except Exception:  # a damaged info dictionary must not lose the document
        return {}
    return {key: " ".join(str(value).split()) for key, value in raw.items() if str(value).strip()}


def pdfium_pages(doc: pdfium.PdfDocument, limit: int | None = None) -> Iterator[PageWords]:
    """Yield the words of each page, read through PDFium."""
    count = len(doc) if limit is None else min(limit, len(doc))
    for index in range(count):
        try:
            page = doc[index]
        except pdfium.PdfiumError as exc:
            raise pdfium.PdfiumError(f"page {index + 1} cannot be loaded ({exc})") from exc
        try:
            yield _pdfium_page(page, index + 1)
        finally:
            page.close()


def _pdfium_page(page: pdfium.PdfPage, number: int) -> PageWords:
    width, height = page.get_size()
    textpage = page.get_textpage()
    try:
        rotation = _text_rotation(textpage)
        words = _pdfium_words(textpage, width, height, rotation)
    finally:
        textpage.close()
    if rotation in (90, 270):
        width, height = height, width
    has_images = False
    if len(words) < 8:  # no text, or only a stamp or page number: is the page a picture?
        has_images = any(
            True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2)
        )
    return PageWords(number, width, height, words, has_images)


def _text_rotation(textpage: pdfium.PdfTextPage, sample: int = 80) -> int:
    """Return how far to turn the page so that its text reads left to right: 0, 90 or 270.

    Reading follows the text, not the page's /Rotate flag: a page flagged as rotated may carry
    horizontal text (it then shows sideways), and an upright page may carry text drawn turned.
    """
    handle = ctypes.cast(textpage.raw, ctypes.c_void_p)
    count = min(pdfium_c.FPDFText_CountChars(textpage.raw), sample)
    box = pdfium_c.FS_RECTF()
    ref = ctypes.byref(box)
    centres = []
    for i in range(count):
        if _IS_GENERATED(handle, i) == 1:
            continue
        _GET_BOX(handle, i, ref)
        centres.append(((box.left + box.right) / 2, (box.top + box.bottom) / 2))
    along_x = along_up = along_down = 0
    for (x0, y0), (x1, y1) in itertools.pairwise(centres):
        dx, dy = x1 - x0, y1 - y0
        if abs(dx) >= abs(dy):
            along_x += 1
        elif dy > 0:
            along_up += 1
        else:
            along_down += 1
    if along_x >= along_up + along_down:
        return 0
    return 90 if along_up >= along_down else 270


def _page_text(handle: object, count: int) -> str:
    buffer = (ctypes.c_ushort * (count + 1))()
    written = pdfium_c.FPDFText_GetText(handle, 0, count, buffer)
    text = bytes(memoryview(buffer).cast("B")[: max(written - 1, 0) * 2]).decode(
        "utf-16-le", errors="replace"
    )
    if len(text) == count:
        return text
    # Characters outside the BMP or excluded characters shift the text view: ask char by char.
    return "".join(chr(pdfium_c.FPDFText_GetUnicode(handle, i) or 0xFFFD) for i in range(count))


_RUN = re.compile("[^" + re.escape("".join(sorted(_SPACES))) + "]+")
_LONG_RUN = 24  # characters; longer runs may hide gaps or line jumps, so look at every glyph


def _pdfium_words(
    textpage: pdfium.PdfTextPage, width: float, height: float, rotation: int
) -> list[Word]:
    """Cut the page text into words and place each by the boxes of its first and last glyph.

    PDFium puts spaces and line breaks into its text where glyphs are apart, so the runs between
    them are words; two box look-ups per word instead of one per glyph make this the fastest way
    to positioned words. A run whose end glyphs do not sit on one line, or a long run, is placed
    glyph by glyph instead. The end glyphs' boxes are fetched into one array and compared for
    all words at once.
    """
    handle = textpage.raw
    count = pdfium_c.FPDFText_CountChars(handle)
    if count <= 0:
        return []
    text = _page_text(handle, count)
    spans = [run.span() for run in _RUN.finditer(text)]
    boxes = _Boxes(handle, width, height, rotation)
    check_rtl = has_rtl(text)
    sizes: dict[float, float] = {}  # loose box height -> font size: one look-up per style
    words: list[Word] = []
    for (start, end), (x0, x1, top, bottom, first_height, forward, ok) in zip(
        spans, _place_by_ends(handle, spans, width, height, rotation)
    ):
        if not ok:
            words.extend(_words_glyph_by_glyph(text, start, end, boxes, handle))
            continue
        chars = text[start:end]
        if check_rtl and forward and is_rtl(chars):
            chars = chars[::-1]  # right-to-left glyphs stored in visual order
        if chars[-1] in _HYPHENS:
            chars = chars.translate(_HYPHEN_TABLE)
        size = sizes.get(first_height)
        if size is None:
            size = sizes[first_height] = pdfium_c.FPDFText_GetFontSize(handle, start)
        words.append(Word(chars, x0, x1, top, bottom, size))
    return words


def _place_by_ends(
    handle: Any, runs: list[tuple[int, int]], width: float, height: float, rotation: int
) -> Iterator[tuple[float, float, float, float, float, bool, bool]]:
    """For each run: its box from its first and last glyph (x0, x1, top, bottom), the height
    of the first glyph, whether the last glyph lies right of the first, and whether the run is
    short and both glyphs have an extent and sit on one line (else the run must be read glyph
    by glyph)."""
    if not runs:
        return iter(())
    rects = (pdfium_c.FS_RECTF * (2 * len(runs)))()
    page, get_box, byref = ctypes.cast(handle, ctypes.c_void_p), _GET_BOX, ctypes.byref
    offset = 0
    step = ctypes.sizeof(pdfium_c.FS_RECTF)
    for start, end in runs:
        get_box(page, start, byref(rects, offset))
        get_box(page, end - 1, byref(rects, offset + step))
        offset += 2 * step
    # FS_RECTF is (left, top, right, bottom) in float, PDF space (y up).
    raw = np.frombuffer(rects, dtype=np.float32).astype(np.float64).reshape(len(runs), 2, 4)
    a0, a1, at, ab = _display(
        raw[:, 0, 0], raw[:, 0, 2], raw[:, 0, 1], raw[:, 0, 3], width, height, rotation
    )
    b0, b1, bt, bb = _display(
        raw[:, 1, 0], raw[:, 1, 2], raw[:, 1, 1], raw[:, 1, 3], width, height, rotation
    )
    a_height, b_height = ab - at, bb - bt
    overlap = np.minimum(ab, bb) - np.maximum(at, bt)
    lengths = np.fromiter([end - start for start, end in runs], dtype=np.int64, count=len(runs))
    ok = (
        (lengths <= _LONG_RUN)
        & ((a1 > a0) | (a_height > 0))
        & ((b1 > b0) | (b_height > 0))
        & (overlap >= 0.5 * np.minimum(a_height, b_height))
    )
    return zip(
        np.minimum(a0, b0).tolist(),
        np.maximum(a1, b1).tolist(),
        np.minimum(at, bt).tolist(),
        np.maximum(ab, bb).tolist(),
        a_height.tolist(),
        (b0 > a0).tolist(),
        ok.tolist(),
    )


Box = tuple[float, float, float, float]  # x0, x1, top, bottom in display space


class _Boxes:
    """Loose glyph boxes of one text page, in display coordinates."""

    def __init__(self, handle: Any, width: float, height: float, rotation: int) -> None:
        self.width, self.height, self.rotation = width, height, rotation
        self.box = pdfium_c.FS_RECTF()
        self.ref = ctypes.byref(self.box)
        self.page = ctypes.cast(handle, ctypes.c_void_p)

    def __call__(self, index: int) -> Box:
        _GET_BOX(self.page, index, self.ref)
        return _display_box(self.box, self.width, self.height, self.rotation)


def _words_glyph_by_glyph(
    text: str, start: int, end: int, boxes: _Boxes, handle: object
) -> list[Word]:
    """Split a run into words at gaps and line jumps, looking at every glyph's box."""
    words: list[Word] = []
    chars: list[str] = []
    x0 = x1 = top = bottom = last_left = 0.0
    first = steps = 0  # steps: +1 per glyph placed right of the previous one, -1 left of it

    def flush() -> None:
        word = "".join(chars)
        if steps > 0 and is_rtl(word):
            word = word[::-1]  # right-to-left glyphs stored in visual (left-to-right) order
        words.append(Word(word, x0, x1, top, bottom, pdfium_c.FPDFText_GetFontSize(handle, first)))
        chars.clear()

    for i in range(start, end):
        left, right, upper, lower = boxes(i)
        if right <= left and lower <= upper:
            continue  # a generated or invisible character with no extent
        if chars and (left - x1 > 0.25 * (bottom - top) or upper > bottom or lower < top):
            flush()  # a gap or a jump to another line inside one run: a word boundary
        if not chars:
            x0, x1, top, bottom, first, steps = left, right, upper, lower, i, 0
        else:
            steps += 1 if left > last_left else -1 if left < last_left else 0
            x0, x1 = min(x0, left), max(x1, right)
            top, bottom = min(top, upper), max(bottom, lower)
        last_left = left
        chars.append(_HYPHENS.get(text[i], text[i]))
    if chars:
        flush()
    return words


def _display_box(
    box: pdfium_c.FS_RECTF, width: float, height: float, rotation: int
) -> tuple[float, float, float, float]:
    """Map a PDF-space box (y up) to display space (y down) as (x0, x1, top, bottom)."""
    return _display(box.left, box.right, box.top, box.bottom, width, height, rotation)


def _display(
    left: Any, right: Any, upper: Any, lower: Any, width: float, height: float, rotation: int
) -> tuple[Any, Any, Any, Any]:
    """Map PDF-space edges (y up; numbers or arrays) to display space: x0, x1, top, bottom."""
    if rotation == 0:
        return left, right, height - upper, height - lower
    if rotation == 90:
        return lower, upper, left, right
    if rotation == 180:
        return width - right, width - left, lower, upper
    return height - upper, height - lower, width - right, width - left


def pdfplumber_pages(path: Path, limit: int | None = None) -> Iterator[PageWords]:
    """Yield the words of each page, read through pdfplumber (pdfminer.six)."""
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        for page in pdf.pages[:limit]:
            raw_words = page.extract_words(keep_blank_chars=False, extra_attrs=["size"])
            words = [
                Word(
                    w["text"],
                    float(w["x0"]),
                    float(w["x1"]),
                    float(w["top"]),
                    float(w["bottom"]),
                    float(w["size"]),
                )
                for w in raw_words
            ]
            has_images = not words and bool(page.images)
            yield PageWords(
                page.page_number, float(page.width), float(page.height), words, has_images
            )
            page.close()
