"""What a codebook change is, and what it does to the stored corpus: per code, segments that
would gain or lose a tag."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.codebook.model import Codebook
from pipeline.codebook.report import diff
from pipeline.coding.nlp import make_nlp
from pipeline.coding.rules import RuleCoder
from pipeline.coding.run import compare, segmenter_for, tagged_in_memory
from pipeline.store import Store


def codebook_impact(
    store: Store, before: Codebook, after: Codebook
) -> tuple[dict[str, int], dict[str, int]] | None:
    """Code the store's documents in memory with both codebooks' rules and count, per code,
    the segments that would gain and lose a tag; None if the store holds no document.

    Nothing is written.
    """
    if not store.current_documents():
        return None
    nlp = make_nlp()
    segmenter = segmenter_for("sentence", None)
    was = tagged_in_memory(store, RuleCoder(before, nlp), segmenter, "sentence")
    now = tagged_in_memory(store, RuleCoder(after, nlp), segmenter, "sentence")
    return compare(was, now)


@dataclass(frozen=True)
class CodebookDiff:
    """What changed between two codebooks, and (in a workspace) what it does to the corpus.

    Attributes:
        before, after: the two versions.
        changes: one line per change.
        impact: per code, segments that would (gain, lose) a tag; None when not measured.
        why_not_measured: why ``impact`` is None ('' when it was measured).
    """

    before: str
    after: str
    changes: list[str]
    impact: tuple[dict[str, int], dict[str, int]] | None = None
    why_not_measured: str = ""


def diff_codebooks(before: Codebook, after: Codebook, store: Store | None) -> CodebookDiff:
    """Compare two codebooks; with a ``store``, measure the impact on its corpus."""
    changes = diff(before, after)
    if store is None:
        return CodebookDiff(before.version, after.version, changes, None, "not asked")
    impact = codebook_impact(store, before, after)
    why = "" if impact is not None else "no documents in the workspace: no impact to count"
    return CodebookDiff(before.version, after.version, changes, impact, why)
