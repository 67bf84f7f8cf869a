"""The ingest stage: read the new and changed files of drops into the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.ingest.run import IngestSettings, IngestSummary, ingest
from pipeline.stage import Context


@dataclass(frozen=True)
class IngestRequest:
    """What to ingest and how.

    Attributes:
        drops: folders (or single files) to read.
        settings: worker count, per-file limits, the PDF engine.
        arguments: what the user asked for, recorded with the run.
    """

    drops: tuple[Path, ...]
    settings: IngestSettings = field(default_factory=IngestSettings)
    arguments: dict[str, Any] | None = None


def run(ctx: Context, request: IngestRequest) -> IngestSummary:
    """Ingest ``request.drops`` (through ``ctx.executor`` when one is given)."""
    progress = ctx.progress
    try:
        return ingest(
            ctx.store,
            list(request.drops),
            request.settings,
            arguments=request.arguments or {"drops": [str(d) for d in request.drops]},
            executor=ctx.executor,
            progress=progress.advance,
            on_total=lambda total: progress.start(total, "reading"),
        )
    finally:
        progress.close()
