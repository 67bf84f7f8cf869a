"""What an ingest run is given and what it did: its settings, its summary, its problems.

:func:`report` is the one way a problem of the run is kept: in the summary and in the store.
The problem codes below say which problems close on their own when a later run reads the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.errors import Problem
from pipeline.store import Store

STAGE = "ingest"
# Problems that keep a file out of the corpus: storing its document closes them.
INGEST_ERRORS = (
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
# Problems of the scan: they close when the scan finds the path fine (or gone).
SKIPPED_BY_SCAN = ("link-outside", "broken-link", "not-a-file", "unreadable-folder")
# Problems of the name, not of the bytes: the same bytes elsewhere (or later) may read fine.
ABOUT_THE_PATH = ("unreadable", "file-changed")


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
    # (file name, the stored document it repeats: "#id name"), for each duplicate
    duplicate_of: list[tuple[str, str]] = field(default_factory=list)

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


def report(
    store: Store,
    summary: IngestSummary,
    problem: Problem,
    *,
    sha256: str | None = None,
    document_id: int | None = None,
) -> None:
    summary.problems.append(problem)
    store.add_problem(summary.run_id, STAGE, problem, sha256=sha256, document_id=document_id)
