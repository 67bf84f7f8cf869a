"""The gutter search's runs, computed for all strips at once, equal the strip-by-strip rule."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.ingest.layout import LONG_CLEAN_RUN, _best_runs


def strip_by_strip(crossing: np.ndarray, both: np.ndarray, threshold: float) -> np.ndarray:
    """The rule as first written: walk the strips top to bottom, per bin."""
    run = np.zeros(both.shape[1], dtype=np.int32)
    clean = np.zeros(both.shape[1], dtype=np.int32)
    best = np.zeros(both.shape[1], dtype=np.int32)
    for strip in range(len(both)):
        run = np.where(crossing[strip], 0, run + both[strip])
        clean = np.where(crossing[strip], 0, clean + 1)
        credible = (run >= threshold) | ((run >= 1) & (clean >= LONG_CLEAN_RUN))
        np.maximum(best, np.where(credible, run, 0), out=best)
    return best


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.integers(0, 40),
    st.integers(1, 30),
    st.integers(0, 2**32 - 1),
    st.sampled_from([3, 4.5, 6]),
    st.floats(0.05, 0.6),
)
def test_all_strips_at_once_equals_strip_by_strip(
    strips: int, bins: int, seed: int, threshold: float, density: float
) -> None:
    rng = np.random.default_rng(seed)
    crossing = rng.random((strips, bins)) < density / 3
    both = (rng.random((strips, bins)) < density) & ~crossing
    expected = strip_by_strip(crossing, both, threshold)
    assert np.array_equal(_best_runs(crossing, both, threshold), expected)
