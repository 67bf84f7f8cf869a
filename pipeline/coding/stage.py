"""The coding stage: segment and tag every document not yet coded under the codebook version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.coding.run import CodeSummary, code_corpus
from pipeline.coding.tasks import CoderSpec
from pipeline.registry import DEFAULT_CODER, coders
from pipeline.stage import Context


@dataclass(frozen=True)
class CodeSettings:
    """Options of one coding run.

    Attributes:
        codebook_text: the codebook's text exactly as loaded (recorded under its version).
        coder: the machine coder (a name in :data:`pipeline.registry.coders`).
        unit: what a segment is: ``sentence`` or ``paragraph``.
        spacy_model: an installed trained spaCy pipeline to segment with (default: rules).
        dry_run: code in memory only and compare with the last version coded.
        arguments: what the user asked for, recorded with the run.
    """

    codebook_text: str
    coder: str = DEFAULT_CODER
    unit: str = "sentence"
    spacy_model: str | None = None
    dry_run: bool = False
    arguments: dict[str, Any] | None = None


def run(ctx: Context, settings: CodeSettings) -> CodeSummary:
    """Code the store's current documents with the chosen coder (built from the registry),
    in the executor's workers when ``ctx.executor`` is given (dry runs code in this process)."""
    spec = CoderSpec(
        coders.get(settings.coder).name, ctx.codebook, ctx.models, settings.spacy_model
    )
    coder = spec.build()
    progress = ctx.progress
    try:
        return code_corpus(
            ctx.store,
            ctx.codebook,
            settings.codebook_text,
            unit=settings.unit,
            model=settings.spacy_model,
            dry_run=settings.dry_run,
            arguments=settings.arguments,
            progress=progress.advance,
            on_total=lambda total: progress.start(total, "coding"),
            coder=coder,
            executor=None if settings.dry_run else ctx.executor,
            spec=spec,
        )
    finally:
        progress.close()
