"""The learned coder: estimator contract, grouped cross-validation, ensemble, determinism."""

from __future__ import annotations

import numpy as np

from pipeline.learning.evaluate import choose_thresholds, ensemble, grouped_folds, out_of_fold
from pipeline.learning.model import CodeModel

TOPICS = {
    "security": [
        "troops secured the border after the attack",
        "the army fought terrorists",
        "militants attacked a check post",
        "soldiers cleared the area of militants",
    ],
    "china": [
        "the corridor with China will bring investment",
        "Beijing and Islamabad signed a trade agreement",
        "Chinese engineers worked on the port",
        "the friendship with China deepened",
    ],
    "none": [
        "the weather was pleasant in spring",
        "the delegation visited a museum",
        "students attended a cultural festival",
        "the embassy issued new visas",
    ],
}


def corpus() -> tuple[list[str], list[set[str]], list[str]]:
    texts, labels, groups = [], [], []
    for round_ in range(6):
        for topic, sentences in TOPICS.items():
            for i, sentence in enumerate(sentences):
                texts.append(f"{sentence} in round {round_}")
                labels.append(set() if topic == "none" else {topic})
                groups.append(f"doc{round_}-{i % 2}")
    return texts, labels, groups


def test_grouped_folds_never_put_a_document_on_both_sides() -> None:
    _, _, groups = corpus()
    for train, test in grouped_folds(groups, 5):
        assert not {groups[i] for i in train} & {groups[i] for i in test}


def test_estimator_contract_and_skipped_codes() -> None:
    texts, labels, _ = corpus()
    model = CodeModel(["security", "china", "rare"], min_positive=4)
    assert model.fit(texts, labels) is model
    assert set(model.models_) == {"security", "china"} and model.skipped_ == ["rare"]
    probabilities = model.predict_proba(
        ["soldiers fought militants near the border", "a museum exhibition opened"]
    )
    assert probabilities["security"][0] > 0.5 > probabilities["security"][1]
    assert "militants" in " ".join(model.top_features("security", "militants attacked"))


def test_training_is_deterministic() -> None:
    texts, labels, groups = corpus()
    first = out_of_fold(texts, labels, groups, ["security"], n_splits=3, seed=7)
    second = out_of_fold(texts, labels, groups, ["security"], n_splits=3, seed=7)
    assert np.array_equal(first["security"], second["security"])


def test_ensemble_keeps_rule_tags_and_adds_confident_model_tags() -> None:
    rules = np.array([True, False, False])
    probabilities = np.array([0.1, 0.95, 0.5])
    assert list(ensemble(rules, probabilities, 0.9)) == [True, True, False]
    gold = {"c": np.array([True, True, False])}
    assert choose_thresholds({"c": probabilities}, {"c": rules}, gold)["c"] >= 0.6
