"""Readers for the non-PDF formats a drop may carry: plain text, HTML and DOCX.

Each reader takes bytes or a path and returns an :class:`~pipeline.models.Extraction`.
"""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.errors import Problem
from pipeline.ingest.canonical import (
    BARE_NUMBER,
    assemble,
    clean_paragraph,
    normalise,
    vocabulary,
)
from pipeline.models import Extraction

# Markdown that transcripts sometimes carry (bold, italics, block quotes): markup, not words.
_MARKDOWN_EMPHASIS = re.compile(r"(\*\*|__|(?<![\w*])\*(?!\*))(?=\S)(.+?)(?<=\S)\1")
_MARKDOWN_QUOTE = re.compile(r"^[ \t]*>[ \t]?", re.M)
_SENTENCE_END = tuple('.!?:"”’)')


def decode_text(data: bytes, path: str) -> tuple[str, list[Problem]]:
    """Decode a text file: UTF-8 (with or without BOM), else UTF-16 with BOM, else cp1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), []
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        text = data.decode("cp1252", errors="replace")
        problem = Problem(
            "bad-encoding",
            path,
            detail=f"invalid UTF-8 at byte {exc.start}",
            place=f"byte {exc.start}",
            params={"encoding": "Windows-1252"},
        )
        return text, [problem]


def text_paragraphs(text: str) -> list[list[str]]:
    """Split plain text into paragraphs of hard-wrapped lines.

    Blank lines separate paragraphs when the file has them. Files without blank lines (such as
    the UN General Debate transcripts) get a break after a line that ends a sentence well short
    of the usual line length. Lines holding only a page number are dropped.
    """
    lines = [line.rstrip() for line in text.split("\n")]
    lines = [line for line in lines if not (line.strip() and BARE_NUMBER.match(line))]
    if sum(1 for line in lines if not line.strip()) >= 2:
        paragraphs: list[list[str]] = [[]]
        for line in lines:
            if line.strip():
                paragraphs[-1].append(line)
            elif paragraphs[-1]:
                paragraphs.append([])
        return [p for p in paragraphs if p]
    lengths = sorted(len(line) for line in lines if line.strip())
    if not lengths:
        return []
    usual = lengths[int(0.8 * (len(lengths) - 1))]
    paragraphs = [[]]
    for line in lines:
        if not line.strip():
            continue
        paragraphs[-1].append(line)
        if line.endswith(_SENTENCE_END) and len(line) < 0.75 * usual:
            paragraphs.append([])
    return [p for p in paragraphs if p]


def read_text(data: bytes, path: str) -> Extraction:
    """Read a plain-text file."""
    decoded, warnings = decode_text(data, path)
    text = _MARKDOWN_QUOTE.sub("", _MARKDOWN_EMPHASIS.sub(r"\2", normalise(decoded)))
    paragraphs = text_paragraphs(text)
    vocab = vocabulary(line for p in paragraphs for line in p)
    canonical, spans = assemble([[(0, line) for line in p] for p in paragraphs], vocab, 1)
    return Extraction("txt", canonical, spans, {}, "text.v1", warnings)


_BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "caption",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    ]
)
_DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "template",
    "svg",
    "iframe",
    "button",
)


def read_html(data: bytes, path: str) -> Extraction:
    """Read an HTML page: the main article if marked up, else the body without boilerplate."""
    import lxml.html

    root = lxml.html.document_fromstring(data)
    info: dict[str, str] = {}
    title = root.findtext(".//title")
    if title and title.strip():
        info["Title"] = clean_paragraph(title)
    for meta in root.iter("meta"):
        name = (meta.get("name") or meta.get("property") or "").lower()
        content = meta.get("content")
        if content and name in (
            "description",
            "author",
            "date",
            "dc.date",
            "dcterms.date",
            "article:published_time",
            "og:title",
            "dc.title",
        ):
            info[name] = clean_paragraph(content)
    candidates = (
        root.findall(".//main//article") or root.findall(".//article") or root.findall(".//main")
    )
    body = max(candidates, key=lambda e: len(e.text_content())) if candidates else root.find("body")
    if body is None:
        body = root
    for element in list(body.iter(*_DROP_TAGS)):
        if element is not body and element.getparent() is not None:
            element.drop_tree()
    paragraphs: list[str] = []
    buffer: list[str] = []

    def flush() -> None:
        paragraph = clean_paragraph(normalise(" ".join(buffer)))
        if paragraph:
            paragraphs.append(paragraph)
        buffer.clear()

    def walk(element: lxml.html.HtmlElement) -> None:
        block = isinstance(element.tag, str) and element.tag in _BLOCK_TAGS
        if block:
            flush()
        if element.tag == "br":
            buffer.append(" ")
        if element.text and isinstance(element.tag, str):
            buffer.append(element.text)
        for child in element:
            walk(child)
            if child.tail:
                buffer.append(child.tail)
        if block:
            flush()

    walk(body)
    flush()
    text, spans = assemble([[(0, p)] for p in paragraphs], set(), 1)
    return Extraction("html", text, spans, info, "html.v1", [])


def read_docx(path: Path) -> Extraction:
    """Read a Word document: body paragraphs and table cells in document order."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(str(path))
    paragraphs: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            paragraphs.append(block.text)
        elif isinstance(block, Table):
            for row in block.rows:
                cells = [clean_paragraph(c.text) for c in row.cells]
                paragraphs.append(" | ".join(c for c in dict.fromkeys(cells) if c))
    cleaned = [clean_paragraph(normalise(p)) for p in paragraphs]
    props = document.core_properties
    info = {
        key: str(value)
        for key, value in (
            ("Title", props.title),
            ("Author", props.author),
            ("Subject", props.subject),
            ("CreationDate", props.created.isoformat() if props.created else ""),
        )
        if value
    }
    text, spans = assemble([[(0, p)] for p in cleaned if p], set(), 1)
    return Extraction("docx", text, spans, info, "docx.v1", [])
