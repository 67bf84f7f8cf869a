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


def test_train_code_with_the_model_and_refuse_another_codebook(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    import pytest
    from click.testing import CliRunner

    from pipeline.cli import cli
    from pipeline.codebook.load import load_codebook
    from pipeline.coding.rules import CODER
    from pipeline.errors import DshiftError
    from pipeline.learning.store_io import load_model
    from pipeline.store.review import NewDecision
    from pipeline.workspace import init_workspace
    from tests.conftest import SAMPLE

    workspace = init_workspace(tmp_path / "ws")
    drop = workspace.root / "drop"
    drop.mkdir()
    for path in sorted(SAMPLE.glob("*.pdf"))[:18]:
        shutil.copy(path, drop / path.name)
    runner = CliRunner()
    args = ["--workspace", str(workspace.root)]
    assert runner.invoke(cli, [*args, "ingest", str(drop), "--jobs", "1"]).exit_code == 0
    # ml.v1 learns beside the rules: code with them and review their tags.
    assert runner.invoke(cli, [*args, "code", "--coder", "rules.v1"]).exit_code == 0
    assert runner.invoke(cli, [*args, "coder", "use", "rules.v1"]).exit_code == 0
    book = load_codebook(workspace.codebook / "codebook.yaml")
    with workspace.open_store() as store:
        tags = store.machine_tags(CODER, book.version)
        rows = store.segment_rows("sentences.v1")
        decisions = []
        for segment_id, *_ in rows[:160]:
            machine = sorted({c for c, _, _ in tags.get(segment_id, [])})
            decisions.append(
                NewDecision(
                    segment_id,
                    "amina",
                    "coder",
                    "accept" if machine else "reject",
                    machine,
                    machine,
                    "",
                    book.version,
                    "test",
                )
            )
        store.add_decisions(
            decisions,
            sha256="x" * 64,
            path="test",
            kind="sheet",
            coder="amina",
            run_id=store.start_run("test", {}),
        )
    from pipeline.indices.stage import IndexSettings, compute_tables

    with workspace.open_store() as store:
        tables = compute_tables(store, book, IndexSettings(n_boot=50), with_change_points=False)
    overall = tables.tidy[tables.tidy["breakdown"] == "overall"]
    corrected = overall[overall["code"].isin(["alignment", "securitization", "hedging"])]
    assert corrected["corrected_share"].notna().any()
    trained = runner.invoke(cli, [*args, "train", "--coder", "ml.v1"])
    assert trained.exit_code == 0, trained.output
    assert "cross-validated against coders" in trained.output
    sheet = runner.invoke(
        cli,
        [*args, "review", "export", "--coder", "bilal", "--size", "5", "--strategy", "uncertain"],
    )
    assert sheet.exit_code == 0, sheet.output
    coded = runner.invoke(cli, [*args, "code", "--coder", "ensemble.v1"])
    assert coded.exit_code == 0, coded.output
    with workspace.open_store() as store:
        assert book.version in store.coded_versions("ensemble.v1")
    edited = workspace.codebook / "codebook.yaml"
    edited.write_text(edited.read_text("utf-8").replace("window: 10", "window: 11", 1), "utf-8")
    with pytest.raises(DshiftError, match="run 'dshift train'"):
        load_model(workspace.models, load_codebook(edited))


def test_prevalence_correction_recovers_a_known_truth() -> None:
    from pipeline.learning.prevalence import adjust, corrected_share, error_rates

    rng = np.random.default_rng(3)
    truth = 0.30
    tpr, fpr = 0.7, 0.1

    def machine_of(gold: np.ndarray) -> np.ndarray:
        hit = rng.random(gold.size)
        return np.where(gold, hit < tpr, hit < fpr)

    # The period: 200 documents of 10 segments; the true share is 0.30.
    gold_period = rng.random(2000) < truth
    coded = machine_of(gold_period).reshape(200, 10).sum(axis=1)
    observed = coded.sum() / 2000
    assert abs(observed - (fpr + (tpr - fpr) * truth)) < 0.03  # raw share is biased (~0.28)
    # Reviewed segments, from which the error rates are estimated.
    gold = rng.random(1500) < 0.4
    machine = machine_of(gold)
    value, low, high = corrected_share(coded, np.full(200, 10), gold, machine, n_boot=300)
    assert abs(value - truth) < 0.05 and low < truth < high
    assert np.isnan(adjust(0.3, error_rates(gold, gold == gold)))  # no better than chance


def test_uncertainty_sampling_takes_the_least_sure_spread_over_strata() -> None:
    from pipeline.review.select import Candidate, select

    pool = [
        Candidate(
            f"s{i:03d}",
            2001 + i % 4,
            "mofa" if i % 2 else "ispr",
            ("hedging",),
            ("hedging",),
            confidence=i / 100,
        )
        for i in range(100)
    ]
    chosen = select(pool, strategy="uncertain", size=8, seed=1)
    assert len(chosen) == 8
    assert all(int(s[1:]) < 24 for s in chosen), "only the least sure 3 x size are eligible"
    years = {2001 + int(s[1:]) % 4 for s in chosen}
    assert len(years) == 4, "spread over the years"
    assert select(pool, strategy="uncertain", size=8, seed=1) == chosen
