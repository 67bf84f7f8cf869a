"""Evaluation of learned coders: cross-validation grouped by document, and the ensemble.

No document ever has sentences in both the training and the test part of a fold, so that a
model cannot score by recognising a document it has seen.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.model_selection import GroupKFold

from pipeline.learning.model import CodeModel

ENSEMBLE = "ensemble.v1"
THRESHOLDS = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def grouped_folds(groups: Sequence[str], n_splits: int = 5) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train/test index pairs in which no group (document) is on both sides."""
    splits = min(n_splits, len(set(groups)))
    dummy = np.zeros(len(groups))
    return list(GroupKFold(n_splits=splits).split(dummy, groups=list(groups)))


def out_of_fold(
    texts: Sequence[str],
    labels: Sequence[set[str]],
    groups: Sequence[str],
    codes: Sequence[str],
    *,
    n_splits: int = 5,
    seed: int = 20011,
) -> dict[str, np.ndarray]:
    """Probabilities for every text from a model that never saw its document."""
    probabilities = {code: np.full(len(texts), np.nan) for code in codes}
    for train, test in grouped_folds(groups, n_splits):
        model = CodeModel(codes, seed=seed).fit(
            [texts[i] for i in train], [labels[i] for i in train]
        )
        predicted = model.predict_proba([texts[i] for i in test])
        for code, values in predicted.items():
            probabilities[code][test] = values
    return probabilities


def f1(gold: np.ndarray, found: np.ndarray) -> float:
    tp = float((gold & found).sum())
    fp = float((~gold & found).sum())
    fn = float((gold & ~found).sum())
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def choose_thresholds(
    probabilities: dict[str, np.ndarray], rules: dict[str, np.ndarray], gold: dict[str, np.ndarray]
) -> dict[str, float]:
    """Per code, the model threshold that gives the ensemble (rules OR model) its best F1.

    The ensemble keeps every rule tag (rules are precise) and adds the model's confident ones
    (the model catches paraphrases the rules miss); the threshold is set on out-of-fold
    probabilities of the training data only.
    """
    chosen = {}
    for code, values in probabilities.items():
        known = ~np.isnan(values)
        best = max(
            THRESHOLDS,
            key=lambda t: (f1(gold[code][known], rules[code][known] | (values[known] >= t)), t),
        )
        chosen[code] = best
    return chosen


def ensemble(rules: np.ndarray, probabilities: np.ndarray, threshold: float) -> np.ndarray:
    """Tag where the rules tag, or where the model is at least ``threshold`` sure."""
    return rules | (probabilities >= threshold)
