"""Evaluation of learned coders: cross-validation grouped by document, and the ensemble.

No document ever has sentences in both the training and the test part of a fold, so that a
model cannot score by recognising a document it has seen.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import GroupKFold

from pipeline.learning.model import CodeModel
from pipeline.learning.tracks import Example, TrackModel, best_threshold

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
    model: CodeModel | Sequence[str],
    *,
    n_splits: int = 5,
    seed: int | None = None,
) -> dict[str, np.ndarray]:
    """Probabilities for every text from a model that never saw its document.

    Args:
        texts: the texts to cross-validate on.
        labels: for each text, its set of codes.
        groups: for each text, its document (never on both sides of a fold).
        model: the estimator to cross-validate; each fold fits a ``sklearn.base.clone`` of it,
            so every parameter (``min_positive`` included) is kept. A sequence of code ids
            stands for ``CodeModel(codes)`` with its default parameters.
        n_splits: the number of folds (fewer when there are fewer documents).
        seed: if given, replaces the model's seed.

    Returns:
        Per code of the model, a probability per text; NaN where the fold's model skipped the
        code for too few examples.
    """
    template = clone(model) if isinstance(model, CodeModel) else CodeModel(model)
    if seed is not None:
        template.set_params(seed=seed)
    probabilities = {code: np.full(len(texts), np.nan) for code in template.codes}
    for train, test in grouped_folds(groups, n_splits):
        fold = clone(template).fit([texts[i] for i in train], [labels[i] for i in train])
        predicted = fold.predict_proba([texts[i] for i in test])
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


# -- learned.v1: one model per track, thresholds learned, evaluated as it will be used --------


def track_out_of_fold(
    model: TrackModel,
    examples: Sequence[Example],
    labels: Sequence[set[str]],
    groups: Sequence[str],
    *,
    n_splits: int = 5,
) -> dict[str, np.ndarray]:
    """Per track, a probability for every example from a clone that never saw its group."""
    probabilities = {t: np.full(len(examples), np.nan) for t in model.tracks}
    for train, test in grouped_folds(groups, n_splits):
        fold = clone(model).fit([examples[i] for i in train], [labels[i] for i in train])
        for track, values in fold.predict_proba([examples[i] for i in test]).items():
            probabilities[track][test] = values
    return probabilities


def fit_tracks(
    model: TrackModel,
    examples: Sequence[Example],
    labels: Sequence[set[str]],
    groups: Sequence[str],
    *,
    n_splits: int = 5,
) -> tuple[TrackModel, dict[str, np.ndarray]]:
    """Fit ``model`` on everything, with thresholds chosen on its out-of-fold predictions.

    Returns:
        The fitted model (a clone: ``model`` is left as given) and the out-of-fold
        probabilities the thresholds came from.
    """
    oof = track_out_of_fold(model, examples, labels, groups, n_splits=n_splits)
    thresholds = {}
    for track, values in oof.items():
        gold = np.array([track in label for label in labels])
        known = ~np.isnan(values)
        thresholds[track] = best_threshold(gold[known], values[known])
    fitted = clone(model).fit(examples, labels).set_thresholds(thresholds)
    return fitted, oof


def held_out_predictions(
    model: TrackModel,
    examples: Sequence[Example],
    labels: Sequence[set[str]],
    groups: Sequence[str],
    held: Sequence[str],
    *,
    inner_splits: int = 3,
) -> list[set[str]]:
    """Tracks for every example from a model that never saw its ``held`` value.

    For each distinct value of ``held`` (a country: leave one country out; a document group:
    grouped cross-validation), the model is fitted on the other examples, with thresholds
    chosen by an inner grouped cross-validation on those only, and predicts the held-out ones.
    """
    predicted: list[set[str]] = [set() for _ in examples]
    for value in sorted(set(held)):
        test = [i for i, h in enumerate(held) if h == value]
        train = [i for i, h in enumerate(held) if h != value]
        fitted, _ = fit_tracks(
            model,
            [examples[i] for i in train],
            [labels[i] for i in train],
            [groups[i] for i in train],
            n_splits=inner_splits,
        )
        for i, found in zip(test, fitted.predict([examples[i] for i in test])):
            predicted[i] = found
    return predicted
