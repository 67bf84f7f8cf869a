"""The code tree as core reads it, and the codes a segment's machine tags give it (pure).

Core does not import the codebook package: it reads a codebook through the small protocols
below, which :class:`pipeline.codebook.model.Codebook` satisfies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

# The three tracks every composite index and report is built from (top-level codes).
TOP_CODES = ("alignment", "securitization", "hedging")

Tag = tuple[str, str, float]
"""A machine tag as the store gives it: (code, top-level code, confidence)."""


class CodeNode(Protocol):
    """A code of the tree: its id and its parent's (None for a top-level code)."""

    @property
    def id(self) -> str: ...

    @property
    def parent(self) -> str | None: ...


class CodeTree(Protocol):
    """A codebook as core needs it: its version and its codes by id."""

    @property
    def version(self) -> str: ...

    @property
    def codes(self) -> Mapping[str, CodeNode]: ...


def with_ancestors(codes: Iterable[str], codebook: CodeTree) -> set[str]:
    """Add every code's parents, so that 'hedging.china' also counts as 'hedging'."""
    out: set[str] = set()
    for code_id in codes:
        code = codebook.codes.get(code_id)
        while code is not None:
            out.add(code.id)
            code = codebook.codes.get(code.parent) if code.parent else None
    return out


def tag_codes(found: Iterable[Tag], *, min_confidence: float | None = None) -> set[str]:
    """The codes a segment's machine tags give it: each tag's code and its top-level code.

    Args:
        found: the segment's tags.
        min_confidence: keep only the tags at least this sure (None: every tag).
    """
    return {
        code
        for leaf, top, confidence in found
        if min_confidence is None or confidence >= min_confidence
        for code in (leaf, top)
    }


def machine_codes(tags: Mapping[str, Iterable[Tag]]) -> dict[str, set[str]]:
    """segment id -> the machine's codes, from ``store.machine_tags(coder, version)``."""
    return {segment_id: tag_codes(found) for segment_id, found in tags.items()}
