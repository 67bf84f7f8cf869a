"""Which segments go on a review sheet (pure, seeded)."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

from pipeline.core import DEFAULT_SEED
from pipeline.registry import strategies

STRATEGIES = tuple(strategies.names())


@dataclass(frozen=True)
class Candidate:
    """A segment that could be reviewed."""

    segment_id: str
    year: int | None
    source_type: str
    codes: tuple[str, ...]  # machine codes (leaf and top-level)
    top_codes: tuple[str, ...]
    confidence: float  # highest machine confidence, 0 when uncoded


def select(
    candidates: list[Candidate],
    *,
    strategy: str,
    size: int,
    seed: int = DEFAULT_SEED,
    code: str | None = None,
    year: int | None = None,
    exclude: set[str] | None = None,
) -> list[str]:
    """Return up to ``size`` segment ids, chosen by ``strategy``.

    * random: a seeded random sample of all segments;
    * stratified: round robin over strata of year x source type x top-level code (or none), so
      that every year, source type and code is covered;
    * uncertain: the segments the coder is least sure of (the learned model's probability
      nearest 0.5 when one is given, else the lowest rule confidence), spread over strata;
    * all-coded: every segment the machine coded, in corpus order.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy '{strategy}': choose {', '.join(STRATEGIES)}")
    exclude = exclude or set()
    pool = [
        c
        for c in candidates
        if c.segment_id not in exclude
        and (code is None or code in c.codes)
        and (year is None or c.year == year)
    ]
    rng = random.Random(seed)
    if strategy == "all-coded":
        return [c.segment_id for c in pool if c.codes][:size]
    # Drawn from the pool in the order of segment ids (hashes of the document's bytes and the
    # segment's place), not of document ids, which follow the order files were read in: the
    # same seed picks the same segments in any store holding the same documents.
    pool.sort(key=lambda c: c.segment_id)
    if strategy == "uncertain":
        # The least sure first, then spread over years and sources: stratify the 3 x size
        # least sure so that one long document cannot fill the sheet.
        rng.shuffle(pool)
        pool.sort(key=lambda c: c.confidence)
        return _stratified(pool[: 3 * size], size, rng)
    if strategy == "random":
        return [c.segment_id for c in rng.sample(pool, min(size, len(pool)))]
    rng.shuffle(pool)
    return _stratified(pool, size, rng)


def _stratified(pool: list[Candidate], size: int, rng: random.Random) -> list[str]:
    strata: dict[tuple[object, ...], list[Candidate]] = defaultdict(list)
    for candidate in pool:
        top = candidate.top_codes[0] if candidate.top_codes else "none"
        strata[(candidate.year or 0, candidate.source_type, top)].append(candidate)
    for members in strata.values():
        members.reverse()  # pop() takes the first (the least sure, for 'uncertain')
    order = sorted(strata, key=str)
    rng.shuffle(order)
    chosen: list[str] = []
    while len(chosen) < size and any(strata.values()):
        for key in order:
            if strata[key] and len(chosen) < size:
                chosen.append(strata[key].pop().segment_id)
    return chosen
