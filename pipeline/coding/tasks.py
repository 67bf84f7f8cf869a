"""Coding as tasks an executor runs in other processes: a batch of documents per task.

A task carries what a worker needs and nothing it cannot pickle: the coder's registry name and
inputs (not the coder, whose spaCy pipeline and matchers each worker process builds once, in
:func:`pipeline.coding.run.code_task`),
the documents' stored texts and how to segment them. A task holds several documents, so that a
coder that scores in batches (``learned.v1``) does so in the workers too. The store stays in the
calling process, which saves the results as they arrive (each document all or nothing, as
in-process coding does).
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
class TaskDocument:
    """One document of a task: its id, its SHA-256, its text and what else is known of it."""

    document_id: int
    sha256: str
    text: str
    source_type: str = ""
    title: str = ""


@dataclass(frozen=True)
class CodingTask:
    """Documents to segment and code together."""

    spec: CoderSpec
    documents: tuple[TaskDocument, ...]
    segmenter: str
    unit: str
