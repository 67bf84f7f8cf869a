"""Build the sample corpus drop (``corpus/sample/``) and its ground truth from ``documents/*.md``.

Run from the repository root::

    .venv/bin/python corpus/sample-src/build.py [--force]

Every ``documents/NNN-slug.md`` file (format: ``FORMAT.md``) yields one file of the drop, made by its
``producer``:

* ``reportlab``   -- PDF via reportlab/platypus: A4, justified DejaVu Serif with real pyphen hyphenation,
                     one or two columns, running header/footer and page numbers drawn on every page.
* ``libreoffice`` -- flat ODT (.fodt) with a hyphenating paragraph style, header/footer and page-number
                     field, converted to PDF by ``soffice --headless`` (second PDF producer).
* ``txt``         -- plain text hard-wrapped at ~70 columns, UTF-8 with BOM, CRLF line ends.
* ``html``        -- a saved web page: site header, nav and footer boilerplate around ``<main><article>``.
* ``docx``        -- python-docx with headings, core properties and a section header/footer.

Special documents (ids 090-099) carry a front-matter key ``special:``:

* ``scanned``    -- one-page PDF with no text layer (the text is rendered to a greyish image).
* ``scan-annex`` -- text PDF whose last page is an image-only scan; the body paragraphs after a paragraph
                    consisting of ``%% scanned-annex`` are drawn on that scanned page and are not truth.
* ``encrypted``  -- normal reportlab PDF encrypted with the user password ``dshift-sample``.
* ``corrupt``    -- a reportlab PDF cut at 35 % of its bytes with the tail overwritten (no page recoverable).
* ``duplicate``  -- byte-for-byte copy of another reportlab PDF of the drop; front matter needs only
                    ``id``, ``file``, ``special`` and ``duplicate_of`` (the original's file name); no body.

Outputs:

* ``corpus/sample/<file>`` for every document, plus ``corpus/sample/metadata.csv`` (the drop's sidecar:
  documents with ``sidecar: true``).
* ``corpus/sample-src/truth/<file>.txt`` (body paragraphs, "# " stripped, joined by a blank line, NFC,
  no trailing newline) and ``truth/manifest.csv`` (one row per file of the drop).

The build is incremental: ``.build-state.json`` records, for each output, the sha256 of its source
(plus ``BUILD_VERSION`` and the producer's ``RENDER_VERSIONS`` entry) and of the output itself; an output is only rebuilt when its source changed,
the output is missing or was altered, or with ``--force``.  LibreOffice output is not byte-deterministic,
so it must not be rebuilt needlessly; everything else is deterministic.  Bump a producer's entry in
``RENDER_VERSIONS`` whenever its rendering code changes (``BUILD_VERSION`` to rebuild everything).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import html
import io
import json
import math
import random
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

from reportlab import rl_config

rl_config.invariant = 1  # must precede the other reportlab imports (pdfencrypt reads it at import time)

from PIL import Image, ImageDraw, ImageFilter, ImageFont  # noqa: E402
from reportlab.lib import pdfencrypt  # noqa: E402
from reportlab.lib.enums import TA_JUSTIFY, TA_LEFT  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.styles import ParagraphStyle  # noqa: E402
from reportlab.lib.units import cm  # noqa: E402
from reportlab.lib.utils import ImageReader  # noqa: E402
from reportlab.pdfbase import pdfmetrics  # noqa: E402
from reportlab.pdfbase.ttfonts import TTFont  # noqa: E402
from reportlab.platypus import (  # noqa: E402
    BaseDocTemplate,
    Flowable,
    Frame,
    FrameBreak,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
)

BUILD_VERSION = "sample-build 1"
# Bump the entry of a producer when its rendering code changes (its outputs are then rebuilt).
RENDER_VERSIONS = {"reportlab": "3", "libreoffice": "2", "txt": "1", "html": "2", "docx": "1"}

SRC_DIR = Path(__file__).resolve().parent
DOCS_DIR = SRC_DIR / "documents"
TRUTH_DIR = SRC_DIR / "truth"
STATE_FILE = SRC_DIR / ".build-state.json"
DROP_DIR = SRC_DIR.parent / "sample"

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
# Fallbacks for glyphs DejaVu Serif lacks; Amiri (Debian: fonts-hosny-amiri) covers Urdu letters.
FALLBACK_FONTS = {
    "DejaVuSans": FONT_DIR / "DejaVuSans.ttf",
    "Amiri": Path("/usr/share/fonts/opentype/fonts-hosny-amiri/Amiri-Regular.ttf"),
}
USER_PASSWORD = "dshift-sample"
OWNER_PASSWORD = "dshift-sample-owner"
ANNEX_MARKER = "%% scanned-annex"

PRODUCER_EXTENSIONS = {
    "reportlab": {".pdf"},
    "libreoffice": {".pdf"},
    "txt": {".txt"},
    "html": {".html", ".htm"},
    "docx": {".docx"},
}
PDF_PRODUCERS = {"reportlab", "libreoffice"}
LAYOUTS = {"one-column", "two-column"}
SOURCE_TYPES = {"mofa", "ispr", "treaty", "speech", "other"}
SPECIALS = {"scanned", "scan-annex", "encrypted", "corrupt", "duplicate"}
EXPECTED_BY_SPECIAL = {
    None: "ingest",
    "scanned": "problem:scanned",
    "scan-annex": "warning:scanned-page",
    "encrypted": "problem:encrypted",
    "corrupt": "problem:corrupt",
    "duplicate": "duplicate",
}
KNOWN_KEYS = {"id", "file", "producer", "layout", "source_type", "issuer", "date", "title",
              "header", "footer", "sidecar", "special", "duplicate_of"}
REQUIRED_KEYS = ("id", "file", "producer", "source_type", "issuer", "date", "title")
MANIFEST_COLUMNS = ["file", "id", "producer", "layout", "source_type", "issuer", "date", "title", "pages",
                    "expected", "duplicate_of", "has_header", "has_footer"]
SIDECAR_COLUMNS = ["file", "source_type", "date", "title", "issuer", "language"]


class SourceError(Exception):
    """A problem in one source document (the message names the file)."""


# --------------------------------------------------------------------------------------------------
# Parsing and validation
# --------------------------------------------------------------------------------------------------

@dataclass
class Block:
    text: str
    heading: bool = False


@dataclass
class Doc:
    path: Path
    meta: dict[str, str]
    blocks: list[Block]                                   # body (text pages only for scan-annex)
    annex: list[Block] = field(default_factory=list)      # scanned-annex paragraphs (not truth)
    source_bytes: bytes = b""

    @property
    def id(self) -> str:
        return self.meta["id"]

    @property
    def file(self) -> str:
        return self.meta["file"]

    @property
    def producer(self) -> str:
        return self.meta["producer"]

    @property
    def special(self) -> str | None:
        return self.meta.get("special") or None

    @property
    def two_column(self) -> bool:
        return self.meta.get("layout") == "two-column"

    @property
    def seed(self) -> int:
        return int(self.id)

    def truth(self) -> str:
        return "\n\n".join(b.text for b in self.blocks)


def _fail(path: Path, message: str) -> SourceError:
    return SourceError(f"{path.name}: {message}")


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def parse_document(path: Path) -> Doc:
    """Parse one source file into a Doc (front matter + body blocks); raise SourceError on problems."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(path, f"not valid UTF-8 ({exc})") from None
    text = _nfc(text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n"))
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise _fail(path, "must start with a '---' front-matter line")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise _fail(path, "front matter is not closed by a '---' line") from None

    meta: dict[str, str] = {}
    for lineno, line in enumerate(lines[1:end], start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.match(r"^([A-Za-z_]+)\s*:\s?(.*)$", line)
        if not m:
            raise _fail(path, f"line {lineno}: expected 'key: value', got {line!r}")
        key, value = m.group(1), m.group(2)
        value = re.sub(r"\s{2,}#.*$", "", value).strip()   # trailing "   # comment" as in FORMAT.md
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if key not in KNOWN_KEYS:
            raise _fail(path, f"line {lineno}: unknown front-matter key {key!r}")
        if key in meta:
            raise _fail(path, f"line {lineno}: duplicate front-matter key {key!r}")
        meta[key] = value

    blocks: list[Block] = []
    current: list[str] = []
    for line in [*lines[end + 1:], ""]:
        if line.strip():
            current.append(line.strip())
        elif current:
            para = re.sub(r"[ \t]+", " ", " ".join(current))
            if para.startswith("#"):
                m = re.match(r"^#\s+(\S.*)$", para)
                if not m:
                    raise _fail(path, f"heading must be '# text', got {para[:60]!r}")
                blocks.append(Block(m.group(1), heading=True))
            else:
                blocks.append(Block(para))
            current = []

    annex: list[Block] = []
    markers = [i for i, b in enumerate(blocks) if b.text == ANNEX_MARKER]
    if markers:
        if meta.get("special") != "scan-annex":
            raise _fail(path, f"{ANNEX_MARKER!r} is only allowed with 'special: scan-annex'")
        if len(markers) > 1:
            raise _fail(path, f"more than one {ANNEX_MARKER!r} paragraph")
        blocks, annex = blocks[:markers[0]], blocks[markers[0] + 1:]

    doc = Doc(path=path, meta=meta, blocks=blocks, annex=annex, source_bytes=raw)
    validate_document(doc)
    return doc


def validate_document(doc: Doc) -> None:
    path, meta = doc.path, doc.meta
    special = meta.get("special", "")
    if special and special not in SPECIALS:
        raise _fail(path, f"special must be one of {sorted(SPECIALS)}, got {special!r}")

    if special == "duplicate":
        for key in ("id", "file", "duplicate_of"):
            if not meta.get(key):
                raise _fail(path, f"missing front-matter key {key!r}")
        if doc.blocks:
            raise _fail(path, "a 'special: duplicate' document must have no body")
    else:
        for key in REQUIRED_KEYS:
            if key not in meta:
                raise _fail(path, f"missing front-matter key {key!r}")
            if key != "date" and not meta[key]:
                raise _fail(path, f"front-matter key {key!r} is empty")
        if "duplicate_of" in meta:
            raise _fail(path, "'duplicate_of' is only allowed with 'special: duplicate'")

    if not re.fullmatch(r"\d{3}", meta["id"]):
        raise _fail(path, f"id must be three digits, got {meta['id']!r}")
    if not path.name.startswith(meta["id"] + "-"):
        raise _fail(path, f"file name must start with the id {meta['id']}-")
    if special and not 90 <= int(meta["id"]) <= 99:
        raise _fail(path, "special documents must have ids 090-099")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*\.[a-z]+", meta["file"]):
        raise _fail(path, f"file must be a plain file name with an extension, got {meta['file']!r}")
    if meta["file"] == "metadata.csv":
        raise _fail(path, "file must not be called metadata.csv")
    if special == "duplicate":
        return

    producer = meta["producer"]
    if producer not in PRODUCER_EXTENSIONS:
        raise _fail(path, f"producer must be one of {sorted(PRODUCER_EXTENSIONS)}, got {producer!r}")
    ext = Path(meta["file"]).suffix.lower()
    if ext not in PRODUCER_EXTENSIONS[producer]:
        raise _fail(path, f"file extension {ext!r} does not fit producer {producer!r}")
    layout = meta.get("layout", "")
    if producer in PDF_PRODUCERS:
        if layout not in LAYOUTS:
            raise _fail(path, f"layout must be one of {sorted(LAYOUTS)} for a PDF producer, got {layout!r}")
    elif layout not in ("", "one-column"):
        raise _fail(path, f"layout {layout!r} makes no sense for producer {producer!r}")
    if special and producer != "reportlab":
        raise _fail(path, "special documents must use producer: reportlab")
    if meta["source_type"] not in SOURCE_TYPES:
        raise _fail(path, f"source_type must be one of {sorted(SOURCE_TYPES)}, got {meta['source_type']!r}")
    if meta["date"]:
        try:
            dt.date.fromisoformat(meta["date"])
        except ValueError:
            raise _fail(path, f"date must be YYYY-MM-DD or empty, got {meta['date']!r}") from None
    if meta.get("sidecar", "false").lower() not in ("true", "false"):
        raise _fail(path, f"sidecar must be true or false, got {meta['sidecar']!r}")
    if not doc.blocks:
        raise _fail(path, "the body has no paragraphs")
    if special == "scan-annex" and not doc.annex:
        raise _fail(path, f"'special: scan-annex' needs a {ANNEX_MARKER!r} paragraph followed by the annex")
    for block in doc.blocks + doc.annex:
        bad = [c for c in block.text if unicodedata.category(c) in ("Cc", "Co", "Cs")]
        if bad:
            raise _fail(path, f"control/private characters {bad!r} in paragraph {block.text[:40]!r}")


def load_documents() -> list[Doc]:
    paths = sorted(DOCS_DIR.glob("*.md"))
    if not paths:
        raise SourceError(f"no documents in {DOCS_DIR}")
    docs = [parse_document(p) for p in paths]
    by_id: dict[str, Path] = {}
    by_file: dict[str, Path] = {}
    for doc in docs:
        if doc.id in by_id:
            raise _fail(doc.path, f"id {doc.id} already used by {by_id[doc.id].name}")
        by_id[doc.id] = doc.path
        key = doc.file.lower()
        if key in by_file:
            raise _fail(doc.path, f"file {doc.file} already produced by {by_file[key].name}")
        by_file[key] = doc.path
    files = {d.file: d for d in docs}
    for doc in docs:
        if doc.special == "duplicate":
            orig = files.get(doc.meta["duplicate_of"])
            if orig is None:
                raise _fail(doc.path, f"duplicate_of {doc.meta['duplicate_of']!r} is not a file of the drop")
            if orig.producer != "reportlab" or orig.special:
                raise _fail(doc.path, "duplicate_of must name a plain (non-special) reportlab PDF")
            # The duplicate inherits everything from its original.
            for key in KNOWN_KEYS - {"id", "file", "special", "duplicate_of", "sidecar"}:
                if key in orig.meta:
                    doc.meta[key] = orig.meta[key]
            doc.blocks = orig.blocks
    return docs


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------

def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    return sha256_bytes(path.read_bytes())


def write_if_changed(path: Path, data: bytes) -> bool:
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def page_number_style(doc: Doc) -> str:
    """Deterministic page-number style per document."""
    return ("page-of", "dashes", "plain")[doc.seed % 3]


def pdf_info(doc: Doc) -> tuple[str, str]:
    """(Title, Author) for the PDF info: real for about half, empty or junk for the rest."""
    n = doc.seed % 4
    if n in (0, 2):
        return doc.meta["title"], doc.meta["issuer"]
    if n == 1:
        return "", ""
    return "Microsoft Word - Document1", "user"


def hyphenation_lang(doc: Doc) -> str:
    return "en_US" if doc.seed % 5 == 0 else "en_GB"


def format_page_number(style: str, page: int, total: int) -> str:
    if style == "page-of":
        return f"Page {page} of {total}"
    if style == "dashes":
        return f"- {page} -"
    return str(page)


# --------------------------------------------------------------------------------------------------
# reportlab producer
# --------------------------------------------------------------------------------------------------

_FONTS_REGISTERED = False
_REGISTERED_FALLBACKS: set[str] = set()


def register_fonts() -> None:
    global _FONTS_REGISTERED
    if _FONTS_REGISTERED:
        return
    for name, fname in [("DejaVuSerif", "DejaVuSerif.ttf"), ("DejaVuSerif-Bold", "DejaVuSerif-Bold.ttf"),
                        ("DejaVuSerif-Italic", "DejaVuSerif-Italic.ttf"),
                        ("DejaVuSerif-BoldItalic", "DejaVuSerif-BoldItalic.ttf"),
                        ("DejaVuSans-Bold", "DejaVuSans-Bold.ttf")]:
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / fname)))
    for name, path in FALLBACK_FONTS.items():
        if name not in _REGISTERED_FALLBACKS and path.exists():
            font = TTFont(name, str(path))
            # Declare DejaVu's vertical metrics for the fallback so that text extractors (which place a
            # glyph box from the descriptor's descent) keep mixed-script runs on one line.
            font.face.ascent, font.face.descent = 760, -240
            pdfmetrics.registerFont(font)
            _REGISTERED_FALLBACKS.add(name)
    pdfmetrics.registerFontFamily("DejaVuSerif", normal="DejaVuSerif", bold="DejaVuSerif-Bold",
                                  italic="DejaVuSerif-Italic", boldItalic="DejaVuSerif-BoldItalic")
    pdfmetrics.registerFontFamily("DejaVuSans", normal="DejaVuSans", bold="DejaVuSans-Bold",
                                  italic="DejaVuSans", boldItalic="DejaVuSans-Bold")
    _FONTS_REGISTERED = True


def _is_arabic(ch: str) -> bool:
    return any(lo <= ord(ch) <= hi for lo, hi in ((0x0600, 0x06FF), (0x0750, 0x077F), (0xFB50, 0xFDFF),
                                                   (0xFE70, 0xFEFF)))


def rl_markup(text: str, font: str = "DejaVuSerif") -> str:
    """Escape text for a reportlab Paragraph.

    Characters missing from ``font`` (e.g. Arabic script) are wrapped in ``<font>`` runs of the first
    fallback font that has them (DejaVu Sans, then Amiri for Urdu letters such as U+06C1).  Arabic script is
    drawn unshaped in logical order: reportlab's shaping/bidi needs extra packages (uharfbuzz, rlbidi).
    """
    chain = [font] + [f for f in FALLBACK_FONTS if f in _REGISTERED_FALLBACKS]
    cmaps = [pdfmetrics.getFont(name).face.charToGlyph for name in chain]
    out: list[str] = []
    run_font, run = font, []

    def flush() -> None:
        piece = xml_escape("".join(run))
        out.append(piece if run_font == font else f'<font name="{run_font}">{piece}</font>')
        run.clear()

    for ch in text:
        if ch.isspace() and run_font != font and run:
            choice = run_font   # keep spaces inside a fallback run (e.g. between Arabic words)
        else:
            prefer = chain
            if _is_arabic(ch) and "Amiri" in chain:
                prefer = ["Amiri"]   # whole Arabic-script runs in one face
            choice = next((name for name, cmap in zip(chain, cmaps, strict=True) if name in prefer and ord(ch) in cmap), None)
            if choice is None:
                raise ValueError(f"no font has a glyph for {ch!r} (U+{ord(ch):04X} {unicodedata.name(ch, '?')})")
        if choice != run_font and run:
            flush()
        run_font = choice
        run.append(ch)
    if run:
        flush()
    return "".join(out)


def rl_styles(doc: Doc) -> dict[str, ParagraphStyle]:
    lang = hyphenation_lang(doc)
    body = ParagraphStyle(
        "Body", fontName="DejaVuSerif", fontSize=10.5, leading=14, alignment=TA_JUSTIFY,
        spaceAfter=6, hyphenationLang=lang, embeddedHyphenation=0, uriWasteReduce=0.3,
    )
    body.hyphenationMinWordLength = 6
    title = ParagraphStyle("Title", parent=body, fontName="DejaVuSerif-Bold", fontSize=14, leading=18,
                           alignment=TA_LEFT, spaceBefore=0, spaceAfter=10, hyphenationLang="")
    heading = ParagraphStyle("Heading", parent=body, fontName="DejaVuSerif-Bold", fontSize=11.5, leading=15,
                             alignment=TA_LEFT, spaceBefore=6, spaceAfter=5, hyphenationLang="",
                             keepWithNext=1)
    return {"body": body, "title": title, "heading": heading}


class FullPageImage(Flowable):
    """A flowable filling a zero-padding full-page frame with a (JPEG) scan."""

    def __init__(self, jpeg: bytes, width: float, height: float):
        super().__init__()
        self.jpeg = jpeg
        self.width = width
        self.height = height

    def wrap(self, availWidth, availHeight):  # reportlab's signature
        return self.width, self.height

    def draw(self):
        self.canv.drawImage(ImageReader(io.BytesIO(self.jpeg)), 0, 0, self.width, self.height)


class DropDocTemplate(BaseDocTemplate):
    """A4 template with one- or two-column frames, running header/footer and page numbers."""

    def __init__(self, target, doc: Doc, total_pages: int, title_height: float, **kw):
        self.doc = doc
        self.total_pages = total_pages
        self.number_style = page_number_style(doc)
        title, author = pdf_info(doc)
        super().__init__(target, pagesize=A4, leftMargin=2.3 * cm, rightMargin=2.3 * cm,
                         topMargin=2.6 * cm, bottomMargin=2.4 * cm, title=title, author=author,
                         subject="", creator="", invariant=1, **kw)
        W, H = A4
        x0, y0, w, h = self.leftMargin, self.bottomMargin, self.width, self.height
        templates = []
        if doc.two_column:
            gutter = 0.8 * cm
            cw = (w - gutter) / 2

            def columns(top: float, prefix: str) -> list[Frame]:
                return [Frame(x0, y0, cw, top - y0, id=f"{prefix}L", leftPadding=0, rightPadding=0,
                              topPadding=0, bottomPadding=0),
                        Frame(x0 + cw + gutter, y0, cw, top - y0, id=f"{prefix}R", leftPadding=0,
                              rightPadding=0, topPadding=0, bottomPadding=0)]

            if title_height:
                title_frame = Frame(x0, y0 + h - title_height, w, title_height, id="title", leftPadding=0,
                                    rightPadding=0, topPadding=0, bottomPadding=0)
                templates.append(PageTemplate(id="first", frames=[title_frame] +
                                              columns(y0 + h - title_height - 0.2 * cm, "f"),
                                              onPage=self.decorate))
            templates.append(PageTemplate(id="later", frames=columns(y0 + h, "c"), onPage=self.decorate))
        else:
            templates.append(PageTemplate(id="later", frames=[Frame(x0, y0, w, h, id="body", leftPadding=0,
                                                                    rightPadding=0, topPadding=0,
                                                                    bottomPadding=0)],
                                          onPage=self.decorate))
        templates.append(PageTemplate(id="annex", frames=[Frame(0, 0, W, H, id="scan", leftPadding=0,
                                                                rightPadding=0, topPadding=0,
                                                                bottomPadding=0)]))
        self.addPageTemplates(templates)

    def decorate(self, canv, _doc) -> None:
        """Running header, footer and page number (onPage of the text templates)."""
        W, H = A4
        left, right = self.leftMargin, W - self.rightMargin
        page = canv.getPageNumber()
        header, footer = self.doc.meta.get("header", ""), self.doc.meta.get("footer", "")
        canv.saveState()
        canv.setFillGray(0.3)
        canv.setStrokeGray(0.55)
        canv.setLineWidth(0.5)
        if header:
            canv.setFont("DejaVuSans", 8)
            canv.drawString(left, H - 1.6 * cm, header)
            canv.line(left, H - 1.75 * cm, right, H - 1.75 * cm)
        number = format_page_number(self.number_style, page, self.total_pages)
        canv.setFont("DejaVuSans", 8)
        if footer:
            canv.line(left, 1.75 * cm, right, 1.75 * cm)
        if self.number_style == "dashes":
            if footer:
                canv.drawCentredString(W / 2, 1.4 * cm, footer)
            canv.drawCentredString(W / 2, 1.0 * cm, number)
        else:
            if footer:
                canv.drawString(left, 1.4 * cm, footer)
            canv.drawRightString(right, 1.4 * cm, number)
        canv.restoreState()


def build_reportlab_pdf(doc: Doc, encrypt: bool = False, annex_jpeg: bytes | None = None) -> bytes:
    """Render a document with reportlab; two passes so that "Page N of M" knows M."""
    register_fonts()
    styles = rl_styles(doc)
    title_height = 0.0
    if doc.two_column and doc.blocks[0].heading:
        w = A4[0] - 4.6 * cm
        _, h = Paragraph(rl_markup(doc.blocks[0].text, "DejaVuSerif-Bold"), styles["title"]).wrap(w, A4[1])
        title_height = h + styles["title"].spaceAfter

    def story() -> list:
        flow: list = [NextPageTemplate("later")]   # page 1 uses the first template ("first" or "later")
        for i, block in enumerate(doc.blocks):
            if block.heading:
                style = styles["title"] if i == 0 else styles["heading"]
                flow.append(Paragraph(rl_markup(block.text, "DejaVuSerif-Bold"), style))
                if i == 0 and title_height:
                    flow.append(FrameBreak())
            else:
                flow.append(Paragraph(rl_markup(block.text), styles["body"]))
        if annex_jpeg is not None:
            flow += [NextPageTemplate("annex"), PageBreak(), FullPageImage(annex_jpeg, *A4)]
        return flow

    def render(total: int, encrypt_now: bool) -> bytes:
        buf = io.BytesIO()
        kw = {}
        if encrypt_now:
            pdfencrypt._os_random_x = 0  # deterministic "random" salt under rl_config.invariant
            kw["encrypt"] = pdfencrypt.StandardEncryption(USER_PASSWORD, OWNER_PASSWORD, canPrint=1,
                                                           canModify=0, canCopy=0, canAnnotate=0,
                                                           strength=128)
        template = DropDocTemplate(buf, doc, total, title_height, **kw)
        template.build(story())
        return buf.getvalue()

    first = render(0, False)
    total = count_pdf_pages_bytes(first)
    return render(total, encrypt)


def count_pdf_pages_bytes(data: bytes, password: str | None = None) -> int:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data, password=password)
    try:
        return len(pdf)
    finally:
        pdf.close()


# --------------------------------------------------------------------------------------------------
# Scanned images (Pillow)
# --------------------------------------------------------------------------------------------------

SCAN_DPI = 160


def render_scan(doc: Doc, blocks: list[Block], letterhead: str, footer: str, signature: bool) -> bytes:
    """Render paragraphs to a greyish, slightly rotated A4 'scan' and return JPEG bytes."""
    rng = random.Random(doc.seed)
    px = lambda points: round(points / 72 * SCAN_DPI)  # noqa: E731
    W, H = px(A4[0]), px(A4[1])
    img = Image.new("L", (W, H), 236)
    draw = ImageDraw.Draw(img)
    serif = ImageFont.truetype(str(FONT_DIR / "DejaVuSerif.ttf"), px(11))
    bold = ImageFont.truetype(str(FONT_DIR / "DejaVuSerif-Bold.ttf"), px(13))
    sans = ImageFont.truetype(str(FONT_DIR / "DejaVuSans.ttf"), px(8.5))
    left, right = px(2.4 * cm), W - px(2.4 * cm)
    ink = 38

    y = px(1.6 * cm)
    if letterhead:
        draw.text((W // 2, y), letterhead, font=sans, fill=ink, anchor="mt")
        y += px(14)
        draw.line((left, y, right, y), fill=90, width=2)
    y += px(30)
    line_h = px(15.5)
    if signature:
        draw.text((right, y - px(12)), "Annex", font=sans, fill=ink, anchor="ra")
    for index, block in enumerate(blocks):
        if signature and index == len(blocks) - 1:
            # Leave room for a pen signature above the last line (the signatory) and add an office stamp.
            pts = [(left + px(10) + i * px(4),
                    y + px(14) + int(px(8) * math.sin(i / 2.3) + rng.uniform(-4, 4))) for i in range(34)]
            draw.line(pts, fill=25, width=3)
            cx, cy, r = right - px(80), y + px(30), px(36)
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=80, width=3)
            draw.ellipse((cx - r + 10, cy - r + 10, cx + r - 10, cy + r - 10), outline=80, width=2)
            draw.text((cx, cy), "RECEIVED", font=sans, fill=80, anchor="mm")
            y += px(40)
        font = bold if block.heading else serif
        words, line = block.text.split(), ""
        lines: list[str] = []
        for word in words:
            trial = f"{line} {word}".strip()
            if draw.textlength(trial, font=font) <= right - left:
                line = trial
            else:
                lines.append(line)
                line = word
        lines.append(line)
        for text in lines:
            if block.heading:
                draw.text((W // 2, y), text, font=font, fill=ink, anchor="ma")
            else:
                draw.text((left, y), text, font=font, fill=ink)
            y += line_h
        y += px(8)
    if footer:
        draw.text((W // 2, H - px(1.4 * cm)), footer, font=sans, fill=ink, anchor="mb")

    # Scanner artefacts: speckles, a darker left edge, a slight blur and rotation.
    for _ in range(1400):
        x, yy = rng.randrange(W), rng.randrange(H)
        draw.point((x, yy), fill=rng.choice((120, 150, 180, 200)))
    draw.rectangle((0, 0, px(6), H), fill=205)
    img = img.filter(ImageFilter.GaussianBlur(0.6))
    img = img.rotate(rng.choice((-0.6, -0.4, 0.35, 0.5)), resample=Image.BICUBIC, fillcolor=236)
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=55, optimize=True, dpi=(SCAN_DPI, SCAN_DPI))
    return out.getvalue()


def build_scanned_pdf(doc: Doc) -> bytes:
    """One image-only page: no text layer at all."""
    jpeg = render_scan(doc, doc.blocks, doc.meta.get("header", ""), doc.meta.get("footer", ""), signature=False)
    buf = io.BytesIO()
    template = BaseDocTemplate(buf, pagesize=A4, invariant=1, title="", author="", creator="",
                               subject="", leftMargin=0, rightMargin=0, topMargin=0, bottomMargin=0)
    template.addPageTemplates([PageTemplate(id="scan", frames=[Frame(0, 0, *A4, leftPadding=0, rightPadding=0,
                                                                     topPadding=0, bottomPadding=0)])])
    template.build([FullPageImage(jpeg, *A4)])
    return buf.getvalue()


def build_corrupt_pdf(doc: Doc) -> bytes:
    """A damaged PDF: the first 35 % of a real one, with the tail and object headers garbled."""
    full = build_reportlab_pdf(doc)
    data = bytearray(full[: int(len(full) * 0.35)])
    # Knock out every object header so that no parser can rebuild a cross-reference table ...
    data = bytearray(re.sub(rb"(\d+) 0 obj", lambda m: b"#" * len(m.group(0)), bytes(data)))
    # ... and overwrite the last 2 KiB (where a truncated file would be searched for xref/trailer)
    rng = random.Random(doc.seed)
    tail = bytes(rng.randrange(256) for _ in range(2048))
    data[-2048:] = tail
    return bytes(data) + b"\nxref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 1 >>\nstartxref\n999999\n%%EOF\n"


# --------------------------------------------------------------------------------------------------
# LibreOffice producer
# --------------------------------------------------------------------------------------------------

FODT_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"'
)


def build_fodt(doc: Doc) -> str:
    """A flat ODT text document for soffice to convert."""
    x = xml_escape
    lang, country = ("en", "US") if hyphenation_lang(doc) == "en_US" else ("en", "GB")
    columns = ('<style:columns fo:column-count="2" fo:column-gap="0.8cm"/>' if doc.two_column
               else '<style:columns fo:column-count="1" fo:column-gap="0cm"/>')
    title, author = pdf_info(doc)
    meta = ""
    if title:
        meta += f"<dc:title>{x(title)}</dc:title>"
    if author:
        meta += f"<meta:initial-creator>{x(author)}</meta:initial-creator><dc:creator>{x(author)}</dc:creator>"

    header, footer = doc.meta.get("header", ""), doc.meta.get("footer", "")
    style = page_number_style(doc)
    if style == "page-of":
        number = ('Page <text:page-number text:select-page="current">1</text:page-number> of '
                  '<text:page-count>1</text:page-count>')
    elif style == "dashes":
        number = '- <text:page-number text:select-page="current">1</text:page-number> -'
    else:
        number = '<text:page-number text:select-page="current">1</text:page-number>'
    header_xml = f'<style:header><text:p text:style-name="Header">{x(header)}</text:p></style:header>' if header else ""
    footer_lines = (f'<text:p text:style-name="Footer">{x(footer)}</text:p>' if footer else "") + \
        f'<text:p text:style-name="PageNumber">{number}</text:p>'
    footer_xml = f"<style:footer>{footer_lines}</style:footer>"

    body: list[str] = []
    for i, block in enumerate(doc.blocks):
        if block.heading:
            level = 1 if i == 0 else 2
            body.append(f'<text:h text:style-name="Heading_20_{level}" text:outline-level="{level}">'
                        f"{x(block.text)}</text:h>")
        else:
            body.append(f'<text:p text:style-name="Text_20_body">{x(block.text)}</text:p>')

    hyph = (f'fo:language="{lang}" fo:country="{country}" fo:hyphenate="true" '
            'fo:hyphenation-remain-char-count="2" fo:hyphenation-push-char-count="3"')
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document {FODT_NS} office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">
 <office:meta>{meta}</office:meta>
 <office:font-face-decls>
  <style:font-face style:name="DejaVu Serif" svg:font-family="'DejaVu Serif'" style:font-family-generic="roman" style:font-pitch="variable"/>
  <style:font-face style:name="DejaVu Sans" svg:font-family="'DejaVu Sans'" style:font-family-generic="swiss" style:font-pitch="variable"/>
  <style:font-face style:name="Amiri" svg:font-family="Amiri" style:font-family-generic="roman" style:font-pitch="variable"/>
 </office:font-face-decls>
 <office:styles>
  <style:default-style style:family="paragraph">
   <style:paragraph-properties fo:orphans="2" fo:widows="2"/>
   <style:text-properties style:font-name="DejaVu Serif" fo:font-size="10.5pt" {hyph} style:font-name-complex="Amiri" style:font-size-complex="11pt" style:language-complex="ur" style:country-complex="PK"/>
  </style:default-style>
  <style:style style:name="Standard" style:family="paragraph" style:class="text"/>
  <style:style style:name="Text_20_body" style:display-name="Text body" style:family="paragraph" style:parent-style-name="Standard" style:class="text">
   <style:paragraph-properties fo:text-align="justify" fo:margin-top="0cm" fo:margin-bottom="0.21cm" fo:line-height="128%"/>
   <style:text-properties style:font-name="DejaVu Serif" fo:font-size="10.5pt" {hyph}/>
  </style:style>
  <style:style style:name="Heading_20_1" style:display-name="Heading 1" style:family="paragraph" style:parent-style-name="Standard" style:default-outline-level="1" style:class="text">
   <style:paragraph-properties fo:margin-top="0cm" fo:margin-bottom="0.35cm" fo:keep-with-next="always" fo:text-align="start"/>
   <style:text-properties style:font-name="DejaVu Serif" fo:font-size="14pt" fo:font-weight="bold" fo:hyphenate="false"/>
  </style:style>
  <style:style style:name="Heading_20_2" style:display-name="Heading 2" style:family="paragraph" style:parent-style-name="Standard" style:default-outline-level="2" style:class="text">
   <style:paragraph-properties fo:margin-top="0.25cm" fo:margin-bottom="0.18cm" fo:keep-with-next="always" fo:text-align="start"/>
   <style:text-properties style:font-name="DejaVu Serif" fo:font-size="11.5pt" fo:font-weight="bold" fo:hyphenate="false"/>
  </style:style>
  <style:style style:name="Header" style:family="paragraph" style:parent-style-name="Standard" style:class="extra">
   <style:paragraph-properties fo:text-align="start" fo:padding-bottom="0.08cm" fo:border-bottom="0.5pt solid #888888"/>
   <style:text-properties style:font-name="DejaVu Sans" fo:font-size="8pt" fo:color="#4d4d4d" fo:hyphenate="false"/>
  </style:style>
  <style:style style:name="Footer" style:family="paragraph" style:parent-style-name="Standard" style:class="extra">
   <style:paragraph-properties fo:text-align="center"/>
   <style:text-properties style:font-name="DejaVu Sans" fo:font-size="8pt" fo:color="#4d4d4d" fo:hyphenate="false"/>
  </style:style>
  <style:style style:name="PageNumber" style:family="paragraph" style:parent-style-name="Footer" style:class="extra">
   <style:paragraph-properties fo:text-align="{'center' if style == 'dashes' else 'end'}"/>
  </style:style>
 </office:styles>
 <office:automatic-styles>
  <style:page-layout style:name="pm1">
   <style:page-layout-properties fo:page-width="21.001cm" fo:page-height="29.7cm" style:print-orientation="portrait" fo:margin-top="1.3cm" fo:margin-bottom="1.2cm" fo:margin-left="2.3cm" fo:margin-right="2.3cm">
    {columns}
   </style:page-layout-properties>
   <style:header-style><style:header-footer-properties fo:min-height="0.5cm" fo:margin-bottom="0.6cm"/></style:header-style>
   <style:footer-style><style:header-footer-properties fo:min-height="0.5cm" fo:margin-top="0.6cm"/></style:footer-style>
  </style:page-layout>
 </office:automatic-styles>
 <office:master-styles>
  <style:master-page style:name="Standard" style:page-layout-name="pm1">{header_xml}{footer_xml}</style:master-page>
 </office:master-styles>
 <office:body>
  <office:text>
{chr(10).join(body)}
  </office:text>
 </office:body>
</office:document>
"""


def convert_with_libreoffice(docs: list[Doc]) -> dict[str, bytes]:
    """Convert several documents in one soffice run; returns {file: pdf bytes}."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise SystemExit("error: soffice (LibreOffice) not found; apt-get install libreoffice-writer-nogui")
    results: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="dshift-lo-") as tmp:
        tmpdir = Path(tmp)
        inputs = []
        for doc in docs:
            src = tmpdir / "in" / (Path(doc.file).stem + ".fodt")
            src.parent.mkdir(exist_ok=True)
            src.write_text(build_fodt(doc), encoding="utf-8")
            inputs.append(str(src))
        cmd = [soffice, f"-env:UserInstallation=file://{tmpdir / 'profile'}", "--headless", "--norestore",
               "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(tmpdir / "out"), *inputs]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        for doc in docs:
            out = tmpdir / "out" / (Path(doc.file).stem + ".pdf")
            if not out.exists():
                raise SystemExit(f"error: soffice did not convert {doc.path.name}:\n{proc.stdout}\n{proc.stderr}")
            results[doc.file] = out.read_bytes()
    return results


# --------------------------------------------------------------------------------------------------
# txt, html and docx producers
# --------------------------------------------------------------------------------------------------

def build_txt(doc: Doc) -> bytes:
    wrapper = textwrap.TextWrapper(width=70, break_long_words=False, break_on_hyphens=False)
    paras = ["\n".join(wrapper.wrap(b.text)) for b in doc.blocks]
    return ("\ufeff" + "\n\n".join(paras) + "\n").replace("\n", "\r\n").encode("utf-8")


SITES = {
    "mofa": ("Ministry of Foreign Affairs", "Government of Pakistan", "mofa.gov.pk",
             ["Home", "The Ministry", "Foreign Minister", "Press Releases", "Spokesperson", "Missions Abroad",
              "Consular Services", "Contact Us"]),
    "ispr": ("Inter Services Public Relations", "Pakistan Armed Forces", "ispr.gov.pk",
             ["Home", "Press Releases", "Media Gallery", "Publications", "Shuhada", "Contact"]),
}


def html_entities(text: str) -> str:
    """HTML-escape body text the way a CMS would: named entities and a few non-breaking spaces."""
    out = html.escape(text, quote=False)
    for ch, ent in (("\u2019", "&rsquo;"), ("\u2018", "&lsquo;"), ("\u201c", "&ldquo;"), ("\u201d", "&rdquo;"),
                    ("\u2014", "&mdash;"), ("\u2013", "&ndash;"), ("\u00a0", "&nbsp;")):
        out = out.replace(ch, ent)
    out = re.sub(r"\b(Mr|Mrs|Ms|Dr|No|Art|H\.E)\. ", r"\1.&nbsp;", out)
    out = re.sub(r"(\d) (per cent|percent|million|billion)\b", r"\1&nbsp;\2", out)
    return out


def build_html(doc: Doc) -> bytes:
    meta = doc.meta
    site, tagline, domain, nav = SITES.get(meta["source_type"], (meta["issuer"], "Official website",
                                                                 "www.example.gov.pk",
                                                                 ["Home", "About", "News", "Documents", "Contact"]))
    description = " ".join(b.text for b in doc.blocks if not b.heading)[:155].rsplit(" ", 1)[0] + "…"
    article: list[str] = []
    first_heading = True
    for block in doc.blocks:
        if block.heading:
            tag = "h1" if first_heading else "h2"
            first_heading = False
            article.append(f"        <{tag}>{html_entities(block.text)}</{tag}>")
        else:
            article.append(f"        <p>{html_entities(block.text)}</p>")
    nav_items = "\n".join(
        f'      <li><a href="/{re.sub(r"[^a-z]+", "-", n.lower()).strip("-") + "/" if n != "Home" else ""}">'
        f"{html.escape(n)}</a></li>" for n in nav)
    banner = html.escape(meta.get("header") or f"{site} — {tagline}")
    footer_text = html.escape(meta.get("footer") or domain)
    year = meta["date"][:4] if meta["date"] else "2020"
    posted = (f'<p class="posted">Posted on <time datetime="{meta["date"]}">{meta["date"]}</time></p>'
              if meta["date"] else "")
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{html.escape(meta["title"])} | {html.escape(site)}</title>
  <meta name="description" content="{html.escape(description)}">
  <meta name="generator" content="WordPress 4.9.8">
  <link rel="stylesheet" href="/wp-content/themes/govpk/style.css?ver=1.4.2">
  <script src="/wp-includes/js/jquery/jquery.js?ver=1.12.4"></script>
</head>
<body class="post-template-default single single-post">
  <div id="top-bar">
    <span class="date-today">{html.escape(tagline)}</span>
    <a href="/ur/">اردو</a> | <a href="/sitemap/">Sitemap</a> | <a href="/feed/">RSS</a>
  </div>
  <header id="site-header" class="site-header">
    <a class="logo" href="/"><img src="/wp-content/uploads/logo.png" alt="{html.escape(site)}"></a>
    <div class="site-title">{banner}</div>
    <form role="search" action="/" class="search-form"><input type="search" name="s" placeholder="Search &hellip;"></form>
  </header>
  <nav id="main-menu" class="menu">
    <ul>
{nav_items}
    </ul>
  </nav>
  <div class="breadcrumbs"><a href="/">Home</a> &raquo; <a href="/news/">News &amp; Media</a> &raquo; <span>{html.escape(meta["title"][:60])}</span></div>
  <div id="content" class="container">
    <main id="main" class="site-main">
      <article id="post-{int(doc.id) * 37 + 1000}" class="post type-post status-publish">
{chr(10).join(article)}
      </article>
      <div class="entry-meta">{posted}</div>
      <div class="share-this">Share: <a href="#">Facebook</a> &middot; <a href="#">Twitter</a> &middot; <a href="#">Email</a></div>
    </main>
    <aside id="sidebar" class="widget-area">
      <section class="widget"><h3 class="widget-title">Recent Posts</h3>
        <ul><li><a href="/news/1/">Weekly Press Briefing</a></li><li><a href="/news/2/">Visit of the Foreign Minister</a></li><li><a href="/news/3/">Statement on the situation in the region</a></li></ul>
      </section>
    </aside>
  </div>
  <footer id="site-footer" class="site-footer">
    <p>{footer_text}</p>
    <p>Copyright &copy; {year} {html.escape(site)}, {html.escape(tagline)}. All rights reserved. &nbsp;|&nbsp; <a href="/privacy/">Privacy Policy</a> &nbsp;|&nbsp; <a href="/disclaimer/">Disclaimer</a></p>
  </footer>
</body>
</html>
"""
    return page.encode("utf-8")


def build_docx(doc: Doc) -> bytes:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    meta = doc.meta
    d = docx.Document()
    section = d.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.3)
    normal = d.styles["Normal"]
    normal.font.name = "DejaVu Serif"
    normal.font.size = Pt(10.5)
    if meta.get("header"):
        section.header.paragraphs[0].text = meta["header"]
    footer_par = section.footer.paragraphs[0]
    if meta.get("footer"):
        footer_par.text = meta["footer"] + "    "
    footer_par.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field_el = OxmlElement("w:fldSimple")
    field_el.set(qn("w:instr"), "PAGE")
    run_el = OxmlElement("w:r")
    text_el = OxmlElement("w:t")
    text_el.text = "1"
    run_el.append(text_el)
    field_el.append(run_el)
    footer_par._p.append(field_el)

    first = True
    for block in doc.blocks:
        if block.heading:
            d.add_heading(block.text, level=1 if first else 2)
            first = False
        else:
            p = d.add_paragraph(block.text)
            p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY

    when = (dt.datetime.fromisoformat(meta["date"]) if meta["date"] else dt.datetime(2019, 1, 1)) + \
        dt.timedelta(hours=9, minutes=doc.seed % 60)
    cp = d.core_properties
    cp.title = meta["title"]
    cp.author = meta["issuer"]
    cp.last_modified_by = "user"
    cp.created = cp.modified = when
    cp.revision = 1 + doc.seed % 4
    cp.comments = ""
    buf = io.BytesIO()
    d.save(buf)
    return normalize_zip(buf.getvalue())


def normalize_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed timestamps so that the docx bytes are deterministic."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            zout.writestr(fixed, zin.read(info.filename))
    return out.getvalue()


# --------------------------------------------------------------------------------------------------
# Build orchestration
# --------------------------------------------------------------------------------------------------

def source_hash(doc: Doc, docs_by_file: dict[str, Doc]) -> str:
    version = f"{BUILD_VERSION}/{doc.producer}-{RENDER_VERSIONS[doc.producer]}"
    h = hashlib.sha256(version.encode() + b"\0" + doc.source_bytes)
    if doc.special == "duplicate":
        h.update(b"\0" + docs_by_file[doc.meta["duplicate_of"]].source_bytes)
    return h.hexdigest()


def build_one(doc: Doc, built: dict[str, bytes]) -> bytes:
    """Bytes of one drop file (not for libreoffice, which is converted in a batch)."""
    special = doc.special
    if special == "duplicate":
        orig = doc.meta["duplicate_of"]
        return built[orig] if orig in built else (DROP_DIR / orig).read_bytes()
    if special == "scanned":
        return build_scanned_pdf(doc)
    if special == "scan-annex":
        jpeg = render_scan(doc, doc.annex, "Minister for Foreign Affairs · Islamabad", "", signature=True)
        return build_reportlab_pdf(doc, annex_jpeg=jpeg)
    if special == "encrypted":
        return build_reportlab_pdf(doc, encrypt=True)
    if special == "corrupt":
        return build_corrupt_pdf(doc)
    if doc.producer == "reportlab":
        return build_reportlab_pdf(doc)
    if doc.producer == "txt":
        return build_txt(doc)
    if doc.producer == "html":
        return build_html(doc)
    if doc.producer == "docx":
        return build_docx(doc)
    raise AssertionError(doc.producer)


def count_pages(doc: Doc, path: Path) -> str:
    if path.suffix.lower() != ".pdf" or doc.special == "corrupt":
        return ""
    password = USER_PASSWORD if doc.special == "encrypted" else None
    return str(count_pdf_pages_bytes(path.read_bytes(), password))


def manifest_row(doc: Doc, pages: str) -> dict[str, str]:
    meta = doc.meta
    renders_running = doc.producer != "txt"
    return {
        "file": doc.file,
        "id": doc.id,
        "producer": doc.producer,
        "layout": meta.get("layout", "") if doc.producer in PDF_PRODUCERS else "",
        "source_type": meta["source_type"],
        "issuer": meta["issuer"],
        "date": meta["date"],
        "title": meta["title"],
        "pages": pages,
        "expected": EXPECTED_BY_SPECIAL[doc.special],
        "duplicate_of": meta.get("duplicate_of", ""),
        "has_header": "1" if renders_running and meta.get("header") else "0",
        "has_footer": "1" if renders_running and meta.get("footer") else "0",
    }


def csv_bytes(columns: list[str], rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def load_state() -> dict:
    if STATE_FILE.exists():
        try:
            state = json.loads(STATE_FILE.read_text(encoding="utf-8"))
            if isinstance(state.get("outputs"), dict):
                return state
        except json.JSONDecodeError:
            pass
    return {"outputs": {}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="rebuild every output")
    args = parser.parse_args(argv)

    try:
        docs = load_documents()
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    docs_by_file = {d.file: d for d in docs}
    DROP_DIR.mkdir(parents=True, exist_ok=True)
    TRUTH_DIR.mkdir(parents=True, exist_ok=True)

    old_state = load_state()["outputs"]
    new_state: dict[str, dict[str, str]] = {}
    todo: list[Doc] = []
    for doc in docs:
        src = source_hash(doc, docs_by_file)
        out = DROP_DIR / doc.file
        rec = old_state.get(doc.file, {})
        fresh = (not args.force and out.exists() and rec.get("source") == src
                 and rec.get("output") == sha256_file(out))
        if fresh:
            new_state[doc.file] = rec
        else:
            todo.append(doc)

    # Build: originals before duplicates, libreoffice documents in one soffice batch.
    built: dict[str, bytes] = {}
    todo_files = {d.file for d in todo}
    for doc in docs:   # a rebuilt original forces its duplicate to be rebuilt too
        if doc.special == "duplicate" and doc.meta["duplicate_of"] in todo_files and doc not in todo:
            todo.append(doc)
    lo_docs = [d for d in todo if d.producer == "libreoffice" and not d.special]
    if lo_docs:
        print(f"converting {len(lo_docs)} document(s) with LibreOffice ...", flush=True)
        built.update(convert_with_libreoffice(lo_docs))
    for doc in sorted(todo, key=lambda d: d.special == "duplicate"):
        if doc.file not in built:
            try:
                built[doc.file] = build_one(doc, built)
            except ValueError as exc:
                print(f"error: {doc.path.name}: {exc}", file=sys.stderr)
                return 1
    for doc in todo:
        out = DROP_DIR / doc.file
        out.write_bytes(built[doc.file])
        new_state[doc.file] = {"source": source_hash(doc, docs_by_file), "output": sha256_bytes(built[doc.file])}
        print(f"built {doc.file}")

    # Remove drop/truth files that no document produces any more.
    wanted = set(docs_by_file) | {"metadata.csv"}
    for path in sorted(DROP_DIR.iterdir()):
        if path.name not in wanted:
            print(f"removing stale {path.relative_to(SRC_DIR.parent.parent)}")
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    wanted_truth = {f + ".txt" for f in docs_by_file} | {"manifest.csv"}
    for path in sorted(TRUTH_DIR.iterdir()):
        if path.name not in wanted_truth:
            print(f"removing stale {path.relative_to(SRC_DIR.parent.parent)}")
            path.unlink()

    # Truth, manifest, sidecar.
    rows, sidecar, summary = [], [], []
    for doc in docs:
        truth = _nfc(doc.truth())
        write_if_changed(TRUTH_DIR / (doc.file + ".txt"), truth.encode("utf-8"))
        pages = count_pages(doc, DROP_DIR / doc.file)
        rows.append(manifest_row(doc, pages))
        if doc.meta.get("sidecar", "false").lower() == "true":
            sidecar.append({"file": doc.file, "source_type": doc.meta["source_type"], "date": doc.meta["date"],
                            "title": doc.meta["title"], "issuer": doc.meta["issuer"], "language": "en"})
        summary.append((doc.file, doc.producer + (f" ({doc.special})" if doc.special else ""),
                        doc.meta.get("layout", "") if doc.producer in PDF_PRODUCERS else "-",
                        pages or "-", str(len(truth.split()))))
    write_if_changed(TRUTH_DIR / "manifest.csv", csv_bytes(MANIFEST_COLUMNS, rows))
    write_if_changed(DROP_DIR / "metadata.csv", csv_bytes(SIDECAR_COLUMNS, sidecar))
    state = {"build_version": BUILD_VERSION, "outputs": dict(sorted(new_state.items()))}
    write_if_changed(STATE_FILE, (json.dumps(state, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))

    widths = [max(len(r[i]) for r in summary + [("file", "producer", "layout", "pages", "words")])
              for i in range(5)]
    line = "  ".join(h.ljust(w) for h, w in zip(("file", "producer", "layout", "pages", "words"), widths, strict=True))
    print("\n" + line + "\n" + "-" * len(line))
    for r in summary:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    total = sum(p.stat().st_size for p in DROP_DIR.iterdir())
    print(f"\n{len(docs)} files in {DROP_DIR.relative_to(SRC_DIR.parent.parent)} "
          f"({len(todo)} rebuilt, {total / 1e6:.2f} MB), {len(sidecar)} in metadata.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
