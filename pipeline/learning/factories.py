"""Factories of the learning room's components, named in :mod:`pipeline.registry`."""

from __future__ import annotations

from pathlib import Path

from pipeline.codebook.model import Codebook
from pipeline.coding.nlp import make_nlp
from pipeline.learning.coder import ModelCoder
from pipeline.learning.store_io import load_model


def model_coder(
    codebook: Codebook, *, name: str, models: Path, spacy_model: str | None = None
) -> ModelCoder:
    """``ml.v1`` or ``ensemble.v1``: the model trained by ``dshift train`` for this codebook.

    Raises:
        DshiftError: when no model for this codebook version is in ``models``.
    """
    trained, meta = load_model(models, codebook)
    return ModelCoder(codebook, make_nlp(spacy_model), trained, meta["thresholds"], name)
