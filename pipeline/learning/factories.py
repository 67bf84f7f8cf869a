"""Factories of the learning room's components, named in :mod:`pipeline.registry`."""

from __future__ import annotations

from pathlib import Path

from pipeline.codebook.model import Codebook
from pipeline.coding.nlp import make_nlp
from pipeline.errors import DshiftError
from pipeline.learning.coder import ModelCoder
from pipeline.learning.learned import LearnedCoder
from pipeline.learning.store_io import load_model
from pipeline.learning.training import find_model


def model_coder(
    codebook: Codebook, *, name: str, models: Path | None, spacy_model: str | None = None
) -> ModelCoder:
    """``ml.v1`` or ``ensemble.v1``: the model trained by ``dshift train`` for this codebook.

    Raises:
        DshiftError: when no model for this codebook version is in ``models``.
    """
    if models is None:
        raise DshiftError(
            f"{name} needs the model trained in a workspace",
            "run inside a workspace where 'dshift train' has run, or use the default coder",
            code="usage",
        )
    trained, meta = load_model(models, codebook)
    return ModelCoder(codebook, make_nlp(spacy_model), trained, meta["thresholds"], name)


def learned_coder(
    codebook: Codebook, *, name: str, models: Path | None, spacy_model: str | None = None
) -> LearnedCoder:
    """``learned.v1``: the workspace's model for this codebook, else the shipped one.

    Raises:
        DshiftError: when no model fits this codebook version.
    """
    model, meta, path, notes = find_model(models, codebook)
    return LearnedCoder(codebook, make_nlp(spacy_model), model, meta, path=path, notes=notes)
