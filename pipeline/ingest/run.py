"""The ingest stage: drops in, documents, metadata and problems in the store.

:func:`ingest` does the I/O around the pure pieces (readers, metadata inference). Each document
is written in one transaction, so a run killed at any point leaves whole documents only; the next
run skips what is stored (identity is the sha256 of the bytes) and finishes the drop. Flags that
follow from what is stored ('undated', the filing of sidecar values) are reconciled against the
store at the end of every run, so the run after a kill also restores them.

This module holds the run itself; its parts are :mod:`.summary` (settings, summary, problems),
:mod:`.hashing` (size checks and hashes), :mod:`.batch` (triage, reading, the final pass),
:mod:`.worker` (the worker's task) and :mod:`.record` (documents, sightings, sidecars, flags).
Their public names are importable from here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from pipeline.executor import Executor, open_executor
from pipeline.ingest.batch import Batch, by_name
from pipeline.ingest.drop import scan  # looked up here by _ingest: tests put a change after it
from pipeline.ingest.hashing import hash_files, refuse_by_size, sha256_of
from pipeline.ingest.options import IngestSettings
from pipeline.ingest.record import reconcile_flags
from pipeline.ingest.summary import (
    ABOUT_THE_PATH,
    SKIPPED_BY_SCAN,
    STAGE,
    IngestSummary,
    report,
)
from pipeline.ingest.worker import ReadResult, read_task, warm_up_reader
from pipeline.store import Store

__all__ = [
    "STAGE",
    "IngestSettings",
    "IngestSummary",
    "ReadResult",
    "hash_files",
    "ingest",
    "read_task",
    "reconcile_flags",
    "sha256_of",
    "warm_up_reader",
]


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
        report(store, summary, problem)
    skipped = {p.path for p in found.problems if p.code in SKIPPED_BY_SCAN}
    for folder in folders:  # a link now followed, a FIFO removed: their problems close
        store.resolve_problems_under(
            summary.run_id, codes=SKIPPED_BY_SCAN, folder=str(folder), keep=skipped
        )
    files = refuse_by_size(store, summary, found.files, settings.read.max_bytes)
    batch = Batch(store, summary, by_name(found.sidecar_rows))
    hashes = hash_files(store, summary, files)
    unread = {p.path for p in summary.problems if p.code in ABOUT_THE_PATH}
    for folder in folders:  # read this time (or gone from the drop): their problems close
        store.resolve_problems_under(
            summary.run_id, codes=ABOUT_THE_PATH, folder=str(folder), keep=unread
        )
    batch.triage([item for item in files if item.path in hashes], hashes, settings.retry_problems)
    if on_total:
        on_total(len(batch.to_read))
    if batch.to_read:
        pool = executor or reading_executor(settings)
        try:
            batch.read_all(pool, settings.read, progress)
        finally:
            if executor is None:
                pool.close()
    batch.finish({item.name for item in files})


def reading_executor(settings: IngestSettings) -> Executor:
    """The executor ``settings`` name (local pool, Dask), with their per-file limits and the
    readers' warm-up."""
    return open_executor(
        settings.executor,
        jobs=settings.jobs,
        timeout=settings.timeout,
        max_memory_mb=settings.max_memory_mb,
        warm_up=warm_up_reader,
    )
