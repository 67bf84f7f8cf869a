"""``CodeModel`` as a scikit-learn estimator: parameters, cloning, fitting, pickles old and new."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import joblib
import numpy as np
import pytest
import sklearn
from scipy.sparse import hstack
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from pipeline.codebook.load import load_codebook
from pipeline.codebook.model import Codebook
from pipeline.errors import DshiftError
from pipeline.learning.evaluate import grouped_folds, out_of_fold
from pipeline.learning.model import CodeModel
from tests.conftest import ROOT
from tests.test_learning import corpus

CODES = ("security", "china", "rare")
UNSEEN = ["soldiers fought militants near the border", "a museum exhibition opened"]


def default_codebook() -> Codebook:
    return load_codebook(ROOT / "codebook" / "codebook.yaml")


def rare_corpus() -> tuple[list[str], list[set[str]], list[str]]:
    """The learning corpus plus a code ("rare") on 9 texts: 5 to 7 per 3-fold training part."""
    texts, labels, groups = corpus()
    for index, text in enumerate(texts):
        if text.startswith("troops secured") or (
            text.startswith("the army fought") and text.endswith(("0", "1", "2"))
        ):
            labels[index] = labels[index] | {"rare"}
    return texts, labels, groups


def test_parameters_are_stored_as_given_and_survive_clone() -> None:
    model = CodeModel(CODES, min_positive=3, C=1.5, seed=7)
    assert model.codes is CODES, "a tuple of codes stays the tuple it was"
    assert model.get_params() == {"codes": CODES, "min_positive": 3, "C": 1.5, "seed": 7}
    copy = clone(model)
    assert copy is not model and copy.get_params() == model.get_params()
    assert copy.set_params(C=0.5, min_positive=2) is copy
    assert copy.get_params()["C"] == 0.5 and model.get_params()["C"] == 1.5
    assert "min_positive=3" in repr(model)


# scikit-learn's own checks that do not feed the estimator numeric arrays (ours reads text).
SKLEARN_CHECKS = (
    "check_no_attributes_set_in_init",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_parameters_default_constructible",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_estimators_unfitted",
    "check_valid_tag_types",
    "check_estimator_tags_renamed",
)


@pytest.mark.parametrize("name", SKLEARN_CHECKS)
def test_scikit_learns_checks_that_apply_to_a_text_model(name: str) -> None:
    from sklearn.utils import estimator_checks

    getattr(estimator_checks, name)("CodeModel", CodeModel(CODES))


def test_fit_returns_self_keeps_parameters_and_is_idempotent() -> None:
    texts, labels, _ = corpus()
    model = CodeModel(CODES, min_positive=4)
    before = model.get_params()
    assert model.fit(texts, labels) is model
    assert model.get_params() == before and model.codes is CODES
    check_is_fitted(model)
    assert set(model.models_) == {"security", "china"} and model.skipped_ == ["rare"]
    first = model.predict_proba(UNSEEN)
    second = model.fit(texts, labels).predict_proba(UNSEEN)
    assert first.keys() == second.keys()
    assert all(np.array_equal(first[c], second[c]) for c in first)
    with pytest.raises(NotFittedError):
        check_is_fitted(clone(model))  # a clone has the parameters, not the learned state


def test_evidence_follows_a_refit_and_its_cache_is_not_saved() -> None:
    texts, labels, _ = corpus()
    model = CodeModel(CODES, min_positive=4).fit(texts[:36], labels[:36])
    half = len(model.features_.get_feature_names_out())
    assert model.top_features("security", UNSEEN[0])
    model.fit(texts, labels)
    fresh = CodeModel(CODES, min_positive=4).fit(texts, labels)
    assert len(fresh.features_.get_feature_names_out()) != half, "the columns moved"
    for text in (UNSEEN[0], texts[0], texts[5]):
        assert model.top_features("security", text) == fresh.top_features("security", text)
    assert "_feature_names" not in pickle.loads(pickle.dumps(model)).__dict__


def test_an_unfitted_model_says_so() -> None:
    model = CodeModel(CODES)
    with pytest.raises(NotFittedError, match="CodeModel"):
        model.predict_proba(UNSEEN)
    with pytest.raises(NotFittedError):
        model.top_features("security", UNSEEN[0])
    with pytest.raises(ValueError, match="2 texts but 1 label sets"):
        model.fit(UNSEEN, [set()])


def test_the_learned_coder_refuses_an_untrained_model() -> None:
    from pipeline.coding.nlp import make_nlp
    from pipeline.learning.coder import ModelCoder

    book = default_codebook()
    with pytest.raises(DshiftError, match="not trained") as raised:
        ModelCoder(book, make_nlp(), CodeModel(tuple(book.codes)), {}, "ml.v1")
    assert "dshift train" in raised.value.hint


def test_cross_validation_keeps_every_parameter() -> None:
    texts, labels, groups = rare_corpus()
    codes = ("security", "rare")
    for train, _ in grouped_folds(groups, 3):
        assert 4 <= sum("rare" in labels[i] for i in train) < 8
    model = CodeModel(codes, min_positive=4, C=0.5)
    found = out_of_fold(texts, labels, groups, model, n_splits=3)
    assert set(found) == set(codes)
    # "rare" has 5 to 7 examples per training part: learned with min_positive=4, not with 8.
    assert not np.isnan(found["rare"]).any()
    expected = {c: np.full(len(texts), np.nan) for c in codes}
    for train, test in grouped_folds(groups, 3):
        fold = CodeModel(codes, min_positive=4, C=0.5)
        fold.fit([texts[i] for i in train], [labels[i] for i in train])
        for code, values in fold.predict_proba([texts[i] for i in test]).items():
            expected[code][test] = values
    for code in codes:
        np.testing.assert_array_equal(found[code], expected[code])
    assert model.get_params()["C"] == 0.5 and not hasattr(model, "models_"), "left untouched"
    by_default = out_of_fold(texts, labels, groups, list(codes), n_splits=3)
    assert np.isnan(by_default["rare"]).all(), "the default min_positive (8) skips it"
    assert not np.array_equal(by_default["security"], found["security"]), "C is kept too"


def test_a_saved_model_predicts_the_same_after_loading(tmp_path: Path) -> None:
    texts, labels, _ = corpus()
    model = CodeModel(CODES, min_positive=4).fit(texts, labels)
    joblib.dump(model, tmp_path / "m.joblib")
    loaded = joblib.load(tmp_path / "m.joblib")
    assert loaded.get_params() == model.get_params()
    for code, values in model.predict_proba(UNSEEN).items():
        np.testing.assert_array_equal(loaded.predict_proba(UNSEEN)[code], values)


def pickled_by_the_old_class(texts: list[str], labels: list[set[str]], version: str) -> bytes:
    """The bytes joblib wrote for a fitted ``CodeModel`` before it was a scikit-learn estimator.

    That class kept its two fitted vectorizers as ``words_`` and ``chars_`` and its codes as a
    list. The state is rebuilt here the way its ``fit`` built it; pickle stores an object as its
    class's name and its ``__dict__``, so these are the bytes that class produced.
    """
    defaults = CodeModel(CODES).get_params()
    words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, lowercase=True)
    chars = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True, max_features=60000
    )
    features = hstack([words.fit_transform(texts), chars.fit_transform(texts)]).tocsr()
    models, skipped = {}, []
    for code in CODES:
        y = np.array([code in label for label in labels], dtype=int)
        if min(y.sum(), len(y) - y.sum()) < 4:
            skipped.append(code)
            continue
        base = LogisticRegression(
            C=defaults["C"], class_weight="balanced", max_iter=2000, random_state=defaults["seed"]
        )
        models[code] = CalibratedClassifierCV(base, method="sigmoid", cv=3).fit(features, y)
    old = CodeModel.__new__(CodeModel)
    old.__dict__.update(
        codes=list(CODES),
        min_positive=4,
        C=defaults["C"],
        seed=defaults["seed"],
        words_=words,
        chars_=chars,
        models_=models,
        skipped_=skipped,
    )
    buffer = io.BytesIO()
    meta = {"codebook_version": version, "sklearn": sklearn.__version__}
    joblib.dump({"model": old, "meta": meta}, buffer)
    return buffer.getvalue()


def test_a_model_saved_by_the_old_class_still_loads_and_predicts_the_same(
    tmp_path: Path,
) -> None:
    from pipeline.learning.store_io import load_model

    texts, labels, _ = corpus()
    book = default_codebook()
    saved = tmp_path / f"ml.v1-{book.version}.joblib"
    saved.write_bytes(pickled_by_the_old_class(texts, labels, book.version))
    old, _ = load_model(tmp_path, book)
    assert isinstance(old, CodeModel)
    assert not hasattr(old, "words_") and not hasattr(old, "chars_")
    new = CodeModel(CODES, min_positive=4).fit(texts, labels)
    assert old.skipped_ == new.skipped_ == ["rare"]
    for code, values in new.predict_proba(UNSEEN).items():
        np.testing.assert_allclose(old.predict_proba(UNSEEN)[code], values, rtol=0, atol=1e-12)
    assert old.top_features("security", UNSEEN[0]) == new.top_features("security", UNSEEN[0])
    assert clone(old).get_params()["codes"] == list(CODES)


def test_a_saved_model_this_version_cannot_read_says_train_again(tmp_path: Path) -> None:
    from pipeline.learning.store_io import load_model

    book = default_codebook()
    odd = CodeModel.__new__(CodeModel)
    odd.__dict__.update(codes=["security"], vectorizer_="?", models_={}, skipped_=[])
    meta = {"codebook_version": book.version, "sklearn": sklearn.__version__}
    joblib.dump({"model": odd, "meta": meta}, tmp_path / f"ml.v1-{book.version}.joblib")
    with pytest.raises(DshiftError, match="cannot read") as raised:
        load_model(tmp_path, book)
    assert raised.value.hint == "run 'dshift train' again"
