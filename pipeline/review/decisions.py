"""Coders' decisions as the review stage reads them: the store's events, each with its scope.

The rules (current decisions, judgements, final codes) are pure and live in
:mod:`pipeline.core.decisions`; they are re-exported here for the modules that import them from
this one. The edge that reads the store is
:func:`pipeline.codebook.versions.read_decisions`, re-exported too.
"""

from __future__ import annotations

from pipeline.codebook.versions import codes_in, read_decisions
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
