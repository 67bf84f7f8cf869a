"""``ml.v1``: one calibrated linear classifier per code over shared TF-IDF features.

Follows the scikit-learn estimator contract: ``__init__`` stores parameters, ``fit`` returns
``self``, learned state ends in ``_``. Word 1-2-grams and character 3-5-grams (within word
boundaries) feed a logistic regression per code, calibrated (sigmoid) so that its probability can
serve as the tag's confidence. Codes with too few positive examples get no model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse import hstack
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

CODER = "ml.v1"


class CodeModel:
    """Multi-label coder: a probability per code for each text.

    Args:
        codes: the code ids to learn.
        min_positive: codes with fewer positive (or negative) examples are skipped.
        C: inverse regularisation strength of the logistic regressions.
        seed: random state, for reproducible fits.
    """

    def __init__(
        self, codes: Sequence[str], min_positive: int = 8, C: float = 4.0, seed: int = 20011
    ) -> None:
        self.codes = list(codes)
        self.min_positive = min_positive
        self.C = C
        self.seed = seed

    def _features(self, texts: Sequence[str], fit: bool = False):  # type: ignore[no-untyped-def]
        if fit:
            return hstack([self.words_.fit_transform(texts), self.chars_.fit_transform(texts)])
        return hstack([self.words_.transform(texts), self.chars_.transform(texts)]).tocsr()

    def fit(self, texts: Sequence[str], labels: Sequence[set[str]]) -> CodeModel:
        """Learn from texts and their sets of codes."""
        self.words_ = TfidfVectorizer(
            ngram_range=(1, 2), min_df=2, sublinear_tf=True, lowercase=True
        )
        self.chars_ = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True, max_features=60000
        )
        features = self._features(texts, fit=True).tocsr()
        self.models_: dict[str, CalibratedClassifierCV] = {}
        self.skipped_: list[str] = []
        for code in self.codes:
            y = np.array([code in label for label in labels], dtype=int)
            if min(y.sum(), len(y) - y.sum()) < self.min_positive:
                self.skipped_.append(code)
                continue
            base = LogisticRegression(
                C=self.C, class_weight="balanced", max_iter=2000, random_state=self.seed
            )
            model = CalibratedClassifierCV(base, method="sigmoid", cv=3)
            self.models_[code] = model.fit(features, y)
        return self

    def predict_proba(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Probability of each learned code for each text."""
        features = self._features(texts)
        return {code: model.predict_proba(features)[:, 1] for code, model in self.models_.items()}

    def top_features(self, code: str, text: str, n: int = 5) -> list[str]:
        """The n-grams of ``text`` that push it most towards ``code`` (evidence for a tag)."""
        model = self.models_[code]
        weights = np.mean([c.estimator.coef_[0] for c in model.calibrated_classifiers_], axis=0)
        row = self._features([text]).tocsr()
        names = np.concatenate(
            [self.words_.get_feature_names_out(), self.chars_.get_feature_names_out()]
        )
        contributions = row.multiply(weights).tocsr()
        order = np.argsort(contributions.data)[::-1][:n]
        return [str(names[contributions.indices[i]]) for i in order if contributions.data[i] > 0]
