"""Coders' decisions as the review stage reads them: the store's events, each with its scope.

The rules (current decisions, judgements, final codes) are pure and live in
:mod:`pipeline.core.decisions`; they are re-exported here for the modules that import them from
this one. What stays here is the edge that reads the store.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from pipeline.core.decisions import (
    FinalDecision,
    Judgement,
    current,
    final_codes,
    final_decisions,
    judge_key,
    judgements,
    scope_of,
    settle,
    with_ancestors,
    with_scopes,
)
from pipeline.errors import DshiftError

if TYPE_CHECKING:
    from pipeline.codebook.model import Codebook
    from pipeline.store import Store
    from pipeline.store.review import DecisionRow

__all__ = [
    "FinalDecision",
    "Judgement",
    "codes_in",
    "current",
    "final_codes",
    "final_decisions",
    "judge_key",
    "judgements",
    "read_decisions",
    "scope_of",
    "settle",
    "with_ancestors",
    "with_scopes",
]


def read_decisions(store: Store, codebook: Codebook) -> list[DecisionRow]:
    """Every decision of the store, each with the codes it judged (see :func:`with_scopes`)."""

    def codes_of(version: str) -> frozenset[str] | None:
        content = store.codebook_content(version)
        return None if content is None else codes_in(content)

    return with_scopes(store.decisions(), codebook, codes_of)


@lru_cache(maxsize=32)
def codes_in(content: str) -> frozenset[str] | None:
    """The codes of a stored codebook's content; None if today's checks refuse it."""
    from pipeline.codebook.load import parse_codebook

    try:
        return frozenset(parse_codebook(content).codes)
    except DshiftError:  # a stored version today's checks refuse: fall back as if unknown
        return None
