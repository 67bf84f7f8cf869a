"""What a reader needs to know before reading: formats, limits, engine. Light to import."""

from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class IngestSettings:
    """Options of one ingest run."""

    jobs: int | None = None
    executor: str = "local"  # where files are read: local, dask, or tcp://HOST:PORT
    timeout: float = 120.0
    max_memory_mb: int = 2048
    read: ReadOptions = field(default_factory=ReadOptions)
    retry_problems: bool = False
    follow_links: bool = False  # follow symbolic links that point out of the drop
