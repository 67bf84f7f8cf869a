"""Review: sheets out and back, append-only decisions, final codes in the indices, agreement."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from pipeline.cli import cli
from pipeline.core.agreement import alpha, between_coders
from pipeline.core.decisions import current
from pipeline.registry import DEFAULT_CODER
from pipeline.store.review import DecisionRow
from pipeline.workspace import Workspace
from tests.conftest import SHARED, coded_workspace

DOCS = [
    "2006-03-04_joint-statement_us.pdf",
    "2015-04-20_treaty_pak-china-joint-statement.pdf",
    "ispr_pr_447.pdf",
    "2014-06-15_ispr_zarb-e-azb.pdf",
]


def test_alpha_matches_krippendorffs_published_example() -> None:
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", nominal data example.
    nan = np.nan
    data = np.array(
        [
            [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
            [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
        ]
    )
    assert alpha(data) == pytest.approx(0.743, abs=0.001)


def event(
    i: int, segment: str, coder: str, action: str, codes: list[str], role: str = "coder"
) -> DecisionRow:
    return DecisionRow(i, segment, coder, role, action, codes, [], "", "cb", "test", "t")


def test_undo_takes_back_the_previous_decision() -> None:
    events = [
        event(1, "s1", "a", "relabel", ["hedging"]),
        event(2, "s1", "a", "reject", []),
        event(3, "s1", "a", "undo", []),
    ]
    assert current(events)[("s1", "a")].codes == ["hedging"]


@pytest.fixture()
def workspace(tmp_path: Path) -> Workspace:
    return coded_workspace(tmp_path / "ws", DOCS)


def run(workspace: Workspace, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, ["--workspace", str(workspace.root), *args])
    assert result.exit_code == code, result.output
    return result.output


def fill(
    path: Path,
    decisions: dict[int, tuple[str, str]],
    edit: dict[tuple[int, str], str] | None = None,
) -> None:
    """Fill rows as a coder would: ``codes`` (dotted ids, for relabel) go into the track
    columns by their short names; every other track is marked 'no'."""
    book = load_workbook(path)
    sheet = book["review"]
    header = [c.value for c in sheet[1]]
    tracks = [t for t in ("alignment", "securitization", "hedging") if t in header]
    for row, (action, codes) in decisions.items():
        sheet.cell(row=row, column=header.index("decision") + 1).value = action
        if action != "relabel":
            continue
        wanted = [c.strip() for c in codes.split(";") if c.strip()]
        for track in tracks:
            mine = [
                c.split(".", 1)[1] if "." in c else "yes"
                for c in wanted
                if c.split(".")[0] == track
            ]
            value = "; ".join(mine) or "no"
            sheet.cell(row=row, column=header.index(track) + 1).value = value
    for (row, column), value in (edit or {}).items():
        sheet.cell(row=row, column=header.index(column) + 1).value = value
    book.save(path)


def export(workspace: Workspace, *extra: str) -> Path:
    output = run(
        workspace,
        "review",
        "export",
        "--coder",
        "amina",
        "--size",
        "6",
        "--strategy",
        "all-coded",
        *extra,
    )
    return Path(output.strip().splitlines()[0])


def test_sheet_round_trip_reaches_the_indices(workspace: Workspace) -> None:
    sheet = export(workspace)
    book = load_workbook(sheet)
    assert {"review", "codebook", "about"} <= set(book.sheetnames)
    fill(
        sheet,
        {2: ("reject", ""), 3: ("relabel", "hedging.china; alignment.aid"), 4: ("accept", "")},
    )
    assert "recorded 3 decision(s) by amina" in run(workspace, "review", "import", str(sheet))
    assert "nothing changed" in run(workspace, "review", "import", str(sheet))
    export_dir = workspace.outputs / "exports"
    run(workspace, "export", "--boot", "50")
    import pandas as pd

    tidy = pd.read_csv(next(export_dir.iterdir()) / "indices_tidy.csv")
    assert tidy["human_segments"].sum() > 0
    again = export(workspace)
    decided = {load_workbook(sheet)["review"].cell(row=r, column=1).value for r in (2, 3, 4)}
    offered = {c.value for c in load_workbook(again)["review"]["A"][1:]}
    assert not decided & offered, "segments already decided were sent again"


def test_every_bad_row_is_reported_and_nothing_applied(workspace: Workspace) -> None:
    sheet = export(workspace)
    book = load_workbook(sheet)
    rows = book["review"]
    first_id = rows.cell(row=2, column=1).value
    fill(
        sheet,
        {
            2: ("as marked", ""),
            3: ("relabel", "hedging.chna"),
            4: ("maybe", ""),
            5: ("accept", ""),
            6: ("accept", ""),
        },
        edit={
            **{(2, t): None for t in ("alignment", "securitization", "hedging")},
            (5, "segment"): "An edited sentence.",
            (6, "segment_id"): first_id,
            (7, "segment_id"): "s000000000000",
        },
    )
    output = run(workspace, "review", "import", str(sheet), code=8)
    assert "'as marked' but no track is marked" in output
    assert "'chna' is not a code of hedging (did you mean 'china'?)" in output
    assert "'maybe' is not a decision" in output
    assert "text was edited" in output
    assert "is also on row 2" in output
    assert "segment 's000000000000' was not on this sheet" in output
    assert "nothing was applied" in output
    with sqlite3.connect(workspace.store_path) as db:
        assert db.execute("SELECT COUNT(*) FROM decisions").fetchone()[0] == 0


def test_missing_coder_and_foreign_workspace_are_refused(
    workspace: Workspace, tmp_path: Path
) -> None:
    sheet = export(workspace)
    book = load_workbook(sheet)
    book["about"]["B2"] = ""
    book.save(sheet)
    output = run(workspace, "review", "import", str(sheet), code=8)
    assert "about!B2: coder reads '', but export" in output
    book["about"]["B1"] = "0000000000000000"
    book.save(sheet)
    assert "another workspace" in run(workspace, "review", "import", str(sheet), code=8)


def test_decisions_are_append_only(workspace: Workspace) -> None:
    sheet = export(workspace)
    fill(sheet, {2: ("reject", "")})
    run(workspace, "review", "import", str(sheet))
    with sqlite3.connect(workspace.store_path) as db, pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE decisions SET action = 'accept'")
    with sqlite3.connect(workspace.store_path) as db, pytest.raises(sqlite3.IntegrityError):
        db.execute("DELETE FROM decisions")


def test_agreement_before_and_after_double_coding(workspace: Workspace) -> None:
    assert "No coder has decided any segment yet" in run(workspace, "agreement")
    output = run(
        workspace,
        "review",
        "assign",
        "--coders",
        "amina,bilal",
        "--size",
        "4",
        "--overlap",
        "1.0",
        "--strategy",
        "all-coded",
    )
    first, second = (Path(p) for p in output.strip().splitlines()[:2])
    fill(
        first,
        {
            2: ("relabel", "hedging"),
            3: ("relabel", "securitization"),
            4: ("reject", ""),
            5: ("relabel", "hedging"),
        },
    )
    fill(
        second,
        {
            2: ("relabel", "hedging"),
            3: ("reject", ""),
            4: ("reject", ""),
            5: ("relabel", "hedging"),
        },
    )
    run(workspace, "review", "import", str(first))
    run(workspace, "review", "import", str(second))
    report = run(workspace, "agreement", "--boot", "50")
    assert "between coders" in report and "Cohen's kappa" in report
    assert "1 segment(s) with disagreements" in report
    from pipeline.codebook.load import load_codebook

    book = load_codebook(workspace.codebook / "codebook.yaml")
    with workspace.open_store() as store:
        coders, _ = between_coders(store.decisions(), book, ["hedging", "securitization"], n_boot=0)
    assert coders.set_index("code").loc["hedging", "alpha"] == pytest.approx(1.0)
    assert "adjudicate-senior-" in run(workspace, "review", "adjudicate", "--coder", "senior")


def test_refi_round_trip_turns_another_users_codings_into_decisions(workspace: Workspace) -> None:
    from lxml import etree

    from pipeline.codebook.load import load_codebook
    from pipeline.coding.nlp import DEFAULT_SEGMENTER
    from pipeline.refi.read import read_project
    from pipeline.refi.write import RefiCoding, RefiSource, project_qdpx, source_guid

    run(workspace, "export", "--boot", "20", "--refi")
    folder = next((workspace.outputs / "exports").iterdir())
    exported = (folder / "project.qdpx").read_bytes()
    shared = SHARED / "refi"
    if shared.is_dir():  # the schema check is also in test_refi; here on our own export
        import io
        import zipfile

        schema = etree.XMLSchema(etree.parse(str(shared / "Project-mrt2019.xsd")))
        qde = zipfile.ZipFile(io.BytesIO(exported)).read("project.qde")
        schema.assertValid(etree.fromstring(qde))
    project = read_project(exported)
    assert DEFAULT_CODER in project.users.values()
    book = load_codebook(workspace.codebook / "codebook.yaml")
    with workspace.open_store() as store:
        documents = store.current_documents()
        segment_id, doc_id, start, end, _ = store.segment_rows(DEFAULT_SEGMENTER)[3]
        sources = [
            RefiSource(source_guid(d.sha256), d.name, store.document_text(d.id), {})
            for d in documents
        ]
        sha = next(d.sha256 for d in documents if d.id == doc_id)
    returned = workspace.root / "returned.qdpx"
    returned.write_bytes(
        project_qdpx(
            name="back",
            codebook=book,
            sources=sources,
            codings=[RefiCoding("chen", source_guid(sha), start, end, "hedging.china")],
            users=["chen"],
            created="2026-11-29T12:00:00Z",
        )
    )
    output = run(workspace, "review", "import", str(returned))
    assert "chen (new to the file): records 1 decision(s) (1 relabel)" in output
    assert "nothing changed" in run(workspace, "review", "import", str(returned))
    with workspace.open_store() as store:
        [decision] = store.decisions()
    assert (decision.segment_id, decision.coder, decision.codes) == (
        segment_id,
        "chen",
        ["hedging.china"],
    )
    proposals = run(workspace, "codebook", "import", str(folder / "codebook.qdc"))
    assert "no difference" in proposals


def test_accept_is_refused_on_a_blind_sheet(workspace: Workspace) -> None:
    sheet = export(workspace, "--blind")
    machine = load_workbook(sheet)["review"]
    header = [c.value for c in machine[1]]
    assert "machine codes" not in header and "evidence" not in header
    fill(sheet, {2: ("accept", "")})
    assert "not available on a blind sheet" in run(
        workspace, "review", "import", str(sheet), code=8
    )


def test_final_codes_follow_the_adjudicator_else_the_majority() -> None:
    from pipeline.codebook.load import load_codebook
    from pipeline.core.decisions import final_codes
    from tests.conftest import ROOT

    book = load_codebook(ROOT / "codebook" / "codebook.yaml")
    events = [
        event(1, "s1", "a", "relabel", ["hedging.china"]),
        event(2, "s1", "b", "relabel", ["hedging.china", "alignment.aid"]),
        event(3, "s1", "c", "reject", []),
        event(4, "s2", "a", "relabel", ["hedging"]),
        event(5, "s2", "b", "reject", []),
    ]
    final = final_codes(events, book)
    assert final["s1"] == {"hedging", "hedging.china"}  # 2 of 3; alignment only 1 of 3
    assert final["s2"] == set()  # a tie: the latest (b's reject) settles it
    judged = final_codes(
        [*events, event(6, "s2", "senior", "relabel", ["hedging"], role="adjudicator")], book
    )
    assert judged["s2"] == {"hedging"}
