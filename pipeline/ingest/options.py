"""What a reader needs to know before reading: formats, limits, engine. Light to import."""

from __future__ import annotations

from dataclasses import dataclass

FORMATS = {
    ".pdf": "pdf",
    ".txt": "txt",
    ".text": "txt",
    ".md": "txt",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".docx": "docx",
}
LAYOUT_VERSION = "layout.v1"


@dataclass(frozen=True)
class ReadOptions:
    """Per-file limits and choices, the same for every file of a run."""

    engine: str = "pdfium"
    max_pages: int = 2000
    max_bytes: int = 200 * 1024 * 1024
