"""What a corpus store must do: the contract every backend (SQLite now, PostgreSQL next) meets.

Stage code depends on these protocols, not on a backend. A backend satisfies them structurally
(no inheritance): :class:`pipeline.store.sqlite.Store` is checked against :class:`Store` by
mypy and by ``tests/test_store_protocol.py``.

Guarantees that hold for every method unless it says otherwise:

* **All or none.** A method that writes does so in one transaction: if it raises, nothing it
  wrote is kept, and running the same command again resumes.
* **Failures a user can act on.** A write to a store opened for reading only, a full disk or
  lost access raises :class:`~pipeline.errors.StoreError` (what happened, how to go on) before
  or instead of a partial write; errors that are bugs (a violated constraint) are raised as
  they are.
* **Append-only human data.** Coders' decisions and proposed metadata values are only ever
  added; a document's canonical text and identity (sha256) never change once stored.
* **Current documents.** "Current" means not superseded by a later version of the document.
* **Times** are ISO 8601 UTC strings with seconds; **offsets** are code points into a
  document's canonical text, end excluded.
* **Rows** are the frozen dataclasses of :mod:`pipeline.core.records`; the lists and dicts in
  them are fresh for each call.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any, Protocol

from pipeline.core.records import (
    CoderAccount,
    CodingCounts,
    CodingToSave,
    CoverageRow,
    DecisionRow,
    DerivedResult,
    DocumentRow,
    DocumentToCode,
    FramePartner,
    FrameSegment,
    FrameTag,
    MachineTag,
    MetadataRecord,
    NewDecision,
    PageSpan,
    ProblemRow,
    ReviewExport,
    ReviewFile,
    RunRecord,
    RunRow,
    SegmentContext,
    SegmentRow,
    SegmentSpan,
    SegmentText,
    SegmentToSave,
    ShownRow,
    TagRow,
    TagToSave,
    UndatedDocument,
)
from pipeline.errors import Problem
from pipeline.models import Extraction, MetaValue, Resolved, Sighting


class RunLog(Protocol):
    """Runs of dshift commands, and the cache of file hashes that spares re-reading files."""

    def start_run(self, command: str, arguments: dict[str, Any]) -> str:
        """Record that ``command`` started with ``arguments``; return the new run's id.

        Ids are unique and sort in the order runs started. The run is 'running' until
        :meth:`finish_run` (or :meth:`mark_interrupted_runs`).
        """
        ...

    def recorded_run(
        self, command: str, arguments: dict[str, Any]
    ) -> AbstractContextManager[RunRecord]:
        """Return a context recording a run around its block, yielding the run's record.

        The block sets the record's ``counts`` and ``status``. The run ends 'failed' (or
        'interrupted' on KeyboardInterrupt) if the block raises, else with the record's status;
        the block's own error is raised even if the run cannot be marked.
        """
        ...

    def finish_run(self, run_id: str, status: str, counts: dict[str, Any]) -> None:
        """Record the end of run ``run_id``: its status and counts (JSON-serialisable)."""
        ...

    def mark_interrupted_runs(self) -> list[str]:
        """Mark every run still 'running' as interrupted (but runs of
        :data:`~pipeline.core.UNLOCKED_COMMANDS`, which may be alive); return their ids.

        Only call this while holding the workspace lock: then no other run of a command that
        takes it can be alive.
        """
        ...

    def recent_runs(self, limit: int = 5) -> list[RunRow]:
        """Return the last ``limit`` runs, the most recently started first."""
        ...

    def cached_sha256(self, path: str, size: int, mtime_ns: int) -> str | None:
        """Return the sha256 remembered for ``path`` if its size and mtime are unchanged."""
        ...

    def remember_files(self, entries: Iterable[tuple[str, int, int, str]]) -> None:
        """Remember ``(path, size, mtime_ns, sha256)`` of files just hashed (latest wins)."""
        ...


class Documents(Protocol):
    """Documents: canonical text, pages, the files they were seen as, and their metadata."""

    def add_document(
        self,
        *,
        sha256: str,
        text_sha256: str,
        extraction: Extraction,
        sighting: Sighting,
        metadata: list[MetaValue],
        resolved: Resolved,
        run_id: str,
        supersedes: int | None,
    ) -> int:
        """Store a new document with its pages, first sighting and metadata; return its id.

        All or none. ``supersedes`` names the document this one is a new version of; that one
        stops being current. A ``sha256`` already stored is refused (it is the identity).
        """
        ...

    def add_sighting(self, doc_id: int, sighting: Sighting, run_id: str) -> None:
        """Record that a stored document was seen again (at a known path: update size, mtime)."""
        ...

    def document(self, doc_id: int) -> DocumentRow | None:
        """Return the document with id ``doc_id``, or None if there is none."""
        ...

    def find_documents(self, ref: str) -> list[DocumentRow]:
        """Return documents matching ``ref``, by id.

        ``ref`` is an id (digits), a sha256 prefix of at least 6 characters, or a file name or
        path the document was seen under; superseded documents are included.
        """
        ...

    def current_document_named(self, name: str) -> DocumentRow | None:
        """Return the current document most recently stored that was seen as file ``name``."""
        ...

    def current_documents(self) -> list[DocumentRow]:
        """Return every current document, by id."""
        ...

    def document_ids_by_sha256(self) -> dict[str, int]:
        """Return the id of every stored document (current or not) by its sha256."""
        ...

    def sighted_paths(self) -> set[tuple[int, str]]:
        """Return every ``(document id, path)`` a document was seen at."""
        ...

    def document_text(self, doc_id: int) -> str:
        """Return a document's canonical text (which never changes once stored)."""
        ...

    def corpus_documents(self) -> list[dict[str, Any]]:
        """Return every current document with its canonical text and file names, by id.

        Keys: id, sha256, kind, name, n_chars, n_pages, source_type, issuer, date, year, title,
        language, extractor, text, and file_names (every name it was seen under, sorted).
        """
        ...

    def pages(self, doc_id: int) -> list[PageSpan]:
        """Return the spans of a document's pages in its text, first page first."""
        ...

    def file_names(self, doc_id: int) -> list[str]:
        """Return the distinct file names a document was seen under, sorted."""
        ...

    def add_metadata(self, doc_id: int, values: list[MetaValue], run_id: str | None) -> None:
        """Record proposed metadata values of a document (append-only; a known one is kept)."""
        ...

    def metadata(self, doc_id: int) -> list[MetadataRecord]:
        """Return every value ever proposed for a document, oldest first, with its time."""
        ...

    def set_resolved(self, doc_id: int, resolved: Resolved) -> None:
        """Store the metadata chosen for a document from its proposed values."""
        ...

    def coverage(self) -> list[CoverageRow]:
        """Return counts of current documents and pages per year and source type, sorted."""
        ...


class Problems(Protocol):
    """Problems met with files and documents: open until resolved by a run or dismissed."""

    def add_problem(
        self,
        run_id: str,
        stage: str,
        problem: Problem,
        *,
        sha256: str | None = None,
        document_id: int | None = None,
    ) -> None:
        """Record ``problem`` unless the same one (path, code, place) is already open.

        A problem about bytes (``sha256``) is kept per path: two files with the same bytes are
        two files for the user to deal with.
        """
        ...

    def resolve_problems(
        self,
        run_id: str,
        *,
        codes: Iterable[str],
        sha256: str | None = None,
        document_id: int | None = None,
        path: str | None = None,
    ) -> int:
        """Close the open problems of ``codes`` about these bytes, document or path; count them."""
        ...

    def resolve_problems_under(
        self, run_id: str, *, codes: Iterable[str], folder: str, keep: Iterable[str]
    ) -> int:
        """Close open problems of ``codes`` about paths in ``folder`` but not in ``keep``; count."""
        ...

    def resolve_problems_of_dated(self, run_id: str) -> int:
        """Close the open 'undated' problems of documents that now have a date; count them."""
        ...

    def dismiss_problems(self, ids: Iterable[int], run_id: str) -> int:
        """Close open problems by id (a user dealt with them); return how many were open."""
        ...

    def copy_open_errors(self, sha256: str, path: str, run_id: str) -> int:
        """Give ``path`` the open ingest errors its bytes have under other paths; count them."""
        ...

    def link_problems_to_documents(self, sha256: str | None = None) -> None:
        """Set the document of problems recorded by bytes before the document was stored (only
        those of ``sha256``, the file just stored, if given)."""
        ...

    def has_open_error(self, sha256: str, pipeline_version: str) -> bool:
        """Return whether this dshift version already failed to ingest these bytes."""
        ...

    def open_problems(self) -> list[ProblemRow]:
        """Return the problems not resolved or dismissed, oldest first."""
        ...

    def undated_documents_never_flagged(self) -> list[UndatedDocument]:
        """Return current undated documents that never had an 'undated' problem (open, closed
        or dismissed: a dismissed one stays dismissed), by id."""
        ...


class Coding(Protocol):
    """Codebooks, segments, machine tags, and the rows the indices and exports read.

    Tags are keyed by coder (e.g. ``rules.v1``) and codebook version: coding again under a new
    version keeps the old tags, so old outputs stay explainable.
    """

    def record_codebook(
        self, version: str, name: str, path: str, content: str, run_id: str | None
    ) -> None:
        """Keep the text of a codebook version; a version already kept is left as it is."""
        ...

    def codebook_content(self, version: str) -> str | None:
        """Return the text of a kept codebook version, or None."""
        ...

    def documents_to_code(self, segmenter: str, coder: str, version: str) -> list[DocumentToCode]:
        """Return current documents not yet coded by ``coder`` under ``version``, by id."""
        ...

    def coded_by_another_model(
        self, segmenter: str, coder: str, version: str, model: str
    ) -> list[DocumentToCode]:
        """Current documents ``coder`` coded under ``version`` with a model other than
        ``model`` (the SHA-256 of the model file, as its coding run recorded it), by id."""
        ...

    def save_coding(
        self,
        document_id: int,
        segmenter: str,
        coder: str,
        version: str,
        run_id: str,
        segments: list[SegmentToSave],
        tags: list[TagToSave],
        replace: bool = False,
    ) -> None:
        """Store a document's coding: segments (kept if already stored), partners and tags.

        All or none: a document is either fully coded under the version or not at all, and
        coding it again changes nothing; with ``replace`` (the coder's model was retrained),
        the coder's earlier tags of the document under the version are replaced.
        """
        ...

    def save_codings(self, codings: Iterable[CodingToSave]) -> None:
        """Store several documents' codings in one transaction; each document is coded in
        full or not at all, as with :meth:`save_coding`."""
        ...

    def segment(self, segment_id: str) -> SegmentRow | None:
        """Return the segment with this id, or None."""
        ...

    def document_segments(self, doc_id: int, segmenter: str) -> list[SegmentRow]:
        """Return the segments of one document cut by ``segmenter``, in reading order."""
        ...

    def tags_of_segment(self, segment_id: str) -> list[TagRow]:
        """Return every machine tag of a segment (all coders, versions), by version and code."""
        ...

    def tagged_segments(self, coder: str, version: str) -> dict[str, set[str]]:
        """Return, for each code (leaf and top-level), the ids of the segments tagged with it."""
        ...

    def coded_versions(self, coder: str) -> list[str]:
        """Return the codebook versions ``coder`` has coded under, the latest coded last."""
        ...

    def coding_counts(self, coder: str, version: str) -> CodingCounts:
        """Return how many documents, segments and tags ``coder`` coded under ``version``."""
        ...

    def segment_texts(self, segmenter: str, year: int | None = None) -> Iterator[SegmentText]:
        """Yield each segment of current documents (of ``year`` only, if given) with its text,
        in document and segment order, lazily (a large corpus is not read at once)."""
        ...

    def segment_rows(self, segmenter: str) -> list[SegmentSpan]:
        """Return the span of every segment of current documents, in document and segment order."""
        ...

    def machine_tags(self, coder: str, version: str) -> dict[str, list[MachineTag]]:
        """Return the machine tags of ``coder`` under ``version`` by segment id (tagged only)."""
        ...

    def frame_segments(self, segmenter: str) -> list[FrameSegment]:
        """Return the segments of current documents for the segment frame, in order."""
        ...

    def frame_tags(self, coder: str, version: str) -> list[FrameTag]:
        """Return every machine tag of ``coder`` under ``version`` for the segment frame."""
        ...

    def frame_partners(self, version: str) -> list[FramePartner]:
        """Return the partners found in segments under ``version``."""
        ...

    def inputs_as_of(self) -> str | None:
        """Return when the inputs of the exports last changed, or None for an empty store.

        That is the newest document, metadata value, coding or decision. Exports write this,
        not the clock, into the dates their formats insist on, so the same inputs give the same
        bytes.
        """
        ...

    def coded_segment_rows(self, coder: str, version: str) -> list[dict[str, Any]]:
        """Return one row per machine tag under a version, with its segment, text, document.

        Keys: segment_id, document_id, title, source_type, date, year, code, top_code,
        partners and evidence (both as JSON text), confidence, coder, codebook_version, start,
        end, text. Current documents only, in document, segment and code order.
        """
        ...

    def segment_export_rows(self, segment_ids: Iterable[str]) -> list[dict[str, Any]]:
        """Return one row per given segment of a current document, in no promised order.

        Keys: those of :meth:`coded_segment_rows` that do not belong to a tag (segment_id,
        document_id, title, source_type, date, year, start, end, text).
        """
        ...

    def segment_text_map(self, segment_ids: list[str]) -> dict[str, SegmentContext]:
        """Return the text and source of the given segments (any document), by segment id."""
        ...

    def corpus_segments(self, segmenter: str) -> list[dict[str, Any]]:
        """Return every segment of the current documents made by ``segmenter``, in document
        and position order.

        Keys: segment_id, document_id, seq, start, end (code-point offsets into the canonical
        text, end excluded), n_words, text (that slice of the canonical text).
        """
        ...


class Review(Protocol):
    """Coders' decisions, the files they were imported from, and the review exports sent.

    Decisions are append-only events: none is ever changed or deleted (an ``undo`` is a new
    decision); the current state is computed from them.
    """

    def add_decisions(
        self,
        decisions: list[NewDecision],
        *,
        sha256: str,
        path: str,
        kind: str,
        coder: str,
        run_id: str,
    ) -> int:
        """Record an imported file and its decisions, all or none; return how many decisions.

        The file is recorded even when ``decisions`` is empty (a re-save with nothing new), so
        the same bytes are recognised next time; the same bytes twice are refused.
        """
        ...

    def add_web_decisions(self, decisions: list[NewDecision]) -> list[int]:
        """Record decisions made on the review page (no file behind them), all or none; return
        their ids in order."""
        ...

    def decisions(self, segment_ids: Iterable[str] | None = None) -> list[DecisionRow]:
        """Return every decision, oldest first (only those about ``segment_ids``, if given)."""
        ...

    def decisions_of_coder(self, coder: str) -> list[DecisionRow]:
        """Return every decision of one coder (either role), oldest first."""
        ...

    def review_file(self, sha256: str) -> ReviewFile | None:
        """Return the file already imported with these bytes, or None."""
        ...

    def record_review_export(
        self,
        export_id: str,
        coder: str,
        path: str,
        strategy: str,
        blind: bool,
        segment_ids: list[str],
        *,
        kind: str = "review",
        role: str = "coder",
        codebook_version: str = "",
        scope: list[str] | None = None,
        signature: str | None = None,
        shown: list[ShownRow] | None = None,
        tracks: dict[str, list[str]] | None = None,
    ) -> None:
        """Record a review export and, per segment, what its sheet showed (all or none)."""
        ...

    def review_export(self, export_id: str) -> ReviewExport | None:
        """Return the review export with this id and what each row showed, or None."""
        ...


class Settings(Protocol):
    """Settings of the workspace kept with its data."""

    def workspace_id(self) -> str:
        """Return the random id the store was given when it was made (it never changes)."""
        ...

    def active_coder(self) -> str:
        """Return the machine coder whose tags the stages after coding read (default rules.v1)."""
        ...

    def set_active_coder(self, name: str) -> None:
        """Make ``name`` the machine coder the stages after coding read."""
        ...

    def sheet_key(self) -> bytes:
        """Return the workspace's secret key for signing review sheets (made and stored on
        first use, so that call needs a writable store; the same ever after)."""
        ...


class Derived(Protocol):
    """Results derived from the store (topic tables): regenerable, kept with provenance, so no
    stage reads them back from ``outputs/``."""

    def save_derived(self, result: DerivedResult) -> None:
        """Replace the result called ``result.name`` and all its tables, all or none."""
        ...

    def derived(self, name: str) -> DerivedResult | None:
        """Return the latest result called ``name`` with its tables, or None if there is none."""
        ...


class Accounts(Protocol):
    """Coder accounts for the review page; a token is kept only as its hash."""

    def add_coder_account(self, name: str, role: str, token_hash: str) -> CoderAccount:
        """Make an account (a name already taken is refused)."""
        ...

    def replace_coder_token(self, name: str, token_hash: str) -> CoderAccount:
        """Give an account a new token; the old one stops working at once."""
        ...

    def coder_account(self, name: str) -> CoderAccount | None:
        """Return the account called ``name``, or None."""
        ...

    def coder_by_token(self, token_hash: str) -> CoderAccount | None:
        """Return the enabled account whose token hashes to ``token_hash``, or None."""
        ...

    def coder_accounts(self) -> list[CoderAccount]:
        """Return every account, by name."""
        ...


class Store(RunLog, Documents, Problems, Coding, Review, Settings, Derived, Accounts, Protocol):
    """A whole corpus store: every part, and its life cycle.

    A backend also offers a way to open it by URL (``pipeline.store.connect`` chooses the
    backend by the URL's scheme) and brings its schema up to date when opened for writing.
    """

    @property
    def read_only(self) -> bool:
        """Return whether the store was opened for reading only.

        Then every write raises :class:`~pipeline.errors.StoreError`, saying why, before
        touching anything; reads work.
        """
        ...

    @property
    def schema_version(self) -> int:
        """Return how many schema migrations the store has applied."""
        ...

    def transaction(self) -> AbstractContextManager[Any]:
        """Return a context that runs its block as one all-or-nothing write transaction.

        It yields the backend's connection: an escape hatch for maintenance and tests, not for
        stage code (which calls the methods above, each its own transaction; they do not nest
        inside this one).
        """
        ...

    def close(self) -> None:
        """Close the store; committed work is kept."""
        ...

    def __enter__(self) -> Store:
        """Return the store, to close it at the end of a ``with`` block."""
        ...

    def __exit__(self, kind: object, exc: BaseException | None, trace: object) -> None:
        """Close the store; a damaged store met in the block is raised as a StoreError."""
        ...
