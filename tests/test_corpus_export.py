"""The corpus export (``dshift export --corpus``): every document's text and every segment's
offsets and final codes, read back by pandas with offsets that slice the text exactly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.workspace import Workspace, init_workspace
from tests.conftest import BACKENDS, SAMPLE, on_backend

# Non-ASCII on purpose: accents, Urdu, a flag (two code points outside the BMP, where UTF-16
# offsets would differ), and a bullet that CSV files quote.
TEXT = (
    "Islamabad, 4 March 2021\n\n"
    "Pakistan and Türkiye reaffirmed their strategic partnership. "
    "The Foreign Minister thanked China for its economic assistance 🇵🇰.\n\n"
    "- پاکستان زندہ باد: the security of the region depends on dialogue.\n\n"
    "Both sides will deepen cooperation with the United States and China alike."
)
NAME = "2021-03-04_mofa_türkiye-visit.txt"


def _dshift(workspace: Workspace, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--workspace", str(workspace.root), *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(params=BACKENDS)
def exported(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    workspace = init_workspace(tmp_path / "ws")
    drop = workspace.root / "drop"
    drop.mkdir()
    (drop / NAME).write_text(TEXT, encoding="utf-8")
    shutil.copy(SAMPLE / "2001-09-14_mofa_press-release.pdf", drop)
    _dshift(workspace, "ingest", str(drop), "--jobs", "1")
    _dshift(workspace, "code")
    workspace = on_backend(workspace, request.param, request)
    _dshift(workspace, "export", "--corpus", "--boot", "20", "--format", "dta", "--format", "json")
    return next((workspace.outputs / "exports").iterdir())


def test_offsets_slice_the_text_exactly(exported: Path) -> None:
    documents = pd.read_parquet(exported / "corpus_documents.parquet")
    segments = pd.read_parquet(exported / "corpus_segments.parquet")
    assert len(documents) == 2 and {"doc_id", "text"} <= set(documents.columns)
    texts = dict(zip(documents["doc_id"], documents["text"]))
    ours = documents.loc[documents["file_name"] == NAME, "doc_id"].item()
    assert texts[ours] == TEXT
    for row in segments.itertuples():
        assert texts[row.doc_id][row.start : row.end] == row.text, row.segment_id
    mine = segments[segments["doc_id"] == ours]
    assert any("🇵🇰" in text for text in mine["text"]) and any("پاکستان" in t for t in mine["text"])
    ends = mine["end"].tolist()
    assert mine["start"].tolist()[1:] >= ends[:-1], "segments in text order, not overlapping"


def test_documents_carry_their_metadata(exported: Path) -> None:
    documents = pd.read_parquet(exported / "corpus_documents.parquet")
    row = documents[documents["file_name"] == NAME].iloc[0]
    assert row["date"] == "2021-03-04" and row["year"] == 2021
    assert row["source_type"] == "mofa" and row["file_names"] == NAME
    assert len(row["sha256"]) == 64 and row["n_chars"] == len(TEXT)
    manifest = json.loads((exported / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["corpus"] is True
    assert manifest["counts"]["corpus_segments"] == len(
        pd.read_parquet(exported / "corpus_segments.parquet")
    )
    for field in ("run_id", "coder", "codebook_version", "codebook_sha256", "pipeline_version"):
        assert manifest[field], field


def test_segment_codes_agree_with_the_segments_table(exported: Path) -> None:
    segments = pd.read_parquet(exported / "corpus_segments.parquet")
    coded = pd.read_parquet(exported / "segments.parquet")
    tracks = [c.removeprefix("codes_") for c in segments.columns if c.startswith("codes_")]
    assert tracks == ["alignment", "securitization", "hedging"]
    from_corpus = {
        (row["segment_id"], track)
        for _, row in segments.iterrows()
        for track in tracks
        if row[f"codes_{track}"]
    }
    from_table = set(zip(coded["segment_id"], coded["top_code"]))
    assert from_corpus and from_corpus == from_table
    assert set(segments["decided_by"]) == {"machine"}


def test_every_format_holds_the_same_corpus(exported: Path) -> None:
    parquet = pd.read_parquet(exported / "corpus_documents.parquet")
    stata = pd.read_stata(exported / "corpus_documents.dta")
    assert stata["text"].tolist() == parquet["text"].tolist(), "strL keeps long text whole"
    records = json.loads((exported / "corpus_segments.json").read_text(encoding="utf-8"))
    assert [r["text"] for r in records] == pd.read_parquet(exported / "corpus_segments.parquet")[
        "text"
    ].tolist()
    csv = pd.read_csv(exported / "corpus_segments.csv", keep_default_na=False)
    bullet = csv[csv["text"].str.contains("پاکستان")]["text"].item()
    assert bullet.startswith("'-"), "CSV alone quotes text that starts like a formula"
    dictionary = pd.read_csv(exported / "data_dictionary.csv", keep_default_na=False)
    described = dictionary[dictionary["table"].str.startswith("corpus_")]
    assert (described["description"] != "").all(), described[described["description"] == ""]
