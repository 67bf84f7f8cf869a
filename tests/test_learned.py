"""learned.v1, the default coder: its shipped model and data, its features, its tags, training."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.codebook.load import load_codebook
from pipeline.coding.nlp import make_nlp
from pipeline.coding.rules import RuleCoder
from pipeline.errors import DshiftError
from pipeline.learning import tracks_io
from pipeline.learning.learned import LearnedCoder
from pipeline.learning.tracks import Example, signals
from pipeline.learning.training import (
    find_model,
    read_devset,
    shipped_devset_path,
    shipped_model_path,
)
from pipeline.registry import DEFAULT_CODER
from pipeline.workspace import init_workspace
from tests.conftest import ROOT, SAMPLE

CODEBOOK = ROOT / "codebook" / "codebook.yaml"


def test_learned_is_the_default_coder() -> None:
    assert DEFAULT_CODER == "learned.v1"


def test_the_shipped_model_is_rebuilt_byte_for_byte_by_one_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.learning.ship", "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "byte for byte" in done.stdout


def test_the_shipped_training_data_is_the_development_set() -> None:
    devset = [
        json.loads(line)
        for line in (ROOT / "tests" / "devset" / "devset2.jsonl").read_text("utf-8").splitlines()
    ]
    with gzip.open(shipped_devset_path(), "rt", encoding="utf-8") as stream:
        shipped = [json.loads(line) for line in stream]
    assert [(r["id"], r["codes"], r["text"]) for r in shipped] == sorted(
        (r["id"], r["codes"], r["text"]) for r in devset
    )
    assert len(read_devset()) == len(devset) >= 3000


def test_the_shipped_model_says_how_it_was_made() -> None:
    model, meta = tracks_io.load(shipped_model_path())
    book = load_codebook(CODEBOOK)
    assert meta["codebook_version"] == book.version
    assert len(meta["training_data_sha256"]) == 64
    assert {"dshift", "scikit-learn", "numpy", "scipy", "spacy"} <= set(meta["versions"])
    assert (
        set(meta["thresholds"])
        == set(model.models_)
        == {
            "alignment",
            "securitization",
            "hedging",
        }
    )
    assert all(0 < t < 1 for t in meta["thresholds"].values())


def test_a_damaged_or_foreign_model_file_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "learned.v1.json.gz"
    broken.write_bytes(shipped_model_path().read_bytes()[:5000])
    with pytest.raises(DshiftError, match=r"cannot read the learned\.v1 model") as caught:
        tracks_io.load(broken)
    assert caught.value.code == "model"
    foreign = tmp_path / "other.json.gz"
    with gzip.open(foreign, "wt", encoding="utf-8") as out:
        json.dump({"format": "something else"}, out)
    with pytest.raises(DshiftError, match=r"is not a learned\.v1 model"):
        tracks_io.load(foreign)


def test_a_reference_back_takes_the_partner_named_before() -> None:
    told = signals(
        Example("The two sides agreed to deepen cooperation.", near=frozenset({"china"}))
    )
    assert told["refers_back"] == 1.0 and told["resolved=china"] == 1.0
    named = signals(
        Example(
            "China and Pakistan agreed to deepen cooperation.",
            partners=frozenset({"china"}),
            near=frozenset({"china", "russia"}),
        )
    )
    assert "resolved=china" not in named and named["near=russia"] == 1.0
    assert "refers_back" not in signals(Example("The meeting lasted two hours."))


def test_another_speaker_gets_its_own_adjustments() -> None:
    spoken = signals(
        Example("We work with China.", partners=frozenset({"china"}), speaker="United States")
    )
    assert spoken["United States|partner=china"] == 1.0 and spoken["speaker=United States"] == 1.0
    assert "speaker=Pakistan" not in signals(Example("We work with China."))


def test_every_learned_tag_carries_its_probability_and_why() -> None:
    book = load_codebook(CODEBOOK)
    model, meta, _, notes = find_model(None, book)
    assert notes == []
    coder = LearnedCoder(book, make_nlp(), model, meta)
    text = (
        "The Prime Minister met President Xi Jinping in Beijing.\n\n"
        "The two sides agreed to deepen their all-weather strategic cooperative partnership "
        "and to speed up work on the economic corridor.\n\n"
        "Troops cleared the border area of militants after an operation in North Waziristan."
    )
    codings = coder.code_text(text)
    assert len(codings) == 3
    tagged = [c for c in codings if c.evidence]
    assert tagged, "the partnership and the operation are coded"
    for coding in tagged:
        for code, evidence in coding.evidence.items():
            track = book.top_level(code)
            assert coding.confidence[code] >= model.thresholds_[track]
            why = [e for e in evidence if e.pattern.startswith("learned.v1:")]
            assert len(why) == 1 and why[0].pattern != "learned.v1:"
            assert (why[0].start, why[0].end) == (coding.start, coding.end)
    assert "hedging" in {book.top_level(c) for c in codings[1].evidence}
    assert "securitization" in {book.top_level(c) for c in codings[2].evidence}


def test_an_edited_codebook_is_coded_with_a_note_and_other_tracks_are_refused(
    tmp_path: Path,
) -> None:
    edited = tmp_path / "codebook.yaml"
    edited.write_text(CODEBOOK.read_text("utf-8").replace("window: 10", "window: 11", 1), "utf-8")
    book = load_codebook(edited)
    _, _, path, notes = find_model(tmp_path / "models", book)
    assert path == shipped_model_path()
    assert len(notes) == 1 and "run 'dshift train'" in notes[0] and book.version in notes[0]
    minimal = tmp_path / "minimal.yaml"
    minimal.write_text(
        "name: t\ncodes:\n  - id: a\n    label: A\n    definition: D.\n    patterns:\n"
        "      - {id: p1, lemmas: [aid]}\n",
        "utf-8",
    )
    other = load_codebook(minimal)
    with pytest.raises(DshiftError, match=r"--coder rules\.v1") as caught:
        find_model(tmp_path / "models", other)
    assert caught.value.code == "model"


def test_train_makes_a_model_for_the_workspace_and_code_uses_it(tmp_path: Path) -> None:
    workspace = init_workspace(tmp_path / "ws")
    drop = workspace.root / "drop"
    drop.mkdir()
    for path in sorted(SAMPLE.glob("*.pdf"))[:4]:
        shutil.copy(path, drop / path.name)
    args = ["--workspace", str(workspace.root)]
    runner = CliRunner()
    assert runner.invoke(cli, [*args, "ingest", str(drop), "--jobs", "1"]).exit_code == 0
    codebook = workspace.codebook / "codebook.yaml"
    codebook.write_text(codebook.read_text("utf-8").replace("window: 10", "window: 11", 1), "utf-8")
    coded = runner.invoke(cli, [*args, "code"])
    assert coded.exit_code == 0, coded.output
    assert "note: learned.v1 is using the model shipped for codebook" in coded.output
    trained = runner.invoke(cli, [*args, "train"])
    assert trained.exit_code == 0, trained.output
    assert "trained learned.v1 on" in trained.output and "alpha" in trained.output
    book = load_codebook(codebook)
    saved = workspace.models / f"learned.v1-{book.version}.json.gz"
    assert saved.exists()
    _, meta = tracks_io.load(saved)
    assert meta["codebook_version"] == book.version and meta["workspace_rows"] == 0
    _, _, path, notes = find_model(workspace.models, book)
    assert path == saved and notes == []
    with workspace.open_store() as store:
        before = store.coding_counts("learned.v1", book.version)
    again = runner.invoke(cli, [*args, "code"])
    assert again.exit_code == 0, again.output
    assert "4 document(s) coded again: learned.v1's model was retrained" in again.output
    with workspace.open_store() as store:
        after = store.coding_counts("learned.v1", book.version)
        assert after.documents == before.documents and after.segments == before.segments
        model = hashlib.sha256(saved.read_bytes()).hexdigest()
        assert store.coded_by_another_model("sentences.v1", "learned.v1", book.version, model) == []
    unchanged = runner.invoke(cli, [*args, "code"])
    assert "coded 0 document(s)" in unchanged.output and "coded again" not in unchanged.output


def test_the_fast_transforms_give_scikit_learns_matrices() -> None:
    """Coding computes each feature part by array operations; training fits scikit-learn's own
    vectorizers. They must give the same matrices, cold and with the tables warm."""
    from pipeline.learning.features import Featurizer

    model, _ = tracks_io.load(shipped_model_path())
    rows = read_devset()[:1500]
    examples = [
        Example(r.text, r.before, r.after, frozenset({"hedging"}) if i % 3 else frozenset())
        for i, r in enumerate(rows)
    ]
    examples += [
        Example(""),
        Example("  Ünïcode\u00a0TEXT\twith\ttabs: U.S.-Pakistan ties don't ", "x", ""),
        Example("the two sides the two sides", "Same text", "Same text", speaker="India"),
        Example("a b c I", "", "Pakistan United States Pakistan", kind="mofa"),
    ]
    featurizer = Featurizer(model.vectorizers_)
    for _ in ("cold tables", "warm tables"):
        got = featurizer.blocks(examples)
        assert set(got) == {"words", "chars", "context"}
        for name, matrix in got.items():
            expected = model.vectorizers_[name].transform(model._inputs(name, examples))
            assert matrix.dtype == expected.dtype and matrix.shape == expected.shape, name
            assert abs(matrix - expected).max() < 1e-9, name
        signals_of = model._transform("signals", examples)
        expected = model.vectorizers_["signals"].transform(model._inputs("signals", examples))
        assert signals_of.shape == expected.shape and abs(signals_of - expected).max() == 0
    assert featurizer.grams, "each lexeme's n-grams are kept between batches"
    assert all(m.shape[0] == 0 for m in featurizer.blocks([]).values())
    probabilities = model.predict_proba(examples)
    matrix = model.transform(examples)
    for track, lr in model.models_.items():
        assert np.allclose(probabilities[track], lr.predict_proba(matrix)[:, 1], atol=1e-12)


def test_a_model_from_an_earlier_dshift_is_refused_with_what_to_do(tmp_path: Path) -> None:
    old = tmp_path / "learned.v1-old.json.gz"
    with gzip.open(old, "wt", encoding="utf-8") as stream:
        json.dump({"format": "dshift.learned/1"}, stream)
    with pytest.raises(DshiftError) as caught:
        tracks_io.load(old)
    assert "made by an earlier dshift" in str(caught.value)
    assert "dshift train" in caught.value.hint


def test_one_scan_finds_the_references_back_that_each_sentence_has() -> None:
    from pipeline.learning.tracks import refer_back, refers_back

    texts = [r.text for r in read_devset()[:3000]]
    texts += ["", "The two sides agreed.", "the two\nsides", "Both countries", "THEIR COUNTERPART"]
    assert refer_back(texts) == [refers_back(t) for t in texts]
    assert refer_back(["the two\nsides"]) == [False], "a cue is never read across a line break"
    assert sum(refer_back(texts)) > 50


def test_the_partners_a_title_names_are_those_its_rule_coding_lists() -> None:
    from pipeline.learning.examples import partners_in

    coder = RuleCoder(load_codebook(CODEBOOK), make_nlp())
    titles = sorted({r.title for r in read_devset() if r.title})
    titles += ["", "Joint Statement: Pakistan and the People's Republic of China", "US-Pak talks"]
    assert len(titles) > 100
    for title in titles:
        assert coder.partners_named(title) == partners_in(coder.rule_text(title)), title


def test_show_names_a_learned_tags_features_in_a_coders_words() -> None:
    from pipeline.coding.browse import feature_in_words

    labels = {"china": "China"}
    assert feature_in_words("partner=china", labels) == "names China"
    assert feature_in_words("resolved=china", labels) == "refers back to China"
    assert feature_in_words("rule=hedging.china") == "the rules found hedging.china"
    assert feature_in_words("chars").startswith("the letters of its words")
    assert feature_in_words("context") == "the words of the sentences either side"
    assert feature_in_words("India|partner=china", labels) == "names China, when India speaks"
    assert feature_in_words("strategic partnership") == "'strategic partnership'"
    assert feature_in_words("x=y") == "'x=y'", "an unknown signal is shown as it is"
