"""``ml.v1``: one calibrated linear classifier per code over shared TF-IDF features.

A scikit-learn estimator: ``__init__`` stores its parameters unchanged, ``fit`` returns ``self``,
learned state ends in ``_``, so ``get_params``, ``set_params`` and ``sklearn.base.clone`` work
(cross-validation clones the model and keeps every parameter). It is composed of scikit-learn
parts: a ``FeatureUnion`` of word 1-2-grams and character 3-5-grams (within word boundaries),
and per code a logistic regression calibrated (sigmoid) so that its probability can serve as
the tag's confidence. Codes with too few positive examples get no model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.base import BaseEstimator, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion
from sklearn.utils.validation import check_is_fitted

from pipeline.core import DEFAULT_SEED
from pipeline.errors import DshiftError

CODER = "ml.v1"


class CodeModel(BaseEstimator):
    """Multi-label coder: a probability per code for each text.

    Not a ``ClassifierMixin``: its targets are sets of codes per text and its output a
    probability per code, not the label array that mixin's ``score`` and stratified splitting
    assume.

    Args:
        codes: the code ids to learn (kept as given: a tuple stays a tuple).
        min_positive: codes with fewer positive (or negative) examples are skipped.
        C: inverse regularisation strength of the logistic regressions.
        seed: random state, for reproducible fits.

    Attributes:
        features_: the fitted ``FeatureUnion`` ("words", "chars") of TF-IDF vectorizers.
        models_: per learned code, its fitted calibrated logistic regression.
        skipped_: the codes with too few examples, in the order of ``codes``.
    """

    def __init__(
        self, codes: Sequence[str], min_positive: int = 8, C: float = 4.0, seed: int = DEFAULT_SEED
    ) -> None:
        self.codes = codes
        self.min_positive = min_positive
        self.C = C
        self.seed = seed

    def make_features(self) -> FeatureUnion:
        """The unfitted text features: word and character TF-IDF side by side."""
        words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, lowercase=True)
        chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True, max_features=60000
        )
        return FeatureUnion([("words", words), ("chars", chars)])

    def make_classifier(self) -> CalibratedClassifierCV:
        """The unfitted classifier each learned code gets a clone of."""
        base = LogisticRegression(
            C=self.C, class_weight="balanced", max_iter=2000, random_state=self.seed
        )
        return CalibratedClassifierCV(base, method="sigmoid", cv=3)

    def fit(self, texts: Sequence[str], labels: Sequence[set[str]]) -> CodeModel:
        """Learn from texts and their sets of codes.

        Args:
            texts: the training texts.
            labels: for each text, the set of codes it carries.

        Returns:
            This model, fitted.
        """
        if len(texts) != len(labels):
            raise ValueError(f"{len(texts)} texts but {len(labels)} label sets")
        features = self.make_features()
        matrix = features.fit_transform(texts)
        classifier = self.make_classifier()
        models: dict[str, CalibratedClassifierCV] = {}
        skipped: list[str] = []
        for code in self.codes:
            y = np.array([code in label for label in labels], dtype=int)
            if min(y.sum(), len(y) - y.sum()) < self.min_positive:
                skipped.append(code)
                continue
            models[code] = clone(classifier).fit(matrix, y)
        self.features_, self.models_, self.skipped_ = features, models, skipped
        self.__dict__.pop("_feature_names", None)
        return self

    def predict_proba(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Probability of each learned code for each text.

        Raises:
            sklearn.exceptions.NotFittedError: before ``fit``.
        """
        check_is_fitted(self)
        matrix = self._transform(texts)
        return {code: model.predict_proba(matrix)[:, 1] for code, model in self.models_.items()}

    def top_features(self, code: str, text: str, n: int = 5) -> list[str]:
        """The n-grams of ``text`` that push it most towards ``code`` (evidence for a tag)."""
        check_is_fitted(self)
        model = self.models_[code]
        weights = np.mean([c.estimator.coef_[0] for c in model.calibrated_classifiers_], axis=0)
        row = self._transform([text])
        names = self._feature_names_out()
        contributions = row.multiply(weights).tocsr()
        order = np.argsort(contributions.data)[::-1][:n]
        return [str(names[contributions.indices[i]]) for i in order if contributions.data[i] > 0]

    def _transform(self, texts: Sequence[str]) -> csr_matrix:
        # What FeatureUnion.transform computes (no weights, nothing dropped), without the
        # joblib.Parallel round it makes, which costs a third of scoring a single sentence.
        parts = [part.transform(texts) for _, part in self.features_.transformer_list]
        return hstack(parts).tocsr()

    def _feature_names_out(self) -> np.ndarray:
        # The n-gram of every feature column, built once: listing a vocabulary costs more than
        # scoring a sentence, and the coders ask for evidence tag after tag.
        names = self.__dict__.get("_feature_names")
        if names is None:
            parts = [part.get_feature_names_out() for _, part in self.features_.transformer_list]
            names = self._feature_names = np.concatenate(parts)
        return names

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "features_")

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.target_tags.required = True
        return tags

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop("_feature_names", None)  # a cache, rebuilt on demand: keep saved files small
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore a pickled model, including one saved before the features were a union.

        Models saved by earlier versions kept the two fitted vectorizers as ``words_`` and
        ``chars_``; they are put into the union unchanged, so their predictions stay the same.
        """
        state = dict(state)
        if "words_" in state and "chars_" in state and "features_" not in state:
            state["features_"] = FeatureUnion(
                [("words", state.pop("words_")), ("chars", state.pop("chars_"))]
            )
        fitted = [key for key in state if key.endswith("_") and not key.startswith("_")]
        if fitted and not {"features_", "models_", "skipped_"} <= set(state):
            raise DshiftError(
                "the saved ml.v1 model was made by a dshift version whose model this one "
                f"cannot read (it holds {', '.join(sorted(fitted))})",
                "run 'dshift train' again",
                code="model",
            )
        super().__setstate__(state)
