"""Array helpers the stages share."""

from __future__ import annotations

import numpy as np


def found_in(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``values``: whether it is one of ``keys`` (sorted) and its index there
    (meaningful where found). ``numpy.isin`` sorts both arrays on every call, which costs
    more on the many short arrays of the coding stage than a binary search in fixed keys."""
    if not len(keys):
        return np.zeros(len(values), dtype=bool), np.zeros(len(values), dtype=np.int64)
    at = np.minimum(np.searchsorted(keys, values), len(keys) - 1)
    return keys[at] == values, at
