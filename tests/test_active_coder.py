"""The coder a user chooses reaches every stage downstream of coding.

A second machine coder's tags are written through the store's own coding method (``ml.v1``,
tagging every segment ``hedging.china``, easy to tell from the rules' tags); after
``dshift coder use ml.v1`` the indices, the export and its manifest, review sheets, the REFI-QDA
project, kwic and status read them, and the rules' tags stay for comparison.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from pipeline.cli import cli
from pipeline.coding.nlp import DEFAULT_SEGMENTER
from pipeline.refi.read import read_project
from pipeline.store import connect
from pipeline.store.coding import SegmentToSave, TagToSave
from pipeline.workspace import Workspace
from tests.conftest import coded_workspace

DOCS = ["2001-09-14_mofa_press-release.pdf", "2014-06-15_ispr_zarb-e-azb.pdf"]


def invoke(workspace: Workspace, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, ["--workspace", str(workspace.root), *args])
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture(scope="module")
def two_coders(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    workspace = coded_workspace(tmp_path_factory.mktemp("coders") / "ws", DOCS, coder="rules.v1")
    with connect(workspace.store_path) as store:
        version = store.coded_versions("rules.v1")[-1]
        run = store.start_run("test: a second coder", {})
        for document in store.current_documents():
            segments = [
                t.segment
                for t in store.segment_texts(DEFAULT_SEGMENTER)
                if t.segment.document_id == document.id
            ]
            store.save_coding(
                document.id,
                DEFAULT_SEGMENTER,
                "ml.v1",
                version,
                run,
                [SegmentToSave(s.id, s.seq, s.start, s.end, s.n_words, []) for s in segments],
                [TagToSave(s.id, "hedging.china", "hedging", 0.9, [], []) for s in segments],
            )
        store.finish_run(run, "completed", {})
    return workspace


def hedging_shares(workspace: Workspace) -> pd.Series:
    folder = sorted((workspace.outputs / "exports").iterdir())[-1]
    tidy = pd.read_csv(folder / "indices_tidy.csv")
    overall = tidy[(tidy["breakdown"] == "overall") & (tidy["code"] == "hedging.china")]
    return overall["share"]


def test_every_downstream_stage_reads_the_active_coder(two_coders: Workspace) -> None:
    workspace = two_coders
    assert "active coder: rules.v1" in invoke(workspace, "status")
    invoke(workspace, "export", "--boot", "10")
    assert (hedging_shares(workspace) < 1).all(), "the rules do not tag every sentence China"

    assert "active coder: ml.v1" in invoke(workspace, "coder", "use", "ml.v1")
    assert "active coder: ml.v1" in invoke(workspace, "status")
    shown = invoke(workspace, "coder", "show")
    assert "* ml.v1" in shown and "  rules.v1" in shown

    invoke(workspace, "export", "--boot", "10", "--refi")
    assert (hedging_shares(workspace) == 1).all()
    folder = sorted((workspace.outputs / "exports").iterdir())[-1]
    assert json.loads((folder / "manifest.json").read_text())["coder"] == "ml.v1"
    segments = pd.read_csv(folder / "segments.csv", keep_default_na=False)
    assert set(segments["coder"]) == {"ml.v1"} and set(segments["code"]) == {"hedging.china"}

    project = read_project((folder / "project.qdpx").read_bytes())
    assert "ml.v1" in project.users.values() and "rules.v1" not in project.users.values()

    sheet = invoke(workspace, "review", "export", "--coder", "amina", "--size", "3")
    book = load_workbook(sheet.strip().splitlines()[0])
    review = book["review"]
    header = [c.value for c in review[1]]
    machine = [r[header.index("machine codes")] for r in review.iter_rows(2, values_only=True)]
    assert machine and all("china" in str(m) for m in machine)

    assert "Pakistan" in invoke(workspace, "kwic", "Pakistan", "--code", "hedging.china")

    invoke(workspace, "coder", "use", "rules.v1")
    assert "active coder: rules.v1" in invoke(workspace, "status")


def test_an_unknown_coder_is_named_with_the_choices(two_coders: Workspace) -> None:
    output = invoke(two_coders, "coder", "use", "ensemble.v2", code=1)
    assert "unknown machine coder 'ensemble.v2'" in output
    assert "did you mean 'ensemble.v1'?" in output


def test_a_coder_with_nothing_coded_says_what_to_run(two_coders: Workspace) -> None:
    output = invoke(two_coders, "coder", "use", "ensemble.v1")
    assert "run 'dshift code --coder ensemble.v1'" in output
    index = invoke(two_coders, "index", code=1)
    assert "nothing is coded by ensemble.v1 (the active coder)" in index
    invoke(two_coders, "coder", "use", "rules.v1")
