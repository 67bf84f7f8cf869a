"""A real round trip: our export, coded by two coders in QualCoder, exported by it, read back.

The fixture (tests/fixtures/refi/qualcoder-two-coders.qdpx, made as its README says) came from
the export of the workspace that :func:`build` makes, the same way every time; QualCoder gave
every source, code and user a new GUID and wrote the renamed PDF as a <PDFSource>.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from pipeline.cli import cli
from pipeline.codebook.load import load_codebook
from pipeline.codebook.model import Codebook
from pipeline.coding.nlp import DEFAULT_SEGMENTER
from pipeline.coding.rules import CODER
from pipeline.refi.read import RefiError, read_project
from pipeline.review.refi_io import export_refi, import_refi
from pipeline.store.review import DecisionRow, NewDecision
from pipeline.workspace import Workspace, find_workspace, init_workspace
from tests.conftest import BACKENDS, ROOT, SAMPLE, SHARED, needs_shared, on_backend

FIXTURES = ROOT / "tests" / "fixtures" / "refi"
QUALCODER = FIXTURES / "qualcoder-two-coders.qdpx"

# (segment, coder, action, codes, note) of every decision the fixture holds, as the README says.
EXPECTED = [
    ("s00af088e74f1", "amina", "relabel", ["securitization.defence_cooperation"], ""),
    ("s01c7c978f681", "chen", "accept", ["securitization", "securitization.terrorism"], ""),
    ("s12b94ad8d10d", "chen", "accept", ["hedging.china"], ""),
    ("s1d4d13252c37", "amina", "reject", [], ""),
    ("s31af84932ee7", "amina", "reject", [], ""),
    (
        "s337fc4d2186d",
        "amina",
        "relabel",
        ["securitization.operations"],
        "a condemnation more than an operation",
    ),
    ("sa902e7bab013", "chen", "reject", [], "a funeral notice"),
    ("sab7822520d5f", "chen", "relabel", ["alignment.cooperation"], ""),
    ("sc7ce99443142", "chen", "relabel", ["alignment.aid"], "the aid, not the cooperation"),
]


SEC, ALI = "securitization", "alignment"
SCOPES = {
    ("s00af088e74f1", "amina"): [SEC, f"{SEC}.defence_cooperation", f"{SEC}.terrorism"],
    ("s01c7c978f681", "chen"): [SEC, f"{SEC}.terrorism"],
    ("s12b94ad8d10d", "chen"): ["hedging", "hedging.china"],
    ("s1d4d13252c37", "amina"): None,
    ("s31af84932ee7", "amina"): [ALI, f"{ALI}.cooperation"],
    ("s337fc4d2186d", "amina"): [SEC, f"{SEC}.operations"],
    ("sa902e7bab013", "chen"): None,
    ("sab7822520d5f", "chen"): [ALI, f"{ALI}.cooperation"],
    ("sc7ce99443142", "chen"): [ALI, f"{ALI}.aid"],
}


# --- the workspace the fixture was made from -------------------------------------------------

DOCS = [
    "2006-03-04_joint-statement_us.pdf",
    "2015-04-20_treaty_pak-china-joint-statement.pdf",
    "ispr_salala.txt",
    "visa-and-consular-services.html",
]
"""Three kinds of file; the .pdf one is renamed back to .pdf in QualCoder (see the README)."""


def cli_run(workspace: Workspace, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--workspace", str(workspace.root), *args])
    assert result.exit_code == 0, result.output
    return result.output


def amina_decisions(workspace: Workspace) -> list[NewDecision]:
    """Amina's decisions before the export: on the first four machine-coded segments of each
    document, an accept, a relabel to the first other code, a reject with a note, an accept."""
    book = load_codebook(workspace.codebook / "codebook.yaml")
    with workspace.open_store() as store:
        tags = store.machine_tags(CODER, book.version)
        rows = store.segment_rows(DEFAULT_SEGMENTER)
    by_document: dict[int, list[str]] = {}
    for segment_id, doc_id, _, _, _ in rows:
        if segment_id in tags:
            by_document.setdefault(doc_id, []).append(segment_id)
    others = sorted(book.codes)
    decisions = []
    for doc_id in sorted(by_document):
        for index, segment_id in enumerate(by_document[doc_id][:4]):
            machine = sorted({c for c, _, _ in tags[segment_id]})
            if index == 1:
                codes = [next(c for c in others if c not in machine)]
                action, note = "relabel", ""
            elif index == 2:
                codes, action, note = [], "reject", "not about alignment: a list of names"
            else:
                codes, action, note = machine, "accept", ""
            decisions.append(
                NewDecision(
                    segment_id=segment_id,
                    coder="amina",
                    role="coder",
                    action=action,
                    codes=codes,
                    machine_codes=machine,
                    note=note,
                    codebook_version=book.version,
                    source="refi fixture workspace",
                )
            )
    return decisions


def build(root: Path) -> Workspace:
    """Ingest DOCS, code them with the rules, and record Amina's decisions."""
    workspace = init_workspace(root)
    drop = workspace.root / "drop"
    drop.mkdir()
    for name in DOCS:
        shutil.copy(SAMPLE / name, drop / name)
    cli_run(workspace, "ingest", str(drop), "--jobs", "1")
    # The fixture was made from rule tags: code with the rules and read theirs.
    cli_run(workspace, "code", "--coder", "rules.v1")
    cli_run(workspace, "coder", "use", "rules.v1")
    with workspace.open_store() as store:
        run_id = store.start_run("refi fixture", {})
        store.add_decisions(
            amina_decisions(workspace),
            sha256="0" * 64,
            path="amina.xlsx",
            kind="sheet",
            coder="amina",
            run_id=run_id,
        )
        store.finish_run(run_id, "completed", {})
    return workspace


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("refi") / "ws").root


@pytest.fixture(params=BACKENDS)
def workspace(built: Path, tmp_path: Path, request: pytest.FixtureRequest) -> Workspace:
    """A copy of the built workspace, its store on each backend."""
    shutil.copytree(built, tmp_path / "ws")
    return on_backend(find_workspace(str(tmp_path / "ws")), request.param, request)


def codebook(workspace: Workspace) -> Codebook:
    return load_codebook(workspace.codebook / "codebook.yaml")


def recorded(events: list[DecisionRow]) -> list[tuple[str, str, str, list[str], str]]:
    return sorted((e.segment_id, e.coder, e.action, e.codes, e.note) for e in events)


def test_the_workspace_is_the_one_the_fixture_came_from(workspace: Workspace) -> None:
    project = read_project(QUALCODER.read_bytes())
    with workspace.open_store() as store:
        texts = sorted(store.document_text(d.id) for d in store.current_documents())
        assert len(store.decisions()) == 12
    assert sorted(s.text for s in project.sources.values()) == texts
    kinds = etree.fromstring(zipfile.ZipFile(QUALCODER).read("project.qde"))
    assert [e.get("name") for e in kinds.iter("{*}PDFSource")] == [
        "2006-03-04_joint-statement_us.pdf"
    ]
    assert "origin" in kinds.attrib and kinds.get("origin").startswith("QualCoder")


def test_a_dry_run_says_per_coder_what_would_be_recorded_and_records_nothing(
    workspace: Workspace,
) -> None:
    with workspace.open_store() as store:
        result = import_refi(store, codebook(workspace), QUALCODER, dry_run=True)
        assert len(store.decisions()) == 12
        assert store.review_file(_sha(QUALCODER)) is None
    assert not result.applied and result.decisions == 0
    planned = sorted((d.segment_id, d.coder, d.action, d.codes, d.note) for d in result.planned)
    assert planned == EXPECTED
    summary = result.summary()
    assert "amina: would record 4 decision(s) (2 reject, 2 relabel)" in summary
    assert (
        "chen (new to the file): would record 5 decision(s) (2 accept, 1 reject, 2 relabel)"
        in summary
    )
    assert (
        "2006-03-04_joint-statement_us.pdf: matched 2006-03-04_joint-statement_us.pdf by "
        "document id" in summary
    )
    # A selection over one segment and a third of the next codes only the first: said so.
    assert result.odd == [
        "chen on 2006-03-04_joint-statement_us.pdf [4955:5300]: also touches 1 segment(s) by "
        "less than half"
    ]
    [problem] = result.problems
    assert (problem.coder, problem.code, problem.count) == ("chen", "Humanitarian relief", 1)
    assert problem.source == "visa-and-consular-services.html.txt"


def test_unplaced_codings_refuse_the_import_until_skipped(workspace: Workspace) -> None:
    book = codebook(workspace)
    with workspace.open_store() as store:
        with pytest.raises(RefiError) as refused:
            import_refi(store, book, QUALCODER)
        assert len(store.decisions()) == 12  # nothing recorded
        assert store.review_file(_sha(QUALCODER)) is None
    message = str(refused.value)
    assert "nothing was recorded: 1 coding(s) could not be placed" in message
    assert "1 coding(s) by chen of 'Humanitarian relief' on visa-and-consular" in message
    assert "--skip-unplaced" in message


def test_the_decisions_of_both_coders_come_back_exactly(workspace: Workspace) -> None:
    book = codebook(workspace)
    with workspace.open_store() as store:
        result = import_refi(store, book, QUALCODER, skip_unplaced=True)
        events = store.decisions()
    assert result.applied and result.decisions == 9
    assert recorded(events[12:]) == EXPECTED
    # Each decision judges what the coder touched there (with parents), or every code where they
    # put "(no code applies)": amina's added operations code says nothing about other tracks.
    assert {(e.segment_id, e.coder): e.scope for e in events[12:]} == SCOPES
    assert {e.source for e in events[12:]} == {"qualcoder-two-coders.qdpx (REFI-QDA)"}
    # The unchanged decisions of amina (her reject with its note among them) are not repeated.
    assert [e.id for e in events if e.segment_id == "s0b6fc9d7e69f"] == [3]

    # Importing the file again, or the same project zipped again, changes nothing.
    with workspace.open_store() as store:
        again = import_refi(store, book, QUALCODER, skip_unplaced=True)
        assert again.already_imported
        copy = workspace.root / "copy.qdpx"
        copy.write_bytes(_rezip(QUALCODER.read_bytes()))
        twice = import_refi(store, book, copy, skip_unplaced=True)
        assert twice.planned == [] and len(store.decisions()) == 21


def test_sources_match_by_name_or_text_when_the_ids_are_lost(workspace: Workspace) -> None:
    """A program that drops descriptions and variables: no removal can be verified any more."""
    files = _entries(QUALCODER.read_bytes())
    root = etree.fromstring(files["project.qde"])
    for element in root.iter("{*}PDFSource", "{*}TextSource"):
        for child in list(element):
            if etree.QName(child).localname in ("Description", "VariableValue"):
                element.remove(child)
        if element.get("name") == "ispr_salala.txt":
            element.set("name", "Salala press release")
    files["project.qde"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    stripped = workspace.root / "stripped.qdpx"
    stripped.write_bytes(_rezip_files(files))
    with workspace.open_store() as store:
        result = import_refi(store, codebook(workspace), stripped, dry_run=True)
    assert "Salala press release: matched ispr_salala.txt by text" in result.summary()
    assert (
        "2006-03-04_joint-statement_us.pdf: matched 2006-03-04_joint-statement_us.pdf by name"
        in result.summary()
    )
    planned = sorted((d.segment_id, d.coder, d.action, d.codes, d.note) for d in result.planned)
    # Amina's removals (s31af84932ee7 and, on the renamed text, s1d4d13252c37's Alignment now
    # replaced by the marker) are no longer verifiable; codings present still count.
    removal = ("s31af84932ee7", "amina", "reject", [], "")
    assert removal not in planned
    assert [p for p in planned if p != removal] == [e for e in EXPECTED if e != removal]
    assert any("do not say whose codings our export held" in line for line in result.not_removed)


@needs_shared
def test_our_export_of_the_fixture_workspace_is_valid_and_names_no_pdf(
    workspace: Workspace,
) -> None:
    with workspace.open_store() as store:
        [project, _] = export_refi(store, codebook(workspace), workspace.root / "out", "x")
    root = etree.fromstring(zipfile.ZipFile(project).read("project.qde"))
    schema = etree.XMLSchema(etree.parse(str(SHARED / "refi" / "Project-mrt2019.xsd")))
    schema.assertValid(root)
    names = [e.get("name") for e in root.iter("{*}TextSource")]
    assert names and all(name.endswith(".txt") for name in names)
    assert "2006-03-04_joint-statement_us.pdf.txt" in names
    dates = [v for e in root.iter() for k, v in e.attrib.items() if k.endswith("DateTime")]
    assert dates and all(d.endswith("Z") for d in dates)
    # Amina's reject travels as the marker code, her note as the selection's description.
    marker = next(c for c in root.iter("{*}Code") if c.get("name") == "(no code applies)")
    notes = [d.text for d in root.iter("{*}Description")]
    assert "not about alignment: a list of names" in notes
    refs = [r.get("targetGUID") for r in root.iter("{*}CodeRef")]
    assert refs.count(marker.get("guid")) == 3


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _rezip_files(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _rezip(data: bytes) -> bytes:
    return _rezip_files(_entries(data))


def test_a_coder_missing_from_the_file_is_not_read_as_removing_everything(
    workspace: Workspace,
) -> None:
    files = _entries(QUALCODER.read_bytes())
    root = etree.fromstring(files["project.qde"])
    amina = next(u.get("guid") for u in root.iter("{*}User") if u.get("name") == "amina")
    for user in [u for u in root.iter("{*}User") if u.get("guid") == amina]:
        user.getparent().remove(user)
    for selection in [s for s in root.iter("{*}PlainTextSelection")]:
        if selection.get("creatingUser") == amina:
            selection.getparent().remove(selection)
    files["project.qde"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    without = workspace.root / "without-amina.qdpx"
    without.write_bytes(_rezip_files(files))
    with workspace.open_store() as store:
        result = import_refi(store, codebook(workspace), without, dry_run=True)
    assert {d.coder for d in result.planned} == {"chen"}
    assert result.not_removed == [
        "amina: in our export but not in the file at all (the program may have left them "
        "out); their decisions stay as they were"
    ]


def test_a_source_whose_text_changed_is_not_matched_by_its_id(workspace: Workspace) -> None:
    files = _entries(QUALCODER.read_bytes())
    root = etree.fromstring(files["project.qde"])
    salala = next(s for s in root.iter("{*}TextSource") if s.get("name") == "ispr_salala.txt")
    entry = "sources/" + salala.get("plainTextPath").removeprefix("internal://")
    files[entry] = files[entry].replace(b"NATO", b"Nato", 1)
    changed = workspace.root / "changed.qdpx"
    changed.write_bytes(_rezip_files(files))
    with workspace.open_store() as store:
        result = import_refi(store, codebook(workspace), changed, dry_run=True)
    reasons = {p.reason for p in result.problems if p.source == "ispr_salala.txt"}
    assert reasons == {
        "matched ispr_salala.txt by document id, but its text differs from that document's, "
        "so its offsets cannot be trusted"
    }
    assert not any(d.segment_id in {"s1d4d13252c37", "sa902e7bab013"} for d in result.planned)


def test_the_cli_shows_per_coder_what_a_project_would_record_and_asks_before_skipping(
    workspace: Workspace,
) -> None:
    from click.testing import CliRunner

    from pipeline.cli import cli

    def review_import(*flags: str) -> tuple[int, str]:
        args = ["--workspace", str(workspace.root), "review", "import", str(QUALCODER), *flags]
        result = CliRunner().invoke(cli, args)
        assert "Traceback" not in result.output
        return result.exit_code, result.output

    def count() -> int:
        with workspace.open_store() as store:
            return len(store.decisions())

    code, output = review_import("--dry-run")
    assert code == 0 and count() == 12
    assert "chen (new to the file): would record 5 decision(s)" in output
    assert "amina: would record 4 decision(s)" in output
    code, output = review_import()
    assert code != 0 and count() == 12
    assert "could not be placed" in output and "--skip-unplaced" in output
    code, output = review_import("--skip-unplaced")
    assert code == 0 and count() == 21
    assert "chen (new to the file): records 5 decision(s)" in output


def _our_export_edited(workspace: Workspace, edit: Callable[[etree._Element, str], None]) -> Path:
    """Our own export of the workspace, with ``edit(root, amina's user guid)`` applied."""
    with workspace.open_store() as store:
        export_refi(store, codebook(workspace), workspace.root / "out", "ws")
    files = _entries((workspace.root / "out" / "project.qdpx").read_bytes())
    root = etree.fromstring(files["project.qde"])
    amina = next(u.get("guid") for u in root.iter("{*}User") if u.get("name") == "amina")
    edit(root, amina)
    files["project.qde"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    path = workspace.root / "edited.qdpx"
    path.write_bytes(_rezip_files(files))
    return path


def _sources_with(root: etree._Element, user: str) -> list[etree._Element]:
    return [
        s
        for s in root.iter("{*}TextSource")
        if any(p.get("creatingUser") == user for p in s.iter("{*}PlainTextSelection"))
    ]


def test_no_coding_of_a_coder_on_a_source_is_not_read_as_removing_theirs_there(
    workspace: Workspace,
) -> None:
    """Another coder's copy, or a source the coder never opened: no 'no' is made up."""

    def drop_amina_on_one_source(root: etree._Element, amina: str) -> None:
        source = _sources_with(root, amina)[0]
        for selection in list(source.iter("{*}PlainTextSelection")):
            if selection.get("creatingUser") == amina:
                selection.getparent().remove(selection)

    path = _our_export_edited(workspace, drop_amina_on_one_source)
    with workspace.open_store() as store:
        result = import_refi(store, codebook(workspace), path)
    assert result.planned == []
    assert any("not read as removals" in line and "amina" in line for line in result.summary())


def test_an_unplaced_coding_is_never_read_as_a_removal(workspace: Workspace) -> None:
    with workspace.open_store() as store:
        texts = {f"{d.name}.txt": store.document_text(d.id) for d in store.current_documents()}

    def move_one_of_aminas_to_blank_space(root: etree._Element, amina: str) -> None:
        source = _sources_with(root, amina)[0]
        blank = texts[source.get("name", "")].index("\n")
        selection = next(
            p for p in source.iter("{*}PlainTextSelection") if p.get("creatingUser") == amina
        )
        selection.set("startPosition", str(blank))
        selection.set("endPosition", str(blank + 1))

    path = _our_export_edited(workspace, move_one_of_aminas_to_blank_space)
    with workspace.open_store() as store:
        result = import_refi(store, codebook(workspace), path, skip_unplaced=True)
        assert result.unplaced == 1
        assert [d for d in result.planned if d.coder == "amina"] == []


def test_a_project_cannot_make_anyone_an_adjudicator(workspace: Workspace) -> None:
    """Only a signed sheet carries the adjudicator's role; a CAQDAS file has no proof of it."""
    with workspace.open_store() as store:
        amina = amina_decisions(workspace)[0]
        judge = NewDecision(
            **{
                **amina.__dict__,
                "coder": "senior",
                "role": "adjudicator",
                "codes": ["hedging.gulf"],
                "source": "t",
            }
        )
        with store.recorded_run("test", {}) as run:
            store.add_decisions(
                [judge], sha256="a" * 64, path="t", kind="sheet", coder="senior", run_id=run.id
            )

    from pipeline.refi.write import RefiCoding, RefiSource, project_qdpx, source_guid

    with workspace.open_store() as store:
        documents = store.current_documents()
        segment, doc_id, start, end, _ = store.segment_rows(DEFAULT_SEGMENTER)[5]
        assert segment != judge.segment_id
        sources = [
            RefiSource(source_guid(d.sha256), d.name, store.document_text(d.id), {})
            for d in documents
        ]
        sha = next(d.sha256 for d in documents if d.id == doc_id)
    path = workspace.root / "senior.qdpx"
    path.write_bytes(
        project_qdpx(
            name="back",
            codebook=codebook(workspace),
            sources=sources,
            codings=[RefiCoding("senior", source_guid(sha), start, end, "hedging.china")],
            users=["senior"],
            created="2026-12-01T12:00:00Z",
        )
    )
    with workspace.open_store() as store:
        result = import_refi(store, codebook(workspace), path, skip_unplaced=True)
    assert {d.role for d in result.planned if d.coder == "senior"} == {"coder"}
    assert [d for d in result.planned if d.coder == "senior"]
