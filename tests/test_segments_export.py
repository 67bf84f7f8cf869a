"""The segments export reads final codes: who decided, the decision, and the codes that count."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.coding.nlp import DEFAULT_SEGMENTER
from pipeline.registry import DEFAULT_CODER as CODER  # the coder a workspace codes with
from pipeline.store import connect
from pipeline.store.review import NewDecision
from pipeline.workspace import Workspace
from tests.conftest import coded_workspace

DOCS = [
    "2001-09-14_mofa_press-release.pdf",
    "2006-03-04_joint-statement_us.pdf",
    "2015-04-20_treaty_pak-china-joint-statement.pdf",
    "2014-06-15_ispr_zarb-e-azb.pdf",
    "consular_circular.pdf",
]


def invoke(workspace: Workspace, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--workspace", str(workspace.root), *args])
    assert result.exit_code == 0, result.output
    return result.output


def _decision(
    segment: str, coder: str, action: str, codes: list[str], shown: list[str], role: str = "coder"
) -> NewDecision:
    return NewDecision(
        segment_id=segment,
        coder=coder,
        role=role,
        action=action,
        codes=codes,
        machine_codes=shown,
        note="",
        codebook_version="",
        source="test",
    )


@pytest.fixture(scope="module")
def exported(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, str], pd.DataFrame, pd.DataFrame]:
    workspace = coded_workspace(tmp_path_factory.mktemp("segments") / "ws", DOCS)
    with connect(workspace.store_path) as store:
        version = store.coded_versions(CODER)[-1]
        tags = store.machine_tags(CODER, version)
        dated = {d.id for d in store.current_documents() if d.year is not None}
        segments = [s for s, doc, *_ in store.segment_rows(DEFAULT_SEGMENTER) if doc in dated]
        tagged = [s for s in segments if s in tags]
        untagged = [s for s in segments if s not in tags]
        picks = {
            "accepted": tagged[0],
            "rejected": tagged[1],
            "relabelled": untagged[0],
            "adjudicated": untagged[1],
        }
        shown = {s: sorted({c for c, _, _ in tags.get(s, [])}) for s in picks.values()}
        decisions = [
            _decision(
                picks["accepted"],
                "amina",
                "accept",
                shown[picks["accepted"]],
                shown[picks["accepted"]],
            ),
            _decision(picks["rejected"], "amina", "reject", [], shown[picks["rejected"]]),
            _decision(picks["relabelled"], "amina", "relabel", ["hedging.china"], []),
            _decision(picks["adjudicated"], "amina", "relabel", ["alignment.aid"], []),
            _decision(picks["adjudicated"], "bilal", "reject", [], []),
            _decision(
                picks["adjudicated"],
                "senior",
                "relabel",
                ["securitization"],
                [],
                role="adjudicator",
            ),
        ]
        from dataclasses import replace

        decisions = [replace(d, codebook_version=version) for d in decisions]
        with store.recorded_run("test", {}) as run:
            store.add_decisions(
                decisions, sha256="f" * 64, path="test", kind="sheet", coder="amina", run_id=run.id
            )
    invoke(workspace, "export", "--boot", "20")
    folder = next((workspace.outputs / "exports").iterdir())
    table = pd.read_csv(folder / "segments.csv", keep_default_na=False)
    tidy = pd.read_csv(folder / "indices_tidy.csv")
    return picks, table, tidy


def test_each_decided_segment_says_who_decided_and_what(
    exported: tuple[dict[str, str], pd.DataFrame, pd.DataFrame],
) -> None:
    picks, table, _ = exported
    rows = {name: table[table["segment_id"] == segment] for name, segment in picks.items()}
    assert set(rows["accepted"]["decided_by"]) == {"coders"}
    assert set(rows["accepted"]["decision"]) == {"accept"}
    assert rows["accepted"]["evidence"].str.len().min() > 0, (
        "accepted machine codes keep their evidence"
    )
    [rejected] = rows["rejected"].to_dict("records")
    assert (rejected["code"], rejected["decision"], rejected["coder"]) == ("", "reject", "amina")
    [relabelled] = rows["relabelled"].to_dict("records")
    assert (relabelled["code"], relabelled["code_path"], relabelled["evidence"]) == (
        "hedging.china",
        "hedging/hedging.china",
        "",
    )
    [adjudicated] = rows["adjudicated"].to_dict("records")
    assert (adjudicated["code"], adjudicated["decided_by"], adjudicated["coder"]) == (
        "securitization",
        "adjudicator",
        "amina;bilal;senior",
    )
    machine = table[~table["segment_id"].isin(list(picks.values()))]
    assert set(machine["decided_by"]) == {"machine"} and set(machine["decision"]) == {""}


def test_the_segment_table_adds_up_to_the_index_counts(
    exported: tuple[dict[str, str], pd.DataFrame, pd.DataFrame],
) -> None:
    _, table, tidy = exported
    dated = table[table["year"] != ""]
    overall = tidy[tidy["breakdown"] == "overall"]
    for top in ("alignment", "securitization", "hedging"):
        coded = dated[dated["code_path"].str.split("/").str[0] == top]
        counts = overall[overall["code"] == top]
        human = coded[coded["decided_by"] != "machine"]
        assert counts["human_segments"].sum() == human["segment_id"].nunique(), top
        assert counts["coded_segments"].sum() == coded["segment_id"].nunique(), top
    assert overall[overall["code"] == "hedging"]["human_segments"].sum() >= 1
