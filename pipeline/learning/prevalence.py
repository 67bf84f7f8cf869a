"""Correct a share measured by an imperfect coder (adjusted classify-and-count).

If the machine tags a code with true-positive rate ``tpr`` and false-positive rate ``fpr``
(measured on segments coders reviewed), the observed share ``p_obs`` relates to the true share
``p`` by ``p_obs = fpr + (tpr - fpr) * p``, so ``p = (p_obs - fpr) / (tpr - fpr)``, clipped to
[0, 1] (Forman 2008, "Quantifying counts and costs via classification"). The interval comes from
a bootstrap that resamples both the reviewed segments (uncertainty in the error rates) and the
period's documents (uncertainty in the observed share).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from pipeline.core import DEFAULT_SEED


@dataclass(frozen=True)
class ErrorRates:
    """How a coder errs on one code, from reviewed segments."""

    tpr: float
    fpr: float
    positives: int
    negatives: int


def error_rates(gold: np.ndarray, machine: np.ndarray) -> ErrorRates:
    """True- and false-positive rates of ``machine`` against ``gold`` (boolean arrays)."""
    positives = int(gold.sum())
    negatives = int((~gold).sum())
    tpr = float((gold & machine).sum() / positives) if positives else float("nan")
    fpr = float((~gold & machine).sum() / negatives) if negatives else float("nan")
    return ErrorRates(tpr, fpr, positives, negatives)


def adjust(observed: float, rates: ErrorRates) -> float:
    """The corrected share, or NaN when the coder does no better than chance."""
    spread = rates.tpr - rates.fpr
    if np.isnan(spread) or spread <= 0.05:
        return float("nan")
    return float(np.clip((observed - rates.fpr) / spread, 0.0, 1.0))


def corrected_share(
    doc_coded: np.ndarray,
    doc_segments: np.ndarray,
    gold: np.ndarray,
    machine: np.ndarray,
    *,
    n_boot: int = 1000,
    seed: int = DEFAULT_SEED,
    key: str = "",
    confidence: float = 0.95,
) -> tuple[float, float, float]:
    """Corrected pooled share of a period with its bootstrap interval.

    Args:
        doc_coded: per document of the period, segments the machine coded.
        doc_segments: per document of the period, segments.
        gold, machine: the reviewed segments' human and machine labels for the code.
    """
    observed = doc_coded.sum() / doc_segments.sum() if doc_segments.sum() else float("nan")
    value = adjust(float(observed), error_rates(gold, machine))
    if np.isnan(value) or n_boot == 0:
        return value, float("nan"), float("nan")
    rng = np.random.default_rng(zlib.crc32(f"{seed}|{key}".encode()))
    n_docs, n_reviewed = len(doc_coded), len(gold)
    draws = np.full(n_boot, np.nan)
    for b in range(n_boot):
        docs = rng.integers(0, n_docs, n_docs)
        reviewed = rng.integers(0, n_reviewed, n_reviewed)
        seg = doc_segments[docs].sum()
        if seg:
            draws[b] = adjust(
                doc_coded[docs].sum() / seg, error_rates(gold[reviewed], machine[reviewed])
            )
    kept = draws[~np.isnan(draws)]
    if kept.size == 0:
        return value, float("nan"), float("nan")
    alpha = (1 - confidence) / 2
    return value, float(np.quantile(kept, alpha)), float(np.quantile(kept, 1 - alpha))
