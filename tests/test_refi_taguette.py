"""A codebook exported by Taguette (a flat list of tags named by path, no descriptions)."""

from __future__ import annotations

from pipeline.codebook.load import load_codebook
from pipeline.refi.match import match_codes
from pipeline.refi.read import read_codebook
from pipeline.review.refi_io import propose_codebook
from tests.conftest import ROOT

TAGUETTE = ROOT / "tests" / "fixtures" / "refi" / "taguette-1.5.2-codebook.qdc"


def test_taguettes_tags_are_recognised_by_path_or_label() -> None:
    book = load_codebook(ROOT / "codebook" / "codebook.yaml")
    codes = read_codebook(TAGUETTE.read_bytes(), code_ids=list(book.codes))
    assert [c.name for c in codes] == [
        "alignment",
        "alignment.aid",
        "hedging.china",
        "hedging.turkey",
        "Border security",
        "humanitarian",
    ]
    assert {c.code_id for c in codes} == {None}  # Taguette's GUIDs and no descriptions
    ids = match_codes({c.guid: c for c in codes}, book)
    assert [ids[c.guid] for c in codes] == [
        "alignment",
        "alignment.aid",
        "hedging.china",
        None,
        "securitization.border",  # its label, in a flat list
        None,
    ]


def test_the_proposals_from_taguettes_codebook_are_exact() -> None:
    book = load_codebook(ROOT / "codebook" / "codebook.yaml")
    proposals = propose_codebook(book, TAGUETTE)
    kept = {"alignment", "alignment.aid", "hedging.china", "securitization.border"}
    assert proposals == [
        "+ new code 'hedging.turkey' under hedging",
        "+ new code 'humanitarian' under the top level",
        *(f"- code {cid} is not in the file" for cid in book.codes if cid not in kept),
    ]
