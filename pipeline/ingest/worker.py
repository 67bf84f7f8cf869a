"""Reading files in worker processes: the task a worker runs, and what it sends back.

The task and the warm-up are top-level functions so that they pickle; the reading code is
imported inside them because it is heavy and only workers need it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.errors import Problem
from pipeline.executor import Failure
from pipeline.ingest.drop import DropFile
from pipeline.ingest.options import ReadOptions
from pipeline.models import Extraction

_FAILURE_CODES = {
    "timeout": "timeout",
    "memory": "out-of-memory",
    "crashed": "worker-crashed",
    "error": "internal-error",
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


def failure_problem(path: str, failure: Failure | None) -> Problem:
    if failure is None:
        return Problem("internal-error", path, detail="the reader returned nothing")
    return Problem(_FAILURE_CODES[failure.kind], path, detail=failure.detail)
