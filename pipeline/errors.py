"""Every error and problem the pipeline reports, in one catalogue.

Two families live here:

* :class:`DshiftError` is raised when a command cannot go on (no workspace, locked store, bad
  argument). The CLI turns it into a message and an exit code.
* :class:`Problem` records something wrong with one input file. It never stops a batch: it is stored
  in the corpus store, listed in the run summary and exported to ``outputs/problems.csv``.

Each entry has a stable code so that users, tests and later issues can refer to it.
"""

from __future__ import annotations

import errno
import shlex
import sqlite3
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


class DshiftError(Exception):
    """A failure a user can act on: what happened, where, and how to fix it.

    Attributes:
        message: what went wrong, and where (file, row, option).
        hint: how to fix it.
        code: the stable name of the kind of error (a key of :data:`ERRORS`), shown to the
            user and kept by tests; the exit status comes from it.
    """

    code = "failed"

    def __init__(self, message: str, hint: str = "", *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            if code not in ERRORS:
                raise ValueError(f"error code {code!r} is not in the catalogue")
            self.code = code

    @property
    def exit_code(self) -> int:
        """The process exit status of this error (from its catalogue entry)."""
        return ERRORS[self.code].exit_code

    def __str__(self) -> str:
        return f"{self.message}\n  fix: {self.hint}" if self.hint else self.message


class WorkspaceError(DshiftError):
    """The workspace is missing or malformed."""

    code = "workspace"


class LockedError(DshiftError):
    """Another dshift process holds the workspace lock."""

    code = "locked"


class StoreError(DshiftError):
    """The corpus store cannot be opened or is of an unknown version."""

    code = "store"


class RefiError(DshiftError, ValueError):
    """A REFI-QDA file cannot be written or read; the message says what, where and how to fix."""

    code = "refi"


class SystemFailure(DshiftError):
    """The machine refused a read or write: disk full, permission denied, read-only disk."""

    code = "system"


@dataclass(frozen=True)
class ErrorKind:
    """A catalogue entry of errors that stop a command.

    Attributes:
        code: the stable name (shown as ``error [code]``).
        exit_code: the process exit status.
        summary: what this kind of error means, for the README and ``dshift --help``.
    """

    code: str
    exit_code: int
    summary: str


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells do
EXIT_BUG = 70  # EX_SOFTWARE of sysexits.h

ERRORS: dict[str, ErrorKind] = {
    kind.code: kind
    for kind in (
        ErrorKind("failed", 1, "the command could not do what was asked (see the message)"),
        ErrorKind("usage", 1, "an option or argument cannot be used as given"),
        ErrorKind("not-found", 1, "a document, segment, file or run named does not exist"),
        ErrorKind("not-ready", 1, "an earlier step is missing (e.g. nothing coded yet)"),
        ErrorKind("workspace", 2, "no workspace here, or a workspace folder is malformed"),
        ErrorKind("locked", 3, "another dshift command is writing to this workspace"),
        ErrorKind("store", 4, "the corpus store cannot be opened, read or written"),
        ErrorKind("problems", 5, "--strict: some files of the drop have problems"),
        ErrorKind("codebook", 6, "the codebook is invalid (file, line and fix given)"),
        ErrorKind("model", 1, "no trained model for this codebook, or one made by another version"),
        ErrorKind("bad-file", 1, "a file given to a command cannot be read or used as it is"),
        ErrorKind("bad-input", 7, "'dshift tag': an input line is not valid"),
        ErrorKind("bad-sheet", 8, "a review sheet or project cannot be imported as it is"),
        ErrorKind("refi", 8, "a REFI-QDA file cannot be read or written"),
        ErrorKind("system", 9, "the machine refused: disk full, permission denied, read-only"),
        ErrorKind("bug", EXIT_BUG, "dshift failed unexpectedly (a bug; traceback in a file)"),
        ErrorKind(
            "interrupted", EXIT_INTERRUPTED, "stopped by Ctrl-C or SIGTERM; stored work is whole"
        ),
    )
}


def is_damaged(exc: BaseException) -> bool:
    """Return whether ``exc`` is SQLite saying its file is damaged or not a database at all
    (SQLITE_CORRUPT, SQLITE_NOTADB), as opposed to a bug or a refused read or write."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return True
    text = str(exc).lower()
    return "disk image is malformed" in text or "file is not a database" in text


def damaged_store(path: str, exc: BaseException) -> StoreError:
    """The error for a corpus store file ``path`` that SQLite finds damaged.

    Nothing is promised about what was kept: the coders' decisions are in that very file, so
    the hint says how to check it and to restore it from a backup, and not to delete it.
    """
    quoted = shlex.quote(path)
    return StoreError(
        f"the corpus store {path} is damaged: SQLite cannot read part of it ({exc})",
        f"check it with: sqlite3 {quoted} 'PRAGMA integrity_check'. It holds the documents "
        "and every coder's decision: do not delete it. Copy it aside (with its -wal and -shm "
        "files, if any), restore the corpus/ folder from your latest backup and run the "
        "command again; decisions made since that backup may be retrieved from the damaged "
        "copy with sqlite3's .recover command",
    )


def system_failure(exc: BaseException, near: str = "") -> DshiftError | None:
    """Name a disk-full, permission or read-only failure, or a damaged store, with its path
    and fix, else None.

    Covers :class:`OSError` and SQLite's own reports of the same conditions (SQLite does not
    raise OSError). ``near`` (the workspace) stands in for the path when the error has none, as
    a failed write does not say which file it was writing. A damaged store is a
    :class:`StoreError` (the store itself reports it with its path; this is the fallback for
    an error that escaped it).
    """
    if is_damaged(exc):
        store = f"{near}/corpus/corpus.sqlite" if near else "corpus/corpus.sqlite"
        return damaged_store(store, exc)
    path, code = "", None
    if isinstance(exc, OSError):
        code = exc.errno
        path = str(exc.filename or "") or (f"a file under {near}" if near else "")
    elif isinstance(exc, sqlite3.Error):
        text = str(exc).lower()
        if "disk is full" in text:
            code = errno.ENOSPC
        elif "readonly database" in text or "read-only" in text:
            code = errno.EROFS
        path = "the corpus store in the workspace's corpus/ folder"
    where = f": {path}" if path else ""
    again = "then run the same command again (stored work is complete: every write is all or none)"
    if code == errno.ENOSPC:
        return SystemFailure(
            f"the disk is full: a write failed{where}", f"free space on that disk, {again}"
        )
    if code in (errno.EACCES, errno.EPERM):
        return SystemFailure(
            f"permission denied{where}",
            f"give your user the right to read and write it (e.g. chmod u+rw), {again}",
        )
    if code == errno.EROFS:
        return SystemFailure(
            f"the file system is read-only{where}",
            f"use a workspace on a writable disk (or remount this one read-write), {again}",
        )
    return None


@dataclass(frozen=True)
class ProblemKind:
    """A catalogue entry: a stable code, a severity, and the default fix."""

    code: str
    severity: Severity
    summary: str
    hint: str


def _kinds(*kinds: ProblemKind) -> dict[str, ProblemKind]:
    return {kind.code: kind for kind in kinds}


PROBLEM_KINDS = _kinds(
    ProblemKind(
        "empty-file",
        "error",
        "the file is empty (0 bytes)",
        "re-export or re-download the file and drop it again",
    ),
    ProblemKind(
        "not-a-pdf",
        "error",
        "the file is named .pdf but is not a PDF",
        "check what the file really is; if it is {actual}, give it the matching extension",
    ),
    ProblemKind(
        "wrong-extension",
        "error",
        "the file's name does not match its content",
        "rename it with the extension of what it is ({actual}) and drop it again",
    ),
    ProblemKind(
        "encrypted",
        "error",
        "the PDF is password-protected",
        "remove the protection (e.g. qpdf --decrypt --password=PASSWORD in.pdf out.pdf) "
        "and drop the decrypted copy",
    ),
    ProblemKind(
        "corrupt",
        "error",
        "the PDF is damaged and cannot be read",
        "re-download or re-export the file; 'qpdf --check FILE' shows the damage and "
        "'qpdf FILE repaired.pdf' often repairs it (then drop the repaired copy)",
    ),
    ProblemKind(
        "truncated",
        "warning",
        "the PDF ends early (no %%EOF marker); pages may be missing",
        "compare the page count with the original and re-download it if pages are missing",
    ),
    ProblemKind(
        "scanned",
        "error",
        "no text layer: the pages are images, this looks scanned",
        "run OCR (e.g. ocrmypdf --language eng in.pdf out.pdf) and drop the OCRed copy",
    ),
    ProblemKind(
        "scanned-pages",
        "warning",
        "some pages have no text layer (they look scanned)",
        "their text is missing from the corpus; OCR the file (e.g. ocrmypdf --skip-text) "
        "and drop it again to add it as a new version",
    ),
    ProblemKind(
        "garbled-text",
        "warning",
        "much of the text did not decode (the PDF's fonts lack a Unicode map)",
        "OCR the file to replace its text layer (e.g. ocrmypdf --force-ocr in.pdf out.pdf) and "
        "drop it again",
    ),
    ProblemKind(
        "no-text",
        "error",
        "no text could be extracted",
        "open the file to check it has content; if it is a picture of text, run OCR",
    ),
    ProblemKind(
        "too-many-pages",
        "error",
        "the file has more pages than the per-file limit",
        "split the file, or raise the limit with --max-pages",
    ),
    ProblemKind(
        "too-large",
        "error",
        "the file is larger than the per-file size limit",
        "check that it is a text document; raise the limit with --max-megabytes if it is",
    ),
    ProblemKind(
        "timeout",
        "error",
        "reading the file took longer than the per-file time limit",
        "the file may be pathological; raise --timeout if it is simply very large",
    ),
    ProblemKind(
        "out-of-memory",
        "error",
        "reading the file needed more memory than the per-file limit",
        "the file may hide a decompression bomb; raise --max-memory-mb only if you trust it",
    ),
    ProblemKind(
        "worker-crashed",
        "error",
        "the reader process died on this file",
        "the file is probably malformed; re-export it, or report it with the file attached",
    ),
    ProblemKind(
        "unreadable",
        "error",
        "the file could not be read",
        "check the file's permissions and that the disk is mounted",
    ),
    ProblemKind(
        "unreadable-folder",
        "error",
        "a folder of the drop could not be listed; none of its files were ingested",
        "give your user the right to list it (e.g. chmod u+rx FOLDER) and run the ingest again",
    ),
    ProblemKind(
        "file-changed",
        "error",
        "the file changed between the scan of the drop and its reading; it was not ingested",
        "run the ingest again once nothing is writing, moving or replacing files in the drop",
    ),
    ProblemKind(
        "link-outside",
        "error",
        "a symbolic link that points outside the drop; it was not followed",
        "copy what it points to into the drop, or run again with --follow-links if you "
        "trust where the link points",
    ),
    ProblemKind(
        "broken-link",
        "error",
        "a symbolic link whose target does not exist",
        "remove the link, or put the file it names back",
    ),
    ProblemKind(
        "not-a-file",
        "error",
        "not a regular file; it was not opened",
        "remove it from the drop: only regular files (PDF, DOCX, HTML, text) are ingested",
    ),
    ProblemKind(
        "bad-encoding",
        "warning",
        "the text file is not valid UTF-8; it was read as {encoding}",
        "check accented names in the stored text; re-save the file as UTF-8 if they are wrong",
    ),
    ProblemKind(
        "unsupported-format",
        "error",
        "this file type is not ingested",
        "convert it to PDF, DOCX, HTML or plain text; supported: {supported}",
    ),
    ProblemKind(
        "sidecar",
        "error",
        "a row of metadata.csv cannot be used",
        "correct the row (see the reason) and run the ingest again",
    ),
    ProblemKind(
        "undated",
        "warning",
        "no date found in the sidecar, the text or the file name",
        "set it with 'dshift doc set-date {doc} YYYY-MM-DD', or list the file in a metadata.csv "
        "in a later drop; it is left out of yearly figures until then",
    ),
    ProblemKind(
        "date-conflict",
        "warning",
        "the sources of the date disagree",
        "check the document; set the right date with 'dshift doc set-date {doc} YYYY-MM-DD'",
    ),
    ProblemKind(
        "internal-error",
        "error",
        "dshift failed on this file (a bug)",
        "please report it with the file and the reason; the rest of the drop was processed",
    ),
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input, ready to store and show.

    Attributes:
        code: key into :data:`PROBLEM_KINDS`.
        path: the file the problem is about.
        detail: what exactly went wrong (an exception message, a page list).
        place: where in the file ("page 3", "row 7"), if known.
        params: values for the placeholders of the catalogue hint.
    """

    code: str
    path: str
    detail: str = ""
    place: str = ""
    params: dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> ProblemKind:
        return PROBLEM_KINDS[self.code]

    @property
    def severity(self) -> Severity:
        return self.kind.severity

    @property
    def reason(self) -> str:
        summary = self.kind.summary.format_map(_Defaulting(self.params))
        return f"{summary}: {self.detail}" if self.detail else summary

    @property
    def hint(self) -> str:
        return self.kind.hint.format_map(_Defaulting(self.params))


class _Defaulting(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
