"""Drill-down for analysts: which segments made a period's figure, and which words mark it."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from pipeline.indices.frame import CODE_PREFIX

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_STOP = frozenset(
    "the of and to in a is that for on with as by be are this it at from has have will was "
    "which an its not were been their our we i he she they his her them all also would can "
    "these those there such more other any into than but or if so no its been being".split()
)


@dataclass(frozen=True)
class Contribution:
    """A segment and how much it adds to its period's document-weighted share."""

    segment_id: str
    document_id: int
    contribution: float  # to doc_share: 1 / (documents in the period x segments in its document)


def top_segments(
    frame: pd.DataFrame, period_labels: pd.Series, period: str, code: str, n: int = 10
) -> list[Contribution]:
    """Rank a period's coded segments by their weight in the document-weighted share."""
    column = f"{CODE_PREFIX}{code}"
    if column not in frame.columns:
        raise KeyError(code)
    in_period = frame[period_labels == period]
    if in_period.empty:
        return []
    per_doc = in_period.groupby("document_id")["segment_id"].transform("count")
    documents = in_period["document_id"].nunique()
    weight = 1.0 / (documents * per_doc)
    coded = in_period[in_period[column]].assign(weight=weight[in_period[column]])
    coded = coded.sort_values(["weight", "segment_id"], ascending=[False, True]).head(n)
    return [
        Contribution(r.segment_id, int(r.document_id), float(r.weight)) for r in coded.itertuples()
    ]


def lemma_counts(texts: Iterable[str]) -> Counter[str]:
    """Count lower-case lemmas of content words (spaCy's lookup table), no stop words."""
    from pipeline.coding.nlp import lemma_table  # spaCy: only when words are counted

    table = lemma_table()
    counts: Counter[str] = Counter()
    for text in texts:
        for word in _WORD.findall(text.lower()):
            if word not in _STOP and len(word) > 2:
                counts[table.get(word, word)] += 1
    return counts


def keyness(
    target: Counter[str], reference: Counter[str], n: int = 20, min_count: int = 3
) -> list[tuple[str, float, int, int]]:
    """Terms over-represented in ``target`` against ``reference`` by Dunning's log-likelihood.

    Returns (term, G2, count in target, count in reference), strongest first.
    """
    total_t, total_r = sum(target.values()), sum(reference.values())
    if not total_t or not total_r:
        return []
    scored = []
    for term, a in target.items():
        if a < min_count:
            continue
        b = reference.get(term, 0)
        expected_a = total_t * (a + b) / (total_t + total_r)
        expected_b = total_r * (a + b) / (total_t + total_r)
        if a / total_t <= b / total_r:
            continue  # only terms the period uses more than the rest
        g2 = 2 * (a * math.log(a / expected_a) + (b * math.log(b / expected_b) if b else 0.0))
        scored.append((term, g2, a, b))
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored[:n]
