"""Codebook versions recorded in the store, and coders' decisions read against them.

A decision made on a sheet of an older codebook version judged only that version's codes: its
scope is read from the codebook text recorded under that version (see
:func:`pipeline.core.decisions.with_scopes`). Every stage that reads decisions (review,
learning, indices, REFI) reads them through :func:`read_decisions`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from pipeline.codebook.load import parse_codebook
from pipeline.codebook.model import Codebook
from pipeline.core.decisions import with_scopes
from pipeline.errors import DshiftError

if TYPE_CHECKING:
    from pipeline.core.records import DecisionRow
    from pipeline.store import Store


def read_decisions(store: Store, codebook: Codebook) -> list[DecisionRow]:
    """Every decision of the store, each with the codes it judged (see ``with_scopes``)."""

    def codes_of(version: str) -> frozenset[str] | None:
        content = store.codebook_content(version)
        return None if content is None else codes_in(content)

    return with_scopes(store.decisions(), codebook, codes_of)


@lru_cache(maxsize=32)
def codes_in(content: str) -> frozenset[str] | None:
    """The codes of a stored codebook's content; None if today's checks refuse it."""
    try:
        return frozenset(parse_codebook(content).codes)
    except DshiftError:  # a stored version today's checks refuse: fall back as if unknown
        return None
