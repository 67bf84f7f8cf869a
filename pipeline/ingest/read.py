"""Read one input file into canonical text. Runs inside a worker process.

:func:`read_file` either returns an :class:`~pipeline.models.Extraction` or raises
:class:`ReadFailure` carrying a catalogued :class:`~pipeline.errors.Problem`. It never writes
anything: the parent process stores results, so a killed worker cannot leave a half-written
document.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from pipeline.errors import Problem
from pipeline.ingest import formats, pdf
from pipeline.ingest.drop import DropFile, FileChanged, open_scanned
from pipeline.ingest.options import FORMATS, LAYOUT_VERSION, ReadOptions
from pipeline.ingest.pdftext import pdf_text
from pipeline.models import Extraction

_SPACE = re.compile(r"\s")
_GARBLED = re.compile("[\ufffd\ue000-\uf8ff]")


class ReadFailure(Exception):
    """Reading a file failed in a way a user can act on."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.reason)
        self.problem = problem


def sniff(head: bytes) -> str:
    """Name what a file's first bytes say it is: pdf, zip, html, text or binary."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip (Word, Excel or another Office file)"
    if stripped[:15].lower().startswith((b"<!doctype html", b"<html", b"<?xml", b"<head")):
        return "HTML"
    if b"\x00" not in head[:4096]:
        return "plain text"
    return "binary data"


_OPEN_FILES = Path("/proc/self/fd")
_CHATTY_LIBRARIES = ("pdfminer", "pdfplumber", "pypdfium2")


def quiet_pdf_libraries() -> None:
    """Keep the PDF libraries' own warnings off the terminal (their damage reports are ours).

    pdfminer logs every bad xref entry or font descriptor of a damaged PDF; Python prints such
    warnings on stderr between the lines of the run summary. A file too damaged to read becomes
    a 'corrupt' problem anyway; errors of the libraries still show.
    """
    for name in _CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.ERROR)


def read_scanned(item: DropFile, options: ReadOptions) -> Extraction:
    """Read the file the scan saw under ``item.path``, never another one swapped in since.

    The file is opened and checked once (see :func:`~pipeline.ingest.drop.open_scanned`); the
    readers then open that same open file through ``/proc/self/fd``, not the name again. Where
    there is no ``/proc`` (not Linux) they open the name right after the check.
    """
    try:
        handle, _ = open_scanned(item)
    except FileChanged as exc:
        raise ReadFailure(exc.problem) from exc
    except OSError as exc:
        detail = exc.strerror or str(exc)
        raise ReadFailure(Problem("unreadable", str(item.path), detail=detail)) from exc
    with handle:
        opened = _OPEN_FILES / str(handle.fileno())
        source = opened if os.path.exists(opened) else item.path
        return read_file(item.path, options, source=source)


def read_file(path: Path, options: ReadOptions, *, source: Path | None = None) -> Extraction:
    """Read ``path`` (format chosen by its extension) into canonical text.

    Args:
        path: the file's name, for its format and for the problems reported.
        options: limits and engine.
        source: where to read the bytes from, if not ``path`` (an open file's /proc entry).
    """
    name = str(path)
    kind = FORMATS.get(path.suffix.lower(), "")
    source = source or path
    try:
        size = source.stat().st_size
        if size == 0:
            raise ReadFailure(Problem("empty-file", name))
        if size > options.max_bytes:
            raise ReadFailure(
                Problem(
                    "too-large",
                    name,
                    detail=f"{size / 2**20:.0f} MB > {options.max_bytes / 2**20:.0f} MB",
                )
            )
        if kind == "pdf":
            return _read_pdf(path, source, options)
        _check_content_matches(path, source, kind)
        if kind == "docx":
            return formats.read_docx(source)
        data = source.read_bytes()
        extraction = (
            formats.read_html(data, name) if kind == "html" else formats.read_text(data, name)
        )
    except ReadFailure:
        raise
    except OSError as exc:
        raise ReadFailure(Problem("unreadable", name, detail=exc.strerror or str(exc))) from exc
    except MemoryError as exc:
        raise ReadFailure(Problem("out-of-memory", name)) from exc
    except Exception as exc:
        message = str(exc).replace(str(source), name)  # the file's name, not /proc/self/fd/N
        damaged = pdf.damage(exc) if kind == "pdf" else None
        if path.suffix.lower() == ".docx":
            problem = Problem("corrupt", name, detail=f"not a readable Word file ({message})")
        elif damaged is not None:
            problem = Problem("corrupt", name, detail=damaged)
        else:
            problem = Problem("internal-error", name, detail=f"{type(exc).__name__}: {message}")
        raise ReadFailure(problem) from exc
    if not extraction.text.strip():
        raise ReadFailure(Problem("no-text", name))
    return extraction


def _check_content_matches(path: Path, source: Path, kind: str) -> None:
    """Refuse a PDF or Word file named .txt/.html, or a .docx that is not a zip archive."""
    with source.open("rb") as handle:
        actual = sniff(handle.read(4096))
    expected = {"docx": ("zip",), "html": ("HTML", "plain text"), "txt": ("plain text", "HTML")}
    if not actual.startswith(expected[kind]):
        raise ReadFailure(
            Problem(
                "wrong-extension",
                str(path),
                detail=f"it looks like {actual}",
                params={"actual": actual},
            )
        )


def _read_pdf(path: Path, source: Path, options: ReadOptions) -> Extraction:
    name = str(path)
    with source.open("rb") as handle:
        head = handle.read(1024)
        handle.seek(max(0, source.stat().st_size - 2048))
        tail = handle.read()
    actual = sniff(head)
    if actual != "pdf":
        raise ReadFailure(
            Problem(
                "not-a-pdf",
                name,
                detail=f"its content looks like {actual}",
                params={"actual": actual},
            )
        )
    warnings: list[Problem] = []
    if b"%%EOF" not in tail:
        warnings.append(Problem("truncated", name))
    engine = options.engine
    try:
        document = pdf.open_pdf(source)
    except pdf.PdfOpenError as exc:
        if exc.reason == "encrypted":
            raise ReadFailure(Problem("encrypted", name, detail=exc.detail)) from exc
        engine = "pdfplumber"  # pdfminer sometimes recovers what PDFium rejects
        document = None
        open_error = exc.detail
    try:
        if document is not None:
            count = len(document)
            info = pdf.pdf_info(document)
        else:
            count, info = _pdfplumber_count(path, source, open_error)
        if count > options.max_pages:
            raise ReadFailure(
                Problem("too-many-pages", name, detail=f"{count} pages > limit {options.max_pages}")
            )
        if engine == "pdfium" and document is not None:
            pages = list(pdf.pdfium_pages(document))
        else:
            pages = list(pdf.pdfplumber_pages(source))
    finally:
        if document is not None:
            document.close()
    result = pdf_text(pages)
    if not result.text.strip():
        if result.image_only_pages:
            raise ReadFailure(Problem("scanned", name, detail=f"{len(pages)} page(s), no text"))
        raise ReadFailure(Problem("no-text", name, detail=f"{len(pages)} page(s)"))
    if result.image_only_pages:
        listed = ", ".join(str(n) for n in result.image_only_pages)
        warnings.append(
            Problem("scanned-pages", name, detail=f"page(s) {listed}", place=f"page {listed}")
        )
    garbled = _garbled_share(result.text)
    if garbled > 0.05:
        warnings.append(Problem("garbled-text", name, detail=f"{garbled:.0%} of the characters"))
    return Extraction(
        "pdf",
        result.text,
        result.pages,
        info,
        f"{engine}-{LAYOUT_VERSION}",
        warnings,
        result.furniture,
    )


def _garbled_share(text: str) -> float:
    """Share of non-space characters that are replacement or private-use code points."""
    visible = len(text) - len(_SPACE.findall(text))
    if not visible:
        return 0.0
    return len(_GARBLED.findall(text)) / visible


def _pdfplumber_count(path: Path, source: Path, open_error: str) -> tuple[int, dict[str, str]]:
    import pdfplumber

    try:
        with pdfplumber.open(source) as document:
            count = len(document.pages)
            info = {
                k: str(v)
                for k, v in (document.metadata or {}).items()
                if isinstance(v, (str, int, float)) and str(v).strip()
            }
    except Exception as exc:
        raise ReadFailure(Problem("corrupt", str(path), detail=open_error)) from exc
    if count == 0:
        raise ReadFailure(Problem("corrupt", str(path), detail=open_error))
    return count, info
