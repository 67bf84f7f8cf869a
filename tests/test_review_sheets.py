"""Review sheets judged per code: what the coder saw, signed sheets, cells that never vanish."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipeline.codebook.load import load_codebook
from pipeline.coding.rules import CODER
from pipeline.core.decisions import final_codes, final_decisions
from pipeline.workspace import Workspace, init_workspace
from tests.conftest import BACKENDS, coded_workspace, on_backend
from tests.test_review import DOCS, export, run

TRACKS = ("alignment", "securitization", "hedging")


@pytest.fixture(params=BACKENDS)
def ws(tmp_path: Path, request: pytest.FixtureRequest) -> Workspace:
    """A coded workspace (rule tags, as the fixture sheets came from), on each backend."""
    coded = coded_workspace(tmp_path / "ws", DOCS, coder="rules.v1")
    return on_backend(coded, request.param, request)


def cells(path: Path, row: int) -> dict[str, object]:
    sheet = load_workbook(path)["review"]
    header = [c.value for c in sheet[1]]
    return {h: sheet.cell(row=row, column=i + 1).value for i, h in enumerate(header)}


def put(path: Path, values: dict[tuple[int, str], object]) -> None:
    book = load_workbook(path)
    sheet = book["review"]
    header = [c.value for c in sheet[1]]
    for (row, column), value in values.items():
        sheet.cell(row=row, column=header.index(column) + 1).value = value
    book.save(path)


def row_with(path: Path, text: str) -> int:
    sheet = load_workbook(path)["review"]
    header = [c.value for c in sheet[1]]
    column = header.index("machine codes") + 1
    for row in range(2, sheet.max_row + 1):
        if text in str(sheet.cell(row=row, column=column).value):
            return row
    raise AssertionError(f"no row with {text}")


def decisions(workspace: Workspace) -> list:
    with workspace.open_store() as store:
        return store.decisions()


def book_of(workspace: Workspace):  # type: ignore[no-untyped-def]
    return load_codebook(workspace.codebook / "codebook.yaml")


def test_accept_means_the_codes_shown_even_after_a_codebook_change(ws: Workspace) -> None:
    sheet = export(ws)
    row = row_with(sheet, "alignment: cooperation")
    shown = cells(sheet, row)
    old_version = book_of(ws).version
    put(sheet, {(row, "decision"): "accept"})
    # The codebook changes before the sheet comes back: the code is renamed and re-coded.
    yaml = ws.codebook / "codebook.yaml"
    yaml.write_text(
        yaml.read_text(encoding="utf-8").replace(
            "- id: alignment.cooperation", "- id: alignment.partnership"
        ),
        encoding="utf-8",
    )
    run(ws, "code")
    assert book_of(ws).version != old_version
    output = run(ws, "review", "import", str(sheet))
    assert "made on codebook" in output and "kept as the coder saw it" in output
    [decision] = decisions(ws)
    assert decision.action == "accept"
    assert decision.codebook_version == old_version
    assert "alignment.cooperation" in decision.codes
    assert decision.codes == decision.machine_codes, shown["machine codes"]


def test_one_code_kept_one_dropped_one_added_without_typing_ids(ws: Workspace) -> None:
    sheet = export(ws, "--size", "12")
    row = row_with(sheet, "alignment: cooperation;")
    before = cells(sheet, row)
    assert before["alignment"] == "cooperation; counterterrorism"  # prefilled by the machine
    put(sheet, {(row, "alignment"): "cooperation", (row, "hedging"): "china"})
    put(sheet, {(row, "decision"): "as marked"})
    assert "recorded 1 decision(s) by amina (coder): as marked 1" in run(
        ws, "review", "import", str(sheet)
    )
    [decision] = decisions(ws)
    assert "alignment.cooperation" in decision.codes
    assert "alignment.counterterrorism" not in decision.codes
    assert "hedging.china" in decision.codes
    assert set(decision.codes) >= {
        c for c in decision.machine_codes if c.startswith("securitization.")
    }
    final = final_codes(decisions(ws), book_of(ws))[decision.segment_id]
    assert {"alignment", "alignment.cooperation", "hedging", "hedging.china"} <= final
    assert "alignment.counterterrorism" not in final


def test_a_sheet_about_one_track_says_nothing_about_the_others(ws: Workspace) -> None:
    from pipeline.learning.store_io import training_data

    sheet = export(ws, "--code", "securitization", "--size", "3")
    header = [c.value for c in load_workbook(sheet)["review"][1]]
    assert "securitization" in header and "alignment" not in header and "hedging" not in header
    put(sheet, {(2, "decision"): "no code applies"})
    run(ws, "review", "import", str(sheet))
    [decision] = decisions(ws)
    assert decision.scope and all(c.startswith("securitization") for c in decision.scope)
    book = book_of(ws)
    with ws.open_store() as store:
        tags = store.machine_tags(CODER, book.version)[decision.segment_id]
        _, labels, _, _, ids = training_data(store, book)
    machine = {c for c, _, _ in tags} | {t for _, t, _ in tags}
    others = {c for c in machine if not c.startswith("securitization")}
    final = final_decisions(decisions(ws), book)[decision.segment_id]
    assert not any(c.startswith("securitization") for c in final.codes)
    assert others <= final.codes, "codes the coder did not judge were dropped"
    assert final.judged == frozenset(decision.scope)
    assert others <= labels[ids.index(decision.segment_id)]
    # Agreement measures only the judged track on this segment.
    report = run(ws, "agreement", "--boot", "0", "--all-codes")
    lines = {line.split()[0]: line.split() for line in report.splitlines() if line.strip()}
    assert lines["alignment"][1] == "0" and lines["securitization"][1] == "1"


def test_blind_sheets_offer_no_code_applies(ws: Workspace) -> None:
    sheet = export(ws, "--blind")
    book = load_workbook(sheet)
    options = [c.value for c in book["lists"]["A"] if c.value]
    assert options == ["as marked", "no code applies"]
    assert "'no code applies' records that none" in str(book["how to fill in"]["A4"].value)
    assert all(cells(sheet, 2)[t] is None for t in TRACKS)
    put(sheet, {(2, "decision"): "no code applies", (3, "decision"): "as marked"})
    put(sheet, {(3, "hedging"): "china; gulf"})
    run(ws, "review", "import", str(sheet))
    first, second = decisions(ws)
    assert (first.action, first.codes, first.machine_codes) == ("reject", [], [])
    assert second.codes == ["hedging.china", "hedging.gulf"]
    assert second.scope and all(c.startswith("hedging") for c in second.scope)


@pytest.mark.parametrize(
    ("sheet_name", "cell", "value", "where"),
    [
        ("about", "B3", "adjudicator", "about!B3: role reads 'adjudicator'"),
        ("about", "B2", "bilal", "about!B2: coder reads 'bilal'"),
        ("about", "B9", "0" * 64, "about!B9: the sheet's signature does not match"),
        ("about", "B6", "yes", "about!B6: blind reads 'yes'"),
    ],
)
def test_a_sheet_whose_identity_was_edited_is_refused(
    ws: Workspace, sheet_name: str, cell: str, value: str, where: str
) -> None:
    sheet = export(ws)
    put(sheet, {(2, "decision"): "accept"})
    book = load_workbook(sheet)
    book[sheet_name][cell] = value
    book.save(sheet)
    output = run(ws, "review", "import", str(sheet), code=8)
    assert where in output and "nothing was applied" in output
    assert decisions(ws) == []


def test_edited_hidden_column_is_refused_and_the_role_comes_from_the_store(
    ws: Workspace,
) -> None:
    sheet = export(ws)
    put(sheet, {(2, "decision"): "accept", (3, "decision"): "accept"})
    put(sheet, {(3, "text_sha1"): "0123456789abcdef"})
    output = run(ws, "review", "import", str(sheet), code=8)
    header = [c.value for c in load_workbook(sheet)["review"][1]]
    letter = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[header.index("text_sha1")]
    assert f"review!{letter}3: the hidden text hash was edited" in output
    put(sheet, {(3, "text_sha1"): cells(sheet, 2)["text_sha1"]})  # still wrong for row 3
    run(ws, "review", "import", str(sheet), code=8)
    with ws.open_store() as store, store.transaction() as db:
        db.execute("UPDATE review_exports SET role = 'adjudicator'")
    fresh = export(ws)
    put(fresh, {(2, "decision"): "accept"})
    run(ws, "review", "import", str(fresh))
    assert [d.role for d in decisions(ws)] == ["coder"]  # the fresh export's record says coder


def test_a_formula_in_any_cell_is_reported_and_nothing_applied(ws: Workspace) -> None:
    sheet = export(ws)
    put(sheet, {(2, "decision"): "accept", (3, "decision"): "accept"})
    put(sheet, {(3, "note"): '=HYPERLINK("http://x")', (4, "before"): "=1+1"})
    output = run(ws, "review", "import", str(sheet), code=8)
    header = [c.value for c in load_workbook(sheet)["review"][1]]
    note = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[header.index("note")]
    assert f"review!{note}3: a formula (=HYPERLINK" in output
    assert "review!D4: a formula (=1+1)" in output
    assert decisions(ws) == []


def test_a_note_is_kept_in_full_or_refused_with_its_length(ws: Workspace) -> None:
    sheet = export(ws)
    note = "'=+-@ starts like a formula. " + "A long remark. " * 2000
    book = load_workbook(sheet)
    header = [c.value for c in book["review"][1]]
    cell = book["review"].cell(row=2, column=header.index("note") + 1)
    cell.value, cell.data_type = note, "s"
    book["review"].cell(row=2, column=header.index("decision") + 1).value = "accept"
    book.save(sheet)
    run(ws, "review", "import", str(sheet))
    [decision] = decisions(ws)
    assert decision.note == note
    again = export(ws)
    book = load_workbook(again)
    cell = book["review"].cell(row=2, column=header.index("note") + 1)
    # openpyxl cuts text at a cell's limit on assignment; another program may not.
    cell._value, cell.data_type = "x" * 40_000, "s"
    book["review"].cell(row=2, column=header.index("decision") + 1).value = "accept"
    book.save(again)
    output = run(ws, "review", "import", str(again), code=8)
    assert "the note is 40,000 characters long, more than a cell holds" in output
    assert decisions(ws) == [decision]


def test_a_byte_different_resave_records_nothing_again(ws: Workspace) -> None:
    sheet = export(ws)
    put(sheet, {(2, "decision"): "accept", (3, "decision"): "no code applies"})
    run(ws, "review", "import", str(sheet))
    book = load_workbook(sheet)
    book["review"].column_dimensions["B"].width = 40  # a re-save with different bytes
    book.save(sheet)
    output = run(ws, "review", "import", str(sheet))
    assert "recorded 0 decision(s)" in output and "2 row(s) already recorded" in output
    put(sheet, {(3, "decision"): "accept", (4, "decision"): "accept"})
    dry = run(ws, "review", "import", "--dry-run", str(sheet))
    assert "would record 2 decision(s) by amina (coder): accept 2" in dry
    assert len(decisions(ws)) == 2
    assert "recorded 2 decision(s)" in run(ws, "review", "import", str(sheet))
    assert len(decisions(ws)) == 4


def test_a_sheet_of_an_unrecorded_export_is_refused(ws: Workspace) -> None:
    sheet = export(ws)
    put(sheet, {(2, "decision"): "accept"})
    book = load_workbook(sheet)
    book["about"]["B4"] = "adjudicate"  # what older adjudication sheets said
    book.save(sheet)
    output = run(ws, "review", "import", str(sheet), code=8)
    assert "about!B4: no export 'adjudicate' was made from this workspace" in output


def test_adjudication_shows_coders_side_by_side_and_settles_the_list(ws: Workspace) -> None:
    output = run(
        ws,
        "review",
        "assign",
        "--coders",
        "amina,bilal",
        "--size",
        "3",
        "--overlap",
        "1.0",
        "--strategy",
        "all-coded",
    )
    first, second = (Path(p) for p in output.strip().splitlines()[:2])
    for path, hedging in ((first, "china"), (second, "no")):
        for row in (2, 3):
            put(path, {(row, "decision"): "as marked", (row, "hedging"): hedging})
            put(path, {(row, "alignment"): "no", (row, "securitization"): "no"})
        run(ws, "review", "import", str(path))
    assert "2 segment(s) with disagreements" in run(ws, "agreement", "--boot", "0")
    one = Path(run(ws, "review", "adjudicate", "--coder", "senior").splitlines()[0])
    two = Path(run(ws, "review", "adjudicate", "--coder", "senior").splitlines()[0])
    assert one != two and one.exists() and two.exists()
    header = [c.value for c in load_workbook(one)["review"][1]]
    assert {"coded by amina", "coded by bilal", "machine codes"} <= set(header)
    row = cells(one, 2)
    assert "hedging: china" in str(row["coded by amina"])
    assert "hedging: no" in str(row["coded by bilal"])
    assert row["hedging"] is None  # the adjudicator marks afresh
    put(one, {(2, "decision"): "as marked", (2, "hedging"): "china"})
    put(one, {(2, "alignment"): "no", (2, "securitization"): "no"})
    assert "by senior (adjudicator)" in run(ws, "review", "import", str(one))
    assert "1 segment(s) with disagreements" in run(ws, "agreement", "--boot", "0")
    three = Path(run(ws, "review", "adjudicate", "--coder", "senior").splitlines()[0])
    assert load_workbook(three)["review"].max_row == 2  # only the unresolved one
    put(three, {(2, "decision"): "no code applies"})
    run(ws, "review", "import", str(three))
    assert "disagreements" not in run(ws, "agreement", "--boot", "0")
    assert "no disagreements left" in run(ws, "review", "adjudicate", "--coder", "senior")
    final = final_decisions(decisions(ws), book_of(ws))
    assert {f.decided_by for f in final.values()} == {"adjudicator"}


TRICKY = (
    "'Tis the season, the Foreign Office said of its talks with China on connectivity.",
    "=SUM(A1) is not a formula but text about Pakistan and China.",
    "+92 is the dialling code of Pakistan, the spokesperson said.",
    "-5 degrees did not stop the talks with the United States on counter-terrorism.",
    "@MOFA posted that Pakistan and China signed a corridor agreement.",
)


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.parametrize("through", ["openpyxl", "libreoffice"])
def test_text_starting_like_a_formula_round_trips_untouched(tmp_path: Path, through: str) -> None:
    if through == "libreoffice" and soffice() is None:
        pytest.skip("LibreOffice is not installed")
    workspace = init_workspace(tmp_path / "ws")
    drop = workspace.root / "drop"
    drop.mkdir()
    (drop / "2020-01-01_press-release_tricky.txt").write_text(
        "\n\n".join(TRICKY) + "\n", encoding="utf-8"
    )
    run(workspace, "ingest", str(drop), "--jobs", "1")
    run(workspace, "code")
    sheet = Path(
        run(
            workspace,
            "review",
            "export",
            "--coder",
            "amina",
            "--size",
            "20",
            "--strategy",
            "random",
            "--blind",
        ).splitlines()[0]
    )
    rows = load_workbook(sheet)["review"]
    texts = [rows.cell(row=r, column=5).value for r in range(2, rows.max_row + 1)]
    assert sorted(texts) == sorted(TRICKY)
    put(sheet, {(r, "decision"): "no code applies" for r in range(2, len(TRICKY) + 2)})
    if through == "libreoffice":
        out = tmp_path / "resaved"
        subprocess.run(
            [soffice(), "--headless", "--convert-to", "xlsx", "--outdir", str(out), str(sheet)],
            check=True,
            capture_output=True,
            timeout=180,
        )
        sheet = out / sheet.name
        again = load_workbook(sheet)["review"]
        assert sorted(again.cell(row=r, column=5).value for r in range(2, 7)) == sorted(TRICKY)
    output = run(workspace, "review", "import", str(sheet))
    assert f"recorded {len(TRICKY)} decision(s)" in output, output


def test_a_sheet_made_before_signing_is_imported_as_the_coder_saw_it(ws: Workspace) -> None:
    import json

    from tests.conftest import ROOT

    sheet = ws.root / "legacy-review-amina.xlsx"
    shutil.copy(ROOT / "tests" / "fixtures" / "sheets" / sheet.name, sheet)
    book = load_workbook(sheet)
    about, rows = book["about"], book["review"]
    header = [c.value for c in rows[1]]
    assert "codes" in header and about["A4"].value == "export_id"
    ids = [rows.cell(row=r, column=1).value for r in range(2, rows.max_row + 1)]
    with ws.open_store() as store:
        about["B1"] = store.workspace_id()
    about["B3"] = "adjudicator"  # a role in the file is never believed
    for row, action, codes in (
        (2, "accept", None),
        (3, "relabel", "hedging.china"),
        (4, "reject", None),
    ):
        rows.cell(row=row, column=header.index("decision") + 1).value = action
        rows.cell(row=row, column=header.index("codes") + 1).value = codes
    book.save(sheet)
    with (
        ws.open_store() as store,
        store.transaction() as db,
    ):  # what older dshift recorded for the export
        db.execute(
            "INSERT INTO review_exports (id, coder, path, strategy, blind, segments, created_at) "
            "VALUES (?, 'amina', ?, 'all-coded', 0, ?, '2026-11-01T00:00:00Z')",
            (about["B4"].value, str(sheet), json.dumps(ids)),
        )
    output = run(ws, "review", "import", str(sheet))
    assert "recorded 3 decision(s) by amina (coder)" in output
    accepted, relabelled, rejected = decisions(ws)
    book_now = book_of(ws)
    with ws.open_store() as store:
        tags = store.machine_tags(CODER, book_now.version)[ids[0]]
    assert accepted.codes == sorted({c for c, _, _ in tags}) and accepted.codes
    assert relabelled.codes == ["hedging.china"] and rejected.codes == []
    assert {d.role for d in decisions(ws)} == {"coder"}
    assert all(d.scope is None for d in decisions(ws))  # they judged every code


def test_agreement_and_final_codes_count_only_the_codes_each_coder_judged() -> None:
    from pipeline.core.agreement import between_coders, disagreements
    from pipeline.store.review import DecisionRow
    from tests.conftest import ROOT

    book = load_codebook(ROOT / "codebook" / "codebook.yaml")
    hedging = [c for c in book.codes if c.startswith("hedging")]

    def event(i: int, segment: str, coder: str, codes: list[str], scope: list[str] | None,
              role: str = "coder") -> DecisionRow:  # fmt: skip
        return DecisionRow(
            i, segment, coder, role, "relabel", codes, ["alignment.aid"], "", "cb", "t", "t",
            scope=scope,
        )  # fmt: skip

    events = [
        event(1, "s1", "a", ["hedging.china"], hedging),  # judged only hedging
        event(2, "s1", "b", ["hedging.china", "alignment.cooperation"], None),
        event(3, "s2", "a", [], hedging),
        event(4, "s2", "b", ["hedging.gulf"], None),
    ]
    coders, _ = between_coders(events, book, ["alignment", "hedging"], n_boot=0)
    units = coders.set_index("code")["units"]
    assert units["hedging"] == 2 and units["alignment"] == 0  # a never judged alignment
    assert disagreements(events, book) == ["s2"]  # alignment on s1 is no disagreement
    final = final_decisions(events, book)
    assert final["s1"].codes == {"hedging", "hedging.china", "alignment", "alignment.cooperation"}
    later = [*events, event(5, "s1", "a", [], ["alignment", "alignment.cooperation"])]
    # a's later sheet about alignment leaves a's hedging judgement standing.
    assert "hedging.china" in final_decisions(later, book)["s1"].codes
    settled = [*events, event(6, "s2", "senior", ["hedging.gulf"], hedging, "adjudicator")]
    assert disagreements(settled, book) == []
    assert final_decisions(settled, book)["s2"].decided_by == "adjudicator"


def test_a_note_that_fills_a_cell_exactly_is_kept(ws: Workspace) -> None:
    sheet = export(ws)
    put(sheet, {(2, "decision"): "accept", (2, "note"): "y" * 32_767})
    run(ws, "review", "import", str(sheet))
    [decision] = decisions(ws)
    assert len(decision.note) == 32_767


def _rewrite_sheet(path: Path, change: Callable[[str], str]) -> Path:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = change(data.decode()).encode()
            target.writestr(info, data)
    bad = path.with_name("bad.xlsx")
    bad.write_bytes(out.getvalue())
    return bad


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda x: x[: len(x) // 2], "the workbook is damaged (ParseError"),
        (lambda x: x.replace('r="A2"', 'r="ZZZZZ2"', 1), "the workbook is damaged (ValueError"),
        (lambda x: x.replace('<row r="2"', '<row r="x"', 1), "the workbook is damaged"),
    ],
)
def test_a_damaged_sheet_is_a_problem_not_a_bug(
    ws: Workspace, change: Callable[[str], str], says: str
) -> None:
    bad = _rewrite_sheet(export(ws), change)
    output = run(ws, "review", "import", str(bad), code=8)
    assert says in output and "bad.xlsx: (file)" in output
    assert decisions(ws) == []


def test_a_sheet_declaring_a_huge_size_costs_nothing(ws: Workspace) -> None:
    """openpyxl pads every row to the declared dimension: a 13 KB file took minutes to read."""
    import re
    import time

    def huge(xml: str) -> str:
        xml = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1000000"/>', xml)
        cell = '<row r="1000000"><c r="A1000000" t="inlineStr"><is><t>x</t></is></c></row>'
        return xml.replace("</sheetData>", cell + "</sheetData>")

    bad = _rewrite_sheet(export(ws), huge)
    started = time.perf_counter()
    output = run(ws, "review", "import", str(bad), code=8)
    assert time.perf_counter() - started < 60, "a generous ceiling against the old minutes"
    assert "the sheet 'review' has more than 20,000 rows" in output and decisions(ws) == []


def test_accept_on_an_adjudication_sheet_never_drops_the_codes_marked(ws: Workspace) -> None:
    output = run(
        ws, "review", "assign", "--coders", "amina,bilal", "--size", "2", "--overlap", "1.0",
        "--strategy", "all-coded",
    )  # fmt: skip
    for path, hedging in zip((Path(p) for p in output.strip().splitlines()[:2]), ("china", "no")):
        put(path, {(2, "decision"): "as marked", (2, "hedging"): hedging})
        put(path, {(2, "alignment"): "no", (2, "securitization"): "no"})
        run(ws, "review", "import", str(path))
    sheet = Path(run(ws, "review", "adjudicate", "--coder", "senior").splitlines()[0])
    put(sheet, {(2, "decision"): "accept", (2, "hedging"): "china", (2, "note"): "China"})
    before = len(decisions(ws))
    output = run(ws, "review", "import", str(sheet), code=8)
    assert "'accept' keeps the machine's codes, but the track columns were changed" in output
    assert len(decisions(ws)) == before


def test_a_resaved_sheet_made_before_signing_records_only_what_changed(ws: Workspace) -> None:
    """Decisions older dshift recorded from it carry no export id, only the file's name."""
    import json

    from tests.conftest import ROOT

    book = load_workbook(ROOT / "tests" / "fixtures" / "sheets" / "legacy-review-amina.xlsx")
    about, rows = book["about"], book["review"]
    export_id = about["B4"].value
    sheet = ws.root / f"review-amina-{export_id}.xlsx"
    header = [c.value for c in rows[1]]
    ids = [rows.cell(row=r, column=1).value for r in range(2, rows.max_row + 1)]
    with ws.open_store() as store:
        about["B1"] = store.workspace_id()
        version = about["B5"].value
    for row, note in ((2, "first"), (3, "second")):
        rows.cell(row=row, column=header.index("decision") + 1).value = "reject"
        rows.cell(row=row, column=header.index("note") + 1).value = note
    book.save(sheet)
    with (
        ws.open_store() as store,
        store.transaction() as db,
    ):  # what older dshift recorded from that sheet
        db.execute(
            "INSERT INTO review_exports (id, coder, path, strategy, blind, segments, created_at) "
            "VALUES (?, 'amina', ?, 'all-coded', 0, ?, '2026-11-01T00:00:00Z')",
            (export_id, str(sheet), json.dumps(ids)),
        )
        for row, note in ((2, "first"), (3, "second")):
            db.execute(
                "INSERT INTO decisions (segment_id, coder, role, action, codes, machine_codes, "
                "note, codebook_version, source, created_at) VALUES (?, 'amina', 'coder', "
                "'reject', '[]', '[]', ?, ?, ?, '2026-11-02T00:00:00Z')",
                (ids[row - 2], note, version, f"{sheet.name} row {row}"),
            )
    rows.cell(row=3, column=header.index("note") + 1).value = "second, on reflection"
    book.save(sheet)  # the coder edits one note and saves again: other bytes, one change
    output = run(ws, "review", "import", str(sheet))
    assert "recorded 1 decision(s) by amina (coder)" in output, output
    assert [d.note for d in decisions(ws)] == ["first", "second", "second, on reflection"]
