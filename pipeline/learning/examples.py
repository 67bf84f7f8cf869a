"""Build the model's :class:`~pipeline.learning.tracks.Example` from text and the rule coder.

Two ways in, which must see the same thing: labelled sentences with the context their coders
saw (``from_rows`` and ``from_sentences``: training and evaluation), and the segments of a stored
document as the coding stage finds them (``from_codings``: each segment with its neighbours).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pipeline.coding.rules import RuleCoder, SegmentCoding
from pipeline.learning.features import Texts
from pipeline.learning.tracks import Example


def rule_codes(coder: RuleCoder, codings: Sequence[SegmentCoding]) -> frozenset[str]:
    """Every code the rule coder found in ``codings``, with the codes above each."""
    found: set[str] = set()
    for coding in codings:
        for code in coding.evidence:
            found.update(coder.ancestors.get(code, (code,)))
    return frozenset(found)


def partners_in(codings: Sequence[SegmentCoding]) -> frozenset[str]:
    return frozenset(p for c in codings for p in c.partners)


def from_sentences(
    coder: RuleCoder,
    rows: Sequence[tuple[str, str, str]],
    speakers: Sequence[str] = (),
    documents: Sequence[tuple[str, str]] = (),
) -> list[Example]:
    """Examples of (text, before, after) triples, spoken by ``speakers`` (Pakistan when not
    given), from ``documents`` given as (source type, title) pairs (none when not given); each
    distinct text is coded once."""
    coded: dict[str, list[SegmentCoding]] = {}

    def codings(text: str) -> list[SegmentCoding]:
        if text not in coded:
            coded[text] = coder.rule_text(text) if text else []
        return coded[text]

    examples = []
    for i, (text, before, after) in enumerate(rows):
        own = codings(text)
        near = partners_in(codings(before)) | partners_in(codings(after))
        speaker = speakers[i] if speakers else "Pakistan"
        kind, title = documents[i] if documents else ("", "")
        titled = coder.partners_named(title)
        examples.append(
            Example(
                text,
                before,
                after,
                rule_codes(coder, own),
                partners_in(own),
                near,
                speaker,
                kind,
                titled,
            )
        )
    return examples


class Sentence(Texts, Protocol):
    """A labelled sentence as the development set and the training data hold it."""

    @property
    def speaker(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def title(self) -> str: ...


def from_rows(coder: RuleCoder, rows: Sequence[Sentence]) -> list[Example]:
    """Examples of labelled sentences, with their context, speaker and document."""
    return from_sentences(
        coder,
        [(r.text, r.before, r.after) for r in rows],
        [r.speaker for r in rows],
        [(r.kind, r.title) for r in rows],
    )


def from_codings(
    coder: RuleCoder,
    texts: Sequence[str],
    codings: Sequence[SegmentCoding],
    kind: str = "",
    title: str = "",
) -> list[Example]:
    """Examples of a document's segments (in order, with their texts and the rules' codings),
    each with the segments either side, the document's source type and its title's partners."""
    titled = coder.partners_named(title)
    flat = [" ".join(t.split()) for t in texts]
    partners = [frozenset(c.partners) for c in codings]
    none: frozenset[str] = frozenset()
    last = len(codings) - 1
    return [
        Example(
            flat[i],
            flat[i - 1] if i else "",
            flat[i + 1] if i < last else "",
            rule_codes(coder, [coding]) if coding.evidence else none,
            partners[i],
            (partners[i - 1] if i else none) | (partners[i + 1] if i < last else none),
            "Pakistan",
            kind,
            titled,
        )
        for i, coding in enumerate(codings)
    ]
