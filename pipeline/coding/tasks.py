"""Coding as tasks an executor runs in other processes: one document per task.

A task carries what a worker needs and nothing it cannot pickle: the coder's registry name and
inputs (not the coder, whose spaCy pipeline and matchers each worker process builds once, in
:func:`pipeline.coding.run.code_task`),
the document's stored text and how to segment it. The store stays in the calling process, which
saves each result as it arrives (one transaction per document, as in-process coding does).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.codebook.model import Codebook
from pipeline.registry import coders


@dataclass(frozen=True)
class CoderSpec:
    """How to build a machine coder in another process.

    Attributes:
        name: the coder's name in :data:`pipeline.registry.coders`.
        codebook: the codebook it codes with.
        models: where a workspace's trained models are (None outside a workspace:
            ``learned.v1`` then codes with the model the package ships).
        spacy_model: an installed trained spaCy pipeline, or None for the rule-based one.
    """

    name: str
    codebook: Codebook
    models: Path | None
    spacy_model: str | None = None

    def build(self) -> Any:
        """Build the coder (its factory comes from the registry)."""
        component = coders.get(self.name)
        return component.load()(
            self.codebook, name=self.name, models=self.models, spacy_model=self.spacy_model
        )


@dataclass(frozen=True)
class CodingTask:
    """One document to segment and code."""

    spec: CoderSpec
    document_id: int
    sha256: str
    text: str
    segmenter: str
    unit: str
    source_type: str = ""
    title: str = ""
