"""REFI-QDA exchange: schema-valid output, lossless round trips, the tools' quirks, hostile XML."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from functools import cache

import pytest
from lxml import etree

from pipeline.codebook.load import parse_codebook
from pipeline.codebook.model import Codebook
from pipeline.refi.read import RefiError, RefiSpan, read_codebook, read_project
from pipeline.refi.write import (
    GUID_RE,
    NO_CODE,
    RefiCoding,
    RefiSource,
    code_guid,
    codebook_xml,
    no_code_guid,
    project_qdpx,
    source_guid,
    user_guid,
)
from tests.conftest import ROOT, needs_shared

REFI = ROOT.parent / "shared" / "refi"
CREATED = "2024-05-01T12:00:00Z"
CODEBOOK = """
name: refi test
codes:
  - id: alignment
    label: Alignment
    definition: Cooperation with the United States.
    include: [pledges of aid]
  - id: alignment.aid
    parent: alignment
    label: Aid & assistance <economic>
    definition: Economic or military aid.
  - id: alignment.aid.military
    parent: alignment.aid
    label: Military aid
    definition: Arms and training.
  - id: hedging
    label: Hedging
    definition: Balancing between powers.
"""
# An emoji outside the BMP comes before the coded words, so UTF-16 offsets would differ.
TEXT_A = "Pakistan 🤝 Türkiye: aid for the flood.\nپاکستان seeks balance.\n"
TEXT_B = "Talks in Ankara 🇹🇷 covered military aid.\nNo more.\n"
GUID_A = source_guid("a" * 64)
GUID_B = source_guid("b" * 64)
USERS = ["rules.v1", "amina"]


@cache
def codebook() -> Codebook:
    return parse_codebook(CODEBOOK, "refi.yaml")


def sources() -> list[RefiSource]:
    return [
        RefiSource(
            GUID_A,
            "speech-1990.txt",
            TEXT_A,
            {"year": 1990, "issuer": "MoFA"},
            "dshift document: " + "a" * 64,
        ),
        RefiSource(
            GUID_B,
            "pr-2016.txt",
            TEXT_B,
            {"year": 2016, "date": "2016-03-01", "source_type": "press", "issuer": None},
        ),
    ]


def span(text: str, words: str) -> tuple[int, int]:
    start = text.index(words)
    return start, start + len(words)


def codings() -> list[RefiCoding]:
    return [
        RefiCoding("rules.v1", GUID_A, *span(TEXT_A, "aid for the flood"), "alignment.aid"),
        RefiCoding("amina", GUID_A, *span(TEXT_A, "aid for the flood"), "alignment.aid"),
        RefiCoding("amina", GUID_A, *span(TEXT_A, "aid for the flood"), "alignment"),
        RefiCoding(
            "amina", GUID_A, *span(TEXT_A, "پاکستان seeks balance"), "hedging", "balance, not aid"
        ),
        RefiCoding("rules.v1", GUID_B, *span(TEXT_B, "military aid"), "alignment.aid.military"),
        RefiCoding("amina", GUID_B, *span(TEXT_B, "No more."), NO_CODE, "nothing to code"),
    ]


def export(**changes: object) -> bytes:
    arguments: dict[str, object] = {
        "name": "Pakistan discourse",
        "codebook": codebook(),
        "sources": sources(),
        "codings": codings(),
        "users": USERS,
        "created": CREATED,
    }
    arguments.update(changes)
    return project_qdpx(**arguments)  # type: ignore[arg-type]


def entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def edit_project(edit: Callable[[etree._Element], None]) -> bytes:
    """Export, let ``edit`` change project.qde's tree, and zip the result again."""
    files = entries(export())
    root = etree.fromstring(files["project.qde"])
    edit(root)
    files["project.qde"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return rezip(files)


def find(root: etree._Element, path: str) -> list[etree._Element]:
    return root.xpath(path, namespaces={"q": "urn:QDA-XML:project:1.0"})


def problems(call: Callable[[], object]) -> str:
    with pytest.raises(RefiError) as caught:
        call()
    return str(caught.value)


# --- GUIDs and schema validity -------------------------------------------------------------------


def test_guids_are_stable_schema_shaped_and_distinct_per_kind() -> None:
    # Pinned: a changed namespace would give every code a new GUID in the programs using it.
    assert code_guid("alignment.aid") == "1a559b8c-816a-5f65-98be-5e5e34e9a304"
    assert code_guid("alignment.aid") == code_guid("alignment.aid") != code_guid("alignment")
    assert user_guid("amina") != code_guid("amina")
    assert source_guid("A" * 64) == source_guid("a" * 64)
    for guid in (code_guid("x"), user_guid("rules.v1"), GUID_A):
        assert GUID_RE.match(guid)


@needs_shared
def test_the_codebook_file_is_valid_against_the_refi_schema() -> None:
    schema = etree.XMLSchema(etree.parse(str(REFI / "Codebook.cleaned.xsd")))
    document = etree.fromstring(codebook_xml(codebook()))
    schema.assertValid(document)
    ns = {"c": "urn:QDA-XML:codebook:1.0"}
    top = document.xpath("/c:CodeBook/c:Codes/c:Code", namespaces=ns)
    assert [code.get("name") for code in top] == ["Alignment", "Hedging"]
    nested = document.xpath("//c:Code[@name='Military aid']/ancestor::c:Code/@name", namespaces=ns)
    assert nested == ["Alignment", "Aid & assistance <economic>"]
    colours = {code.get("name"): code.get("color") for code in document.iter("{*}Code")}
    assert colours["Military aid"] == colours["Alignment"] != colours["Hedging"]


@needs_shared
def test_the_project_is_valid_against_the_refi_schema_and_embeds_the_texts() -> None:
    files = entries(export())
    assert next(iter(files)) == "project.qde"
    assert sorted(files)[1:] == sorted([f"sources/{GUID_A}.txt", f"sources/{GUID_B}.txt"])
    assert files[f"sources/{GUID_A}.txt"] == TEXT_A.encode("utf-8")
    schema = etree.XMLSchema(etree.parse(str(REFI / "Project-mrt2019.xsd")))
    root = etree.fromstring(files["project.qde"])
    schema.assertValid(root)
    assert find(root, "//q:TextSource/@plainTextPath") == [
        f"internal://{GUID_B}.txt",  # sources are listed by name: pr-2016 before speech-1990
        f"internal://{GUID_A}.txt",
    ]
    assert sorted(find(root, "/q:Project/q:Users/q:User/@name")) == ["amina", "rules.v1"]
    types = {v.get("name"): v.get("typeOfVariable") for v in find(root, "//q:Variable")}
    assert types == {"date": "Text", "issuer": "Text", "source_type": "Text", "year": "Integer"}
    # Both coders' work on the same words stays apart: one selection per coder.
    selections = find(root, f"//q:TextSource[@guid='{GUID_A}']/q:PlainTextSelection")
    start, end = span(TEXT_A, "aid for the flood")
    assert start == len(TEXT_A[:start].encode("utf-16-le")) // 2 - 1  # code points, not UTF-16
    same_span = [s for s in selections if s.get("startPosition") == str(start)]
    assert {s.get("creatingUser") for s in same_span} == {user_guid("amina"), user_guid("rules.v1")}
    assert all(s.get("endPosition") == str(end) for s in same_span)


# --- round trips ---------------------------------------------------------------------------------


def test_a_project_reads_back_as_it_was_written() -> None:
    project = read_project(export())
    assert project.name == "Pakistan discourse"
    assert project.users == {user_guid(u): u for u in USERS}
    assert {code.code_id for code in project.codes.values()} == set(codebook().codes) | {NO_CODE}
    assert project.codes[no_code_guid()].name == "(no code applies)"
    assert project.codes[code_guid("alignment.aid")].parent_guid == code_guid("alignment")
    assert project.sources[GUID_A].text == TEXT_A
    assert project.sources[GUID_B].variables == {
        "year": 2016,
        "date": "2016-03-01",
        "source_type": "press",
    }
    expected = sorted(
        RefiSpan(
            c.user,
            c.source_guid,
            c.start,
            c.end,
            no_code_guid() if c.code_id == NO_CODE else code_guid(c.code_id),
            c.note,
        )
        for c in codings()
    )
    assert sorted(project.codings) == expected
    assert project.sources[GUID_A].description == "dshift document: " + "a" * 64
    hedged = next(c for c in project.codings if c.code_guid == code_guid("hedging"))
    assert TEXT_A[hedged.start : hedged.end] == "پاکستان seeks balance"
    assert project.skipped == []


def test_dates_are_written_in_utc_with_z() -> None:
    root = etree.fromstring(entries(export(created="2024-05-01T17:00:00+05:00"))["project.qde"])
    dates = {v for e in root.iter() for k, v in e.attrib.items() if k.endswith("DateTime")}
    assert dates == {"2024-05-01T12:00:00Z"}


def test_the_export_is_byte_identical_whatever_the_order_of_its_inputs() -> None:
    first = export()
    again = export(
        sources=sources()[::-1],
        codings=codings()[::-1] + codings()[:1],  # a repeated coding is written once
        users=USERS[::-1],
    )
    assert first == again
    assert codebook_xml(codebook()) == codebook_xml(parse_codebook(CODEBOOK, "refi.yaml"))
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2024, 5, 1, 12, 0, 0)}


def test_a_codebook_reads_back_with_ids_parents_and_definitions() -> None:
    codes = read_codebook(codebook_xml(codebook()))
    assert [c.code_id for c in codes] == [
        "alignment",
        "alignment.aid",
        "alignment.aid.military",
        "hedging",
    ]
    by_id = {c.code_id: c for c in codes}
    assert by_id["alignment.aid.military"].parent_guid == code_guid("alignment.aid")
    assert by_id["alignment.aid"].name == "Aid & assistance <economic>"
    assert by_id["alignment"].description == (
        "Cooperation with the United States.\n\nInclude:\n- pledges of aid"
    )


def test_code_ids_come_back_from_the_guid_or_the_description() -> None:
    document = etree.fromstring(codebook_xml(codebook()))
    for description in document.iter("{*}Description"):
        description.getparent().remove(description)
    stripped = etree.tostring(document)
    assert {c.code_id for c in read_codebook(stripped)} == {None}
    recovered = read_codebook(stripped, code_ids=codebook().codes)
    assert [c.code_id for c in recovered][:2] == ["alignment", "alignment.aid"]

    # A program that makes new GUIDs keeps the description: the id still comes back.
    renewed = codebook_xml(codebook()).replace(b'guid="1a559b8c', b'guid="0a559b8c')
    assert "alignment.aid" in {c.code_id for c in read_codebook(renewed)}


def test_a_copied_code_does_not_take_the_id_of_the_original() -> None:
    document = etree.fromstring(codebook_xml(codebook()))
    hedging = document.xpath("//*[@name='Hedging']")[0]
    copy = etree.fromstring(etree.tostring(hedging))
    copy.set("guid", "{0B547B45-0000-4000-8000-000000000000}")
    copy.set("name", "Hedging (copy)")
    hedging.getparent().append(copy)
    codes = {c.name: c for c in read_codebook(etree.tostring(document))}
    assert codes["Hedging"].code_id == "hedging"
    assert codes["Hedging (copy)"].code_id is None
    assert codes["Hedging (copy)"].guid == "0b547b45-0000-4000-8000-000000000000"


# --- the tools' quirks ---------------------------------------------------------------------------


def test_the_quirks_of_other_programs_are_accepted() -> None:
    """Sources/ capitalised, BOMs, CRLF texts with offsets counted on them, a wrapping folder."""
    files = entries(export())
    root = etree.fromstring(files.pop("project.qde"))
    crlf_texts = {}
    for source in find(root, "//q:TextSource"):
        text = TEXT_A if source.get("guid") == GUID_A else TEXT_B
        crlf_texts[source.get("guid")] = text.replace("\n", "\r\n")
        for selection in find(source, "q:PlainTextSelection"):
            for attribute in ("startPosition", "endPosition"):
                offset = int(selection.get(attribute))
                selection.set(attribute, str(offset + text[:offset].count("\n")))
    picture = etree.SubElement(root.find("{*}Sources"), "{urn:QDA-XML:project:1.0}PictureSource")
    picture.set("guid", "11111111-2222-3333-4444-555555555555")
    picture.set("name", "map.png")
    qde = b"\xef\xbb\xbf" + etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    quirky = {"Export/project.qde": qde}
    for guid, text in crlf_texts.items():
        quirky[f"Export/Sources/{guid}.txt"] = b"\xef\xbb\xbf" + text.encode("utf-8")
    quirky["__MACOSX/Export/._project.qde"] = b"\x00\x05\x16\x07"

    project = read_project(rezip(quirky))
    original = read_project(export())
    assert project.sources == original.sources
    assert sorted(project.codings) == sorted(original.codings)
    assert project.skipped == [
        "PictureSource 'map.png' (11111111-2222-3333-4444-555555555555): "
        "only sources with a plain text are read"
    ]


def test_inline_text_upper_case_guids_and_whole_document_codings_are_read() -> None:
    def inline(root: etree._Element) -> None:
        source = find(root, f"//q:TextSource[@guid='{GUID_B}']")[0]
        del source.attrib["plainTextPath"]
        content = etree.Element("{urn:QDA-XML:project:1.0}PlainTextContent")
        content.text = TEXT_B
        source.insert(0, content)
        coding = etree.SubElement(source, "{urn:QDA-XML:project:1.0}Coding")
        coding.set("guid", "AAAAAAAA-0000-4000-8000-000000000000")
        coding.set("creatingUser", "{" + user_guid("amina").upper() + "}")
        reference = etree.SubElement(coding, "{urn:QDA-XML:project:1.0}CodeRef")
        reference.set("targetGUID", code_guid("hedging").upper())
        source.append(source.find("{*}VariableValue"))  # keep the schema's element order

    project = read_project(edit_project(inline))
    assert project.sources[GUID_B].text == TEXT_B
    whole = RefiSpan("amina", GUID_B, 0, len(TEXT_B), code_guid("hedging"))
    assert whole in project.codings


# --- what is refused -----------------------------------------------------------------------------

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE Project [
  <!ENTITY a "laughlaughlaughlaughlaughlaughlaughlaughlaughlaugh">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
  <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
  <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
  <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
  <!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
  <!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">
]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&i;"/>
"""


def external(url: str, root: str = "Project") -> bytes:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE {root} [<!ENTITY x SYSTEM "{url}">]>\n'
        f'<{root} xmlns="urn:QDA-XML:project:1.0" name="&x;"/>\n'
    ).encode()


@pytest.mark.parametrize(
    "qde",
    [BOMB, external("file:///etc/passwd"), external("http://127.0.0.1:9/refi.dtd")],
    ids=["billion-laughs", "file-entity", "http-entity"],
)
def test_xml_entities_are_refused_before_they_expand(qde: bytes) -> None:
    message = problems(lambda: read_project(rezip({"project.qde": qde})))
    assert "project.qde uses XML entities" in message
    assert "refuse to read for safety" in message
    assert "export it again without entity declarations" in message
    codebook_bomb = BOMB.replace(b"Project", b"CodeBook")
    assert "uses XML entities" in problems(lambda: read_codebook(codebook_bomb))


def test_a_selection_beyond_the_end_of_the_text_is_refused_by_name() -> None:
    def stretch(root: etree._Element) -> None:
        selection = find(root, f"//q:TextSource[@guid='{GUID_A}']/q:PlainTextSelection")[0]
        selection.set("endPosition", str(len(TEXT_A) + 5))

    data = edit_project(stretch)
    selection = find(
        etree.fromstring(entries(data)["project.qde"]),
        f"//q:TextSource[@guid='{GUID_A}']/q:PlainTextSelection",
    )[0]
    message = problems(lambda: read_project(data))
    assert f"TextSource 'speech-1990.txt' ({GUID_A}): PlainTextSelection" in message
    assert selection.get("guid") in message
    assert f"endPosition {len(TEXT_A) + 5} is beyond the end of the text ({len(TEXT_A)} " in message


def _drop_text(root: etree._Element) -> None:
    del find(root, f"//q:TextSource[@guid='{GUID_A}']")[0].attrib["plainTextPath"]


def _unknown_code(root: etree._Element) -> None:
    find(root, "//q:CodeRef")[0].set("targetGUID", "99999999-9999-4999-8999-999999999999")


def _unknown_user(root: etree._Element) -> None:
    find(root, "//q:Coding")[0].set("creatingUser", "88888888-8888-4888-8888-888888888888")


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (_drop_text, f"TextSource 'speech-1990.txt' ({GUID_A}): has no text"),
        (_unknown_code, "refers to code 99999999-9999-4999-8999-999999999999, which is not in"),
        (_unknown_user, "creatingUser 88888888-8888-4888-8888-888888888888 is not in <Users>"),
    ],
    ids=["source-without-text", "unknown-code", "unknown-user"],
)
def test_broken_projects_are_refused_naming_the_element(
    edit: Callable[[etree._Element], None], expected: str
) -> None:
    message = problems(lambda: read_project(edit_project(edit)))
    assert expected in message
    assert "fix:" in message


def test_archives_that_are_not_projects_are_refused() -> None:
    files = entries(export())
    files["notes.qde"] = files.pop("project.qde")
    message = problems(lambda: read_project(rezip(files)))
    assert "the archive has no project.qde (it holds: " in message
    assert "notes.qde)" in message
    assert "not a readable zip archive" in problems(lambda: read_project(b"<Project/>"))
    broken = rezip({"project.qde": b"<Project name='x'><Users></Project>"})
    assert "not well-formed XML (line 1" in problems(lambda: read_project(broken))
    missing = entries(export())
    del missing[f"sources/{GUID_A}.txt"]
    assert f"its text internal://{GUID_A}.txt is not in the archive" in problems(
        lambda: read_project(rezip(missing))
    )


def test_the_writer_lists_every_coding_it_cannot_write() -> None:
    bad = [
        RefiCoding("rules.v1", GUID_A, 3, len(TEXT_A) + 1, "hedging"),
        RefiCoding("nobody", GUID_A, 0, 3, "hedging"),
        RefiCoding("amina", GUID_A, 0, 3, "alignment.aidd"),
        RefiCoding("amina", source_guid("c" * 64), 0, 3, "hedging"),
    ]
    message = problems(lambda: export(codings=bad))
    assert "4 problem(s)" in message
    assert re.search(r"codings\[0\] .*: not a span of the text \(\d+ characters\)", message)
    assert "codings[1] (nobody hedging" in message and "user 'nobody' is not in users" in message
    assert "code 'alignment.aidd' is not in the codebook (did you mean 'alignment.aid'?)" in message
    assert f"no source has guid {source_guid('c' * 64)}" in message
    crlf = [RefiSource(GUID_A, "x", "a\r\nb", {})]
    assert "carriage returns" in problems(lambda: export(sources=crlf, codings=[]))
    assert "is not an ISO date-time" in problems(lambda: export(created="2024-05-01"))


def test_the_export_holds_each_coders_codes_settled_code_by_code() -> None:
    from pipeline.codebook.load import load_codebook
    from pipeline.review.refi_io import exported_state
    from pipeline.store.review import DecisionRow

    book = load_codebook(ROOT / "codebook" / "codebook.yaml")

    def event(n: int, coder: str, codes: list[str], scope: list[str] | None) -> DecisionRow:
        action = "relabel" if codes else "reject"
        return DecisionRow(n, "s1", coder, "coder", action, codes, [], "", "", "t", "", scope)

    hedging = [c for c in book.codes if c.split(".")[0] == "hedging"]
    events = [
        event(1, "amina", ["alignment.aid"], None),  # the whole tree: aid, nothing else
        event(2, "amina", ["hedging.china"], hedging),  # then a sheet about hedging alone
        event(3, "bilal", [], hedging),  # no hedging: says nothing about the rest
        event(4, "chen", [], None),  # no code at all
    ]
    state = exported_state(events, book)
    assert state[("s1", "amina")][0] == {"alignment.aid", "hedging.china"}
    assert ("s1", "bilal") not in state
    assert state[("s1", "chen")][0] == frozenset()
