"""The ingest stage: drops in, documents, metadata and problems in the store.

:func:`ingest` does the I/O around the pure pieces (readers, metadata inference). Each document
is written in one transaction, so a run killed at any point leaves whole documents only; the next
run skips what is stored (identity is the sha256 of the bytes) and finishes the drop. Flags that
follow from what is stored ('undated', the filing of sidecar values) are reconciled against the
store at the end of every run, so the run after a kill also restores them.
"""

from __future__ import annotations

import hashlib
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline import __version__
from pipeline.errors import Problem
from pipeline.executor import Executor, Failure, LocalExecutor
from pipeline.ingest import metadata as meta
from pipeline.ingest.drop import DropFile, FileChanged, SidecarRow, open_scanned, scan
from pipeline.ingest.options import ReadOptions
from pipeline.models import Extraction, MetaValue, Resolved, Sighting
from pipeline.store import DocumentRow, Store

STAGE = "ingest"
_FAILURE_CODES = {
    "timeout": "timeout",
    "memory": "out-of-memory",
    "crashed": "worker-crashed",
    "error": "internal-error",
}
_INGEST_ERRORS = (
    "empty-file",
    "not-a-pdf",
    "encrypted",
    "corrupt",
    "scanned",
    "no-text",
    "too-many-pages",
    "too-large",
    "timeout",
    "out-of-memory",
    "worker-crashed",
    "unreadable",
    "file-changed",
    "internal-error",
)
_SKIPPED_BY_SCAN = ("link-outside", "broken-link", "not-a-file", "unreadable-folder")
# Problems of the name, not of the bytes: the same bytes elsewhere (or later) may read fine.
_ABOUT_THE_PATH = ("unreadable", "file-changed")


@dataclass(frozen=True)
class IngestSettings:
    """Options of one ingest run."""

    jobs: int | None = None
    timeout: float = 120.0
    max_memory_mb: int = 2048
    read: ReadOptions = field(default_factory=ReadOptions)
    retry_problems: bool = False
    follow_links: bool = False  # follow symbolic links that point out of the drop


@dataclass
class IngestSummary:
    """What a run did, for the one-screen summary."""

    run_id: str
    files: int = 0
    new: int = 0
    changed: int = 0
    duplicate: int = 0
    unchanged: int = 0
    skipped_known_problems: int = 0
    metadata_updates: int = 0
    pages: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)
    changed_names: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def counts(self) -> dict[str, int | float]:
        return {
            "files": self.files,
            "new": self.new,
            "changed": self.changed,
            "duplicate": self.duplicate,
            "unchanged": self.unchanged,
            "skipped_known_problems": self.skipped_known_problems,
            "metadata_updates": self.metadata_updates,
            "pages": self.pages,
            "errors": len(self.errors),
            "warnings": len(self.problems) - len(self.errors),
            "seconds": round(self.seconds, 2),
        }


@dataclass(frozen=True)
class ReadResult:
    """What a worker sends back: an extraction or the problem that prevented it."""

    extraction: Extraction | None
    problem: Problem | None


def read_task(task: tuple[DropFile, ReadOptions]) -> ReadResult:
    """Read one file; runs in a worker process (top-level so that it pickles)."""
    from pipeline.ingest.read import ReadFailure, read_scanned  # heavy: only where files are read

    item, options = task
    try:
        return ReadResult(read_scanned(item, options), None)
    except ReadFailure as failure:
        return ReadResult(None, failure.problem)


def warm_up_reader() -> None:
    """Load the reading code and the hyphenation lexicon (in a new worker process)."""
    from pipeline.ingest.canonical import lexicon
    from pipeline.ingest.read import quiet_pdf_libraries

    quiet_pdf_libraries()
    lexicon()


def sha256_of(item: DropFile) -> str:
    """Hash the file the scan saw under ``item.path`` (see :func:`open_scanned` for the checks).

    Raises:
        FileChanged: the name now leads to another file, or the file was modified.
        OSError: the file cannot be opened or read.
    """
    digest = hashlib.sha256()
    handle, _ = open_scanned(item)
    with handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ingest(
    store: Store,
    drops: list[Path],
    settings: IngestSettings,
    *,
    arguments: dict[str, object] | None = None,
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> IngestSummary:
    """Ingest every file of ``drops`` that the store does not hold yet.

    Args:
        store: the corpus store (the caller holds the workspace lock).
        drops: folders (or single files) to ingest.
        settings: limits and engine.
        arguments: recorded with the run.
        executor: where to read files; default a local process pool.
        progress: called with the number of files just finished.
        on_total: called once with the number of files to read.
    """
    started = time.perf_counter()
    store.mark_interrupted_runs()
    with store.recorded_run(STAGE, arguments or {"drops": [str(d) for d in drops]}) as run:
        summary = IngestSummary(run.id)
        try:
            _ingest(store, drops, settings, summary, executor, progress, on_total)
            run.status = "completed-with-problems" if summary.problems else "completed"
        finally:
            summary.seconds = time.perf_counter() - started
            run.counts = summary.counts()
    return summary


def _report(
    store: Store,
    summary: IngestSummary,
    problem: Problem,
    *,
    sha256: str | None = None,
    document_id: int | None = None,
) -> None:
    summary.problems.append(problem)
    store.add_problem(summary.run_id, STAGE, problem, sha256=sha256, document_id=document_id)


def _ingest(
    store: Store,
    drops: list[Path],
    settings: IngestSettings,
    summary: IngestSummary,
    executor: Executor | None,
    progress: Callable[[int], None] | None,
    on_total: Callable[[int], None] | None,
) -> None:
    folders = [d.resolve() for d in drops]
    found = scan(folders, follow_links=settings.follow_links)
    summary.files = len(found.files)
    for problem in found.problems:
        _report(store, summary, problem)
    skipped = {p.path for p in found.problems if p.code in _SKIPPED_BY_SCAN}
    for folder in folders:  # a link now followed, a FIFO removed: their problems close
        store.resolve_problems_under(
            summary.run_id, codes=_SKIPPED_BY_SCAN, folder=str(folder), keep=skipped
        )
    files = _refuse_by_size(store, summary, found.files, settings.read.max_bytes)
    batch = _Batch(store, summary, _by_name(found.sidecar_rows))
    hashes = hash_files(store, summary, files)
    unread = {p.path for p in summary.problems if p.code in _ABOUT_THE_PATH}
    for folder in folders:  # read this time (or gone from the drop): their problems close
        store.resolve_problems_under(
            summary.run_id, codes=_ABOUT_THE_PATH, folder=str(folder), keep=unread
        )
    batch.triage([item for item in files if item.path in hashes], hashes, settings.retry_problems)
    if on_total:
        on_total(len(batch.to_read))
    if batch.to_read:
        pool = executor or LocalExecutor(
            settings.jobs, settings.timeout, settings.max_memory_mb, warm_up=warm_up_reader
        )
        try:
            batch.read_all(pool, settings.read, progress)
        finally:
            if executor is None:
                pool.close()
    batch.finish({item.name for item in files})


def _refuse_by_size(
    store: Store, summary: IngestSummary, files: list[DropFile], limit: int
) -> list[DropFile]:
    """Report empty files and files over the size limit before hashing them.

    Every empty file is reported under its own path: as bytes they are all the same file.
    """
    for item in files:
        if item.size == 0:
            _report(store, summary, Problem("empty-file", str(item.path)))
        elif item.size > limit:
            detail = f"{item.size / 2**20:.0f} MB > {limit / 2**20:.0f} MB"
            _report(store, summary, Problem("too-large", str(item.path), detail=detail))
    return [item for item in files if 0 < item.size <= limit]


@dataclass
class _Batch:
    """The state of one ingest run between triage, reading and the final metadata pass."""

    store: Store
    summary: IngestSummary
    sidecar: dict[str, list[SidecarRow]]
    known: dict[str, int] = field(default_factory=dict)  # sha256 -> document id
    sighted: set[tuple[int, str]] = field(default_factory=set)
    to_read: dict[str, DropFile] = field(default_factory=dict)  # sha256 -> first file with it
    later_duplicates: list[tuple[DropFile, str]] = field(default_factory=list)
    failed: dict[str, Problem] = field(default_factory=dict)  # sha256 -> why it was not stored
    stored: set[int] = field(default_factory=set)  # documents stored or re-resolved

    def triage(self, files: list[DropFile], hashes: dict[Path, str], retry: bool) -> None:
        """Sort files into seen before, duplicates within the drop, known failures, to read."""
        self.known = self.store.document_ids_by_sha256()
        self.sighted = self.store.sighted_paths()
        for item in files:
            sha = hashes[item.path]
            if sha in self.known:
                _see_again(self.store, self.summary, self.known[sha], item, self.sighted)
            elif sha in self.to_read:
                self.later_duplicates.append((item, sha))
            elif not retry and self.store.has_open_error(sha, __version__):
                self.summary.skipped_known_problems += 1
                # The same bytes under a new path: that path gets the problems too.
                self.store.copy_open_errors(sha, str(item.path), self.summary.run_id)
            else:
                self.to_read[sha] = item

    def read_all(
        self, pool: Executor, options: ReadOptions, progress: Callable[[int], None] | None
    ) -> None:
        """Read the new files in workers and store each result as it arrives."""
        tasks = [(item, options) for item in self.to_read.values()]
        by_path = {str(item.path): sha for sha, item in self.to_read.items()}
        for (item, _), outcome in pool.map_unordered(read_task, tasks):
            path = str(item.path)
            sha = by_path[path]
            result = outcome.value
            if outcome.failure is not None or result is None:
                problem = _failure_problem(path, outcome.failure)
                _report(self.store, self.summary, problem, sha256=sha)
                self.failed[sha] = problem
            elif result.problem is not None and result.problem.code in _ABOUT_THE_PATH:
                # Not these bytes' fault: no mark on them, the next run reads the file again.
                _report(self.store, self.summary, result.problem)
            elif result.problem is not None:
                _report(self.store, self.summary, result.problem, sha256=sha)
                self.failed[sha] = result.problem
            elif result.extraction is not None:
                item = self.to_read[sha]
                values = [v for row in self.sidecar.get(item.name, []) for v in row.values]
                doc_id = _store_new(self.store, self.summary, item, sha, result.extraction, values)
                self.known[sha] = doc_id
                self.stored.add(doc_id)
            if progress:
                progress(1)

    def finish(self, names_in_drop: set[str]) -> None:
        """Record duplicates inside the drop, apply sidecars, reconcile per-document flags."""
        for item, sha in self.later_duplicates:
            if sha in self.known:
                _see_again(self.store, self.summary, self.known[sha], item, self.sighted)
            elif sha in self.failed:  # same bytes as a file that failed: same problem, own path
                problem = replace(self.failed[sha], path=str(item.path))
                _report(self.store, self.summary, problem, sha256=sha)
        self.summary.metadata_updates = _apply_sidecars(
            self.store, self.summary, self.sidecar, self.stored, names_in_drop
        )
        reconcile_flags(self.store, self.summary)


def hash_files(store: Store, summary: IngestSummary, files: list[DropFile]) -> dict[Path, str]:
    """Hash each file (or take its hash from the cache); report those that cannot be read.

    A file that vanished, is unreadable or was replaced since the scan is reported and left
    out of the result; the others go on.
    """
    hashes: dict[Path, str] = {}
    fresh: list[tuple[str, int, int, str]] = []
    for item in files:
        sha = store.cached_sha256(str(item.path), item.size, item.mtime_ns)
        if sha is None:
            try:
                sha = sha256_of(item)
            except FileChanged as exc:
                _report(store, summary, exc.problem)
                continue
            except OSError as exc:
                detail = exc.strerror or str(exc)
                _report(store, summary, Problem("unreadable", str(item.path), detail=detail))
                continue
            fresh.append((str(item.path), item.size, item.mtime_ns, sha))
        hashes[item.path] = sha
    if fresh:
        store.remember_files(fresh)
    return hashes


def _by_name(rows: list[SidecarRow]) -> dict[str, list[SidecarRow]]:
    by_name: dict[str, list[SidecarRow]] = {}
    for row in rows:
        by_name.setdefault(row.file, []).append(row)
    return by_name


def _sighting(item: DropFile) -> Sighting:
    return Sighting(str(item.path), item.name, item.size, item.mtime_ns)


def _see_again(
    store: Store, summary: IngestSummary, doc_id: int, item: DropFile, sighted: set[tuple[int, str]]
) -> None:
    if (doc_id, str(item.path)) in sighted:
        summary.unchanged += 1
        return
    names = store.file_names(doc_id)
    store.add_sighting(doc_id, _sighting(item), summary.run_id)
    sighted.add((doc_id, str(item.path)))
    if item.name in names:
        summary.unchanged += 1
    else:
        summary.duplicate += 1


def _failure_problem(path: str, failure: Failure | None) -> Problem:
    if failure is None:
        return Problem("internal-error", path, detail="the reader returned nothing")
    return Problem(_FAILURE_CODES[failure.kind], path, detail=failure.detail)


def _store_new(
    store: Store,
    summary: IngestSummary,
    item: DropFile,
    sha: str,
    extraction: Extraction,
    sidecar_values: list[MetaValue],
) -> int:
    candidates = [
        *meta.from_text(extraction.text, extraction.furniture),
        *meta.from_filename(item.name),
        *meta.from_file_info(extraction.info),
        *sidecar_values,
    ]
    resolved = meta.resolve((value, "") for value in candidates)
    previous = store.current_document_named(item.name)
    supersedes = previous.id if previous and previous.sha256 != sha else None
    # Flags first, keyed by the bytes, then the document: a kill between the two leaves flags
    # that the next run links to the document (reconcile_flags), never a document without them.
    for warning in extraction.warnings:
        _report(store, summary, warning, sha256=sha)
    conflict = meta.date_conflict(candidates)
    if conflict and resolved.provenance.get("date") not in ("sidecar", "manual"):
        ref = {"doc": shlex.quote(item.name)}
        _report(
            store,
            summary,
            Problem("date-conflict", str(item.path), conflict, params=ref),
            sha256=sha,
        )
    store.resolve_problems(summary.run_id, codes=_INGEST_ERRORS, sha256=sha, path=str(item.path))
    doc_id = store.add_document(
        sha256=sha,
        text_sha256=hashlib.sha256(extraction.text.encode("utf-8")).hexdigest(),
        extraction=extraction,
        sighting=_sighting(item),
        metadata=candidates,
        resolved=resolved,
        run_id=summary.run_id,
        supersedes=supersedes,
    )
    if supersedes is None:
        summary.new += 1
    else:
        summary.changed += 1
        summary.changed_names.append(item.name)
    summary.pages += len(extraction.pages)
    if extraction.warnings or conflict:
        store.link_problems_to_documents(sha)
    return doc_id


def _apply_sidecars(
    store: Store,
    summary: IngestSummary,
    sidecar: dict[str, list[SidecarRow]],
    stored: set[int],
    in_drop: set[str],
) -> int:
    """Apply sidecar rows to stored documents (matched by file name); return how many changed."""
    updated = 0
    for name, rows in sidecar.items():
        document = store.current_document_named(name)
        if document is None:
            if name in in_drop:
                continue  # the file is here but could not be read: its own problem says why
            _report(
                store,
                summary,
                Problem(
                    "sidecar",
                    str(rows[0].sidecar),
                    place=f"line {rows[0].line}, column file",
                    detail=f"no file named '{name}' in this drop or in the corpus",
                ),
            )
            continue
        values = [v for row in rows for v in row.values]
        metadata = store.metadata(document.id)
        known = {(m.value.field, m.value.value, m.value.source, m.value.detail) for m in metadata}
        new = [v for v in values if (v.field, v.value, v.source, v.detail) not in known]
        if new:
            store.add_metadata(document.id, new, summary.run_id)
            store.set_resolved(
                document.id,
                meta.resolve((m.value, m.recorded_at) for m in store.metadata(document.id)),
            )
            updated += 1
            stored.add(document.id)
            continue
        # Stored by this run: resolve again with the real timestamps of the sidecar values. Or
        # a run was killed between recording the values and resolving them: resolve now.
        resolved = meta.resolve((m.value, m.recorded_at) for m in metadata)
        if document.id in stored or not _filed_under(document, resolved):
            store.set_resolved(document.id, resolved)
    return updated


def _filed_under(document: DocumentRow, resolved: Resolved) -> bool:
    """True if the stored document is filed under ``resolved`` already."""
    return (
        document.source_type,
        document.issuer,
        document.date,
        document.year,
        document.title,
        document.language,
        document.provenance,
    ) == (
        resolved.source_type,
        resolved.issuer,
        resolved.date,
        resolved.year,
        resolved.title,
        resolved.language,
        resolved.provenance,
    )


def reconcile_flags(store: Store, summary: IngestSummary) -> None:
    """Derive the per-document flags from what the store holds, whatever earlier runs did.

    A run killed after storing documents but before its end leaves them unflagged; the next run
    (this function runs at the end of every run) flags them. A document that never had an
    'undated' problem and has no date gets one; open ones of documents now dated close. Problems
    written before their document (keyed by its bytes) are linked to it.
    """
    store.link_problems_to_documents()
    for undated in store.undated_documents_never_flagged():
        doc_id, path = undated.document_id, undated.path
        problem = Problem("undated", path, params={"doc": str(doc_id)})
        _report(store, summary, problem, document_id=doc_id)
    store.resolve_problems_of_dated(summary.run_id)
