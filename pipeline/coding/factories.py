"""Factories of the coding room's components, named in :mod:`pipeline.registry`."""

from __future__ import annotations

from pathlib import Path

from pipeline.codebook.model import Codebook
from pipeline.coding.nlp import make_nlp
from pipeline.coding.rules import RuleCoder


def rule_coder(
    codebook: Codebook, *, name: str, models: Path | None, spacy_model: str | None = None
) -> RuleCoder:
    """``rules.v1``: the codebook's patterns over a rule-based spaCy pipeline.

    ``models`` (trained models) is not used: the rules need none.
    """
    return RuleCoder(codebook, make_nlp(spacy_model))
