"""One ingest run's files from triage to the final metadata pass.

Triage sorts the hashed files into seen before, duplicates within the drop, known failures and
files to read; the new files are read in workers and each result stored as it arrives; the end
records the duplicates, applies the sidecars and reconciles the flags.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline import __version__
from pipeline.errors import Problem
from pipeline.executor import Executor
from pipeline.ingest.drop import DropFile, SidecarRow
from pipeline.ingest.options import ReadOptions
from pipeline.ingest.record import apply_sidecars, reconcile_flags, see_again, store_new
from pipeline.ingest.summary import ABOUT_THE_PATH, IngestSummary, report
from pipeline.ingest.worker import failure_problem, read_task
from pipeline.store import Store


@dataclass
class Batch:
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
                see_again(self.store, self.summary, self.known[sha], item, self.sighted)
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
                problem = failure_problem(path, outcome.failure)
                report(self.store, self.summary, problem, sha256=sha)
                self.failed[sha] = problem
            elif result.problem is not None and result.problem.code in ABOUT_THE_PATH:
                # Not these bytes' fault: no mark on them, the next run reads the file again.
                report(self.store, self.summary, result.problem)
            elif result.problem is not None:
                report(self.store, self.summary, result.problem, sha256=sha)
                self.failed[sha] = result.problem
            elif result.extraction is not None:
                item = self.to_read[sha]
                values = [v for row in self.sidecar.get(item.name, []) for v in row.values]
                doc_id = store_new(self.store, self.summary, item, sha, result.extraction, values)
                self.known[sha] = doc_id
                self.stored.add(doc_id)
            if progress:
                progress(1)

    def finish(self, names_in_drop: set[str]) -> None:
        """Record duplicates inside the drop, apply sidecars, reconcile per-document flags."""
        for item, sha in self.later_duplicates:
            if sha in self.known:
                see_again(self.store, self.summary, self.known[sha], item, self.sighted)
            elif sha in self.failed:  # same bytes as a file that failed: same problem, own path
                problem = replace(self.failed[sha], path=str(item.path))
                report(self.store, self.summary, problem, sha256=sha)
        self.summary.metadata_updates = apply_sidecars(
            self.store, self.summary, self.sidecar, self.stored, names_in_drop
        )
        reconcile_flags(self.store, self.summary)


def by_name(rows: list[SidecarRow]) -> dict[str, list[SidecarRow]]:
    by_name: dict[str, list[SidecarRow]] = {}
    for row in rows:
        by_name.setdefault(row.file, []).append(row)
    return by_name
