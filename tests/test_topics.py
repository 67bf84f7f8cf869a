"""Topic models and term suggestions: output shapes and determinism on the sample corpus."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.codebook.load import load_codebook
from pipeline.coding.run import code_corpus
from pipeline.executor import SerialExecutor
from pipeline.ingest.run import IngestSettings, ingest
from pipeline.learning.topics import fit_topics, suggest_terms, tokenize, with_phrases
from pipeline.learning.views import run_expand, run_topics
from pipeline.workspace import Workspace, init_workspace
from tests.conftest import ROOT, SAMPLE


@pytest.fixture(scope="module")
def coded(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    workspace = init_workspace(tmp_path_factory.mktemp("topics") / "ws")
    book = load_codebook(ROOT / "codebook" / "codebook.yaml")
    with workspace.open_store() as store:
        ingest(store, [SAMPLE], IngestSettings(), executor=SerialExecutor())
        code_corpus(store, book, "")
    return workspace


def test_topics_are_deterministic_and_written(coded: Workspace, tmp_path: Path) -> None:
    book = load_codebook(ROOT / "codebook" / "codebook.yaml")
    with coded.open_store() as store:
        first = run_topics(store, book, tmp_path / "a", [3], seeded=True)
        second = run_topics(store, book, tmp_path / "b", [3], seeded=True)
    assert first.split("\n")[1:-1] == second.split("\n")[1:-1]
    terms = pd.read_csv(tmp_path / "a" / "topics.csv")
    assert set(terms.columns) == {"topic", "rank", "term", "weight"}
    prevalence = pd.read_csv(tmp_path / "a" / "topic_prevalence.csv")
    topic_columns = [c for c in prevalence.columns if c.startswith("topic_")]
    assert prevalence[topic_columns].sum(axis=1).round(6).eq(1).all()
    assert (tmp_path / "a" / "topic_segments.csv").exists()


def test_expand_suggests_unknown_terms_deterministically(coded: Workspace) -> None:
    book = load_codebook(ROOT / "codebook" / "codebook.yaml")
    with coded.open_store() as store:
        first = run_expand(store, book, "hedging.connectivity", top=5)
        second = run_expand(store, book, "hedging.connectivity", top=5)
    assert first == second and "codebook/codebook.yaml" in first


def test_fit_topics_shapes() -> None:
    texts = ["troops secured the border region"] * 5 + ["the corridor brings trade and ports"] * 5
    tokens = with_phrases(tokenize(texts), min_count=2)
    model = fit_topics(tokens, 2, seed=1, passes=2)
    assert model.weights.shape == (10, 2) and len(model.terms) == 2
    assert suggest_terms(tokens, ["nonexistent"], set()) == []


def test_too_little_text_is_explained_not_a_traceback() -> None:
    from pipeline.errors import DshiftError

    tokens = tokenize(["Pakistan and China agreed to deepen cooperation.", "Troops cleared it."])
    with pytest.raises(DshiftError, match="too little text for 2 topics"):
        fit_topics(tokens, 2)
    assert suggest_terms(tokens, ["china"], set()) == []


def test_topic_tables_live_in_the_store_with_their_provenance(
    coded: Workspace, tmp_path: Path
) -> None:
    import shutil

    from pipeline.core.records import NewDecision
    from pipeline.exports.stage import topics_provenance
    from pipeline.learning.topic_tables import topic_tables

    book = load_codebook(ROOT / "codebook" / "codebook.yaml")
    folder = tmp_path / "outputs" / "topics"
    with coded.open_store() as store:
        run_topics(store, book, folder, [3], seeded=True)
        shutil.rmtree(tmp_path / "outputs")  # outputs/ is regenerable: nothing reads it back
        tables, record = topic_tables(store)
        assert set(tables) == {"topics", "topic_prevalence", "topic_segments"}
        assert record is not None and record.codebook_version == book.version
        assert record.parameters["kept_k"] == 3
        assert store.recent_runs(1)[0].command == "topics"
        provenance, note = topics_provenance(store, book, record)
        assert provenance is not None and provenance["current"] and note is None
        # A coder's decision changes the inputs: the tables no longer describe the store.
        segment = store.segment_rows("sentences.v1")[0].segment_id
        store.add_decisions(
            [NewDecision(segment, "amina", "coder", "reject", [], [], "", book.version, "t")],
            sha256="t" * 64,
            path="test",
            kind="sheet",
            coder="amina",
            run_id=store.start_run("test", {}),
        )
        provenance, note = topics_provenance(store, book, record)
    assert provenance is not None and not provenance["current"]
    assert note is not None and "run 'dshift topics' again" in note
