"""Segmentation and the rule coder, pure and through the store and the CLI."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.cli import cli
from pipeline.codebook.load import load_codebook
from pipeline.coding.nlp import make_nlp
from pipeline.coding.rules import RuleCoder
from pipeline.coding.run import code_corpus, code_document
from pipeline.executor import SerialExecutor
from pipeline.ingest.run import IngestSettings, ingest
from pipeline.workspace import Workspace
from tests.conftest import BACKENDS, INTEGRITY, ROOT, SAMPLE, new_database

CODEBOOK = ROOT / "codebook" / "codebook.yaml"


@pytest.fixture(scope="module")
def coder() -> RuleCoder:
    return RuleCoder(load_codebook(CODEBOOK), make_nlp())


def codes_of(coder: RuleCoder, text: str) -> set[str]:
    return {c for s in coder.code_text(text) for c in s.evidence}


sentence = st.tuples(
    st.text(alphabet=st.sampled_from("abcdefgh ÄéğŞ,;"), min_size=1, max_size=40),
    st.sampled_from([". ", "? ", "! ", " "]),
).map("".join)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(sentence, min_size=1, max_size=5).map("".join), min_size=1, max_size=5).map(
        "\n\n".join
    )
)
def test_segments_tile_the_text(text: str) -> None:
    coder = RuleCoder(load_codebook(CODEBOOK), make_nlp())
    coded = code_document(coder, text, "ab" * 32, "sentences.v1")
    covered = [False] * len(text)
    previous_end = 0
    for segment in coded.segments:
        assert previous_end <= segment.start < segment.end <= len(text)
        assert text[segment.start : segment.end] == text[segment.start : segment.end].strip()
        for i in range(segment.start, segment.end):
            covered[i] = True
        previous_end = segment.end
    assert all(covered[i] for i, char in enumerate(text) if not char.isspace())
    assert len({s.id for s in coded.segments}) == len(coded.segments)
    again = code_document(coder, text, "ab" * 32, "sentences.v1")
    assert [s.id for s in again.segments] == [s.id for s in coded.segments]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("There is no military solution to the conflict in Afghanistan.", set()),
        ("Pakistan will not be part of any bloc or camp politics.", {"hedging.nonalignment"}),
        ("The Security Council must uphold its resolutions.", set()),
        ("Food security and energy security are our priorities.", set()),
        ("Our peacekeeping troops have served with distinction.", set()),
        ("We protest the US drone strikes, which violate our sovereignty.", {"alignment.friction"}),
        (
            "We thank the United States for its economic assistance.",
            {"alignment.aid", "alignment.cooperation"},
        ),
        (
            "Indian aggression along the Line of Control threatens regional peace.",
            {"securitization", "securitization.border", "securitization.india_threat"},
        ),
        (
            "Pakistan and China reaffirmed their all-weather strategic cooperative partnership.",
            {"hedging.china"},
        ),
        ("The Foreign Minister will travel to Beijing next week.", set()),
    ],
)
def test_rules(coder: RuleCoder, text: str, expected: set[str]) -> None:
    assert codes_of(coder, text) == expected


def test_evidence_points_at_the_matched_characters(coder: RuleCoder) -> None:
    text = "Talks were held.\n\nWe thank the United States for its economic assistance."
    [_, coding] = coder.code_text(text)
    [evidence] = coding.evidence["alignment.aid"]
    assert text[evidence.start : evidence.end] == evidence.text
    assert evidence.pattern == "al-aid-near-us" and coding.partners == ["united_states"]


@pytest.fixture(scope="module", params=BACKENDS)
def coded_workspace(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Workspace:
    """Four sample documents ingested and coded, on each backend."""
    from pipeline.workspace import init_workspace

    server = request.getfixturevalue("postgres") if request.param == "postgresql" else None
    store = new_database(server) if server else None
    workspace = init_workspace(tmp_path_factory.mktemp("coded") / "ws", store)
    drop = workspace.root / "drop"
    drop.mkdir()
    for name in (
        "briefing-wk41.pdf",
        "2015-04-20_treaty_pak-china-joint-statement.pdf",
        "2011-12-01_mofa_briefing.pdf",
        "ispr_salala.txt",
    ):
        shutil.copy(SAMPLE / name, drop / name)
    with workspace.open_store() as store:
        ingest(store, [drop], IngestSettings(), executor=SerialExecutor())
        book = load_codebook(CODEBOOK)
        code_corpus(store, book, CODEBOOK.read_text("utf-8"))  # the rules, by default here
        store.set_active_coder("rules.v1")
    return workspace


def test_coding_is_stored_once_per_codebook_version_and_old_tags_kept(
    coded_workspace: Workspace, tmp_path: Path
) -> None:
    book = load_codebook(CODEBOOK)
    with coded_workspace.open_store() as store:
        again = code_corpus(store, book, CODEBOOK.read_text("utf-8"))
        assert again.documents == 0
        counts = store.coding_counts("rules.v1", book.version)
        documents, segments, tags = counts.documents, counts.segments, counts.tags
        assert documents == 4 and segments > 100 and tags > 50
        edited = tmp_path / "codebook.yaml"
        edited.write_text(
            CODEBOOK.read_text("utf-8").replace("[drone strike, drone attack, ", "[drone attack, "),
            "utf-8",
        )
        new_book = load_codebook(edited)
        dry = code_corpus(store, new_book, edited.read_text("utf-8"), dry_run=True)
        assert dry.compared_with == book.version
        assert store.coded_versions("rules.v1") == [book.version]
        code_corpus(store, new_book, edited.read_text("utf-8"))
        assert store.coded_versions("rules.v1") == [book.version, new_book.version]
        assert store.coding_counts("rules.v1", book.version) == counts
        assert store.codebook_content(book.version) == CODEBOOK.read_text("utf-8")


def test_tag_command_is_a_stable_json_lines_interface(coded_workspace: Workspace) -> None:
    lines = [
        json.dumps({"id": 1, "text": "Troops cleared the area.", "year": 2014}),
        json.dumps({"id": "b", "text": "Pakistan will not be part of any bloc."}),
        "",
        "not json",
        json.dumps({"id": 3}),
    ]
    runner = CliRunner()
    args = ["--workspace", str(coded_workspace.root), "tag"]
    strict = runner.invoke(cli, args, input="\n".join(lines))
    assert strict.exit_code == 7 and "line 4: not valid JSON" in strict.output
    result = runner.invoke(cli, [*args, "--skip-bad"], input="\n".join(lines))
    assert result.exit_code == 0
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == [1, "b"]
    assert rows[0]["codes"] == ["securitization"] and rows[1]["codes"] == ["hedging"]
    assert set(rows[0]) == {"id", "codes", "subcodes", "partners", "evidence"}
    assert "line 5: missing 'text'" in result.stderr


def test_kwic_and_show_explain_the_coding(coded_workspace: Workspace) -> None:
    runner = CliRunner()
    args = ["--workspace", str(coded_workspace.root)]
    kwic = runner.invoke(cli, [*args, "kwic", "drone", "--code", "alignment"])
    assert kwic.exit_code == 0 and "[drone]" in kwic.output.lower()
    first = kwic.output.splitlines()[0]
    segment_id = re.search(r"\] .* (s[0-9a-f]{12}) ", first)[1]
    # the document's whole name ends the line, however long
    assert any(first.endswith(" " + p.name) for p in SAMPLE.iterdir())
    shown = runner.invoke(cli, [*args, "show", segment_id])
    assert "alignment.friction" in shown.output and "»" in shown.output
    assert "al-fric" in shown.output and "lemmas" in shown.output
    assert runner.invoke(cli, [*args, "show", "nope"]).exit_code == 1


def test_codebook_commands(coded_workspace: Workspace, tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["--workspace", str(coded_workspace.root), "codebook"]
    assert "ok — 22 codes" in runner.invoke(cli, [*args, "check", str(CODEBOOK)]).output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncodes: []\n", "utf-8")
    result = runner.invoke(cli, [*args, "check", str(bad)])
    assert result.exit_code == 6 and "needs a non-empty list of codes" in result.output
    edited = tmp_path / "new.yaml"
    edited.write_text(CODEBOOK.read_text("utf-8").replace("Salala, ", ""), "utf-8")
    shown = runner.invoke(cli, [*args, "diff", str(CODEBOOK), str(edited)])
    assert "~ pattern al-fric-named (alignment.friction)" in shown.output
    assert "segments that would gain / lose a tag" in shown.output


def test_coding_in_batches_gives_what_coding_one_by_one_gives(
    coder: RuleCoder, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Documents are coded and written in batches (one transaction per batch); the stored
    result must not depend on where the batches are cut."""
    from pipeline.coding import run
    from pipeline.workspace import init_workspace

    book = load_codebook(CODEBOOK)
    stored = []
    for cut in ("one document a batch", "all in one"):
        workspace = init_workspace(tmp_path / cut.replace(" ", "-"))
        with workspace.open_store() as store:
            ingest(store, [SAMPLE], IngestSettings(), executor=SerialExecutor())
            size = 1 if cut == "one document a batch" else 10_000
            monkeypatch.setattr(run, "BATCH_DOCUMENTS", size)
            monkeypatch.setattr(run, "SAVE_DOCUMENTS", size)
            summary = code_corpus(store, book, CODEBOOK.read_text("utf-8"), coder=coder)
            assert summary.documents > 10
            stored.append(
                sorted(
                    (t.segment_id, t.code, t.confidence, json.dumps(t.evidence))
                    for s in store.segment_texts("sentences.v1")
                    for t in store.tags_of_segment(s.segment.id)
                )
            )
    assert stored[0] == stored[1] and stored[0]


def test_a_batch_that_cannot_be_written_leaves_no_document_half_coded(
    coded_workspace: Workspace,
) -> None:
    from pipeline.core.records import CodingToSave, SegmentToSave, TagToSave

    with coded_workspace.open_store() as store:
        version = store.coded_versions("rules.v1")[-1]
        run_id = store.start_run("test: a broken batch", {})
        [first, second, *_] = store.current_documents()
        good = CodingToSave(
            first.id,
            "broken.v1",
            "rules.v1",
            version,
            run_id,
            [SegmentToSave("s-batch-1", 0, 0, 5, 1, [])],
            [TagToSave("s-batch-1", "hedging", "hedging", 0.9, [], [])],
        )
        # A tag whose segment was never written: the database refuses it.
        bad = CodingToSave(
            second.id,
            "broken.v1",
            "rules.v1",
            version,
            run_id,
            [],
            [TagToSave("s-never-written", "hedging", "hedging", 0.9, [], [])],
        )
        with pytest.raises(INTEGRITY):
            store.save_codings([good, bad])
        assert store.segment("s-batch-1") is None, "the first document's coding was rolled back"
        assert store.documents_to_code("broken.v1", "rules.v1", version) != []
