"""Placing selections on segments and reading back what our export wrote about a source."""

from __future__ import annotations

from pipeline.refi.match import (
    Document,
    Manifest,
    place,
    read_manifest,
    source_description,
)
from pipeline.refi.write import RefiSource

TEXT = "First one here.  Second sentence is longer.\n\nThird, the last."
SEGMENTS = [(0, 15, "s1"), (17, 43, "s2"), (45, 61, "s3")]
DOC = Document("a" * 64, "doc.pdf", TEXT, SEGMENTS)


def at(words: str) -> tuple[int, int]:
    start = TEXT.index(words)
    return start, start + len(words)


def test_selections_code_the_segments_they_cover() -> None:
    assert place(0, 15, DOC).segments == ("s1",) and place(0, 15, DOC).odd == ""
    assert place(0, 17, DOC).segments == ("s1",)  # trailing spaces do not matter
    assert place(*at("Second sentence"), DOC).segments == ("s2",)  # a phrase: its sentence
    assert place(0, 43, DOC).segments == ("s1", "s2")


def test_odd_selections_are_placed_sensibly_and_said_to_be_odd() -> None:
    start, _ = at("Second")
    third = place(start, TEXT.index("the last"), DOC)  # s2 whole, a third of s3
    assert third.segments == ("s2",)
    assert third.odd == "also touches 1 segment(s) by less than half"
    straddle = place(*at("here.  Second"), DOC)
    assert straddle.segments == ("s2",)  # "Second" (6 characters) is more of it than "here."
    assert straddle.odd == "crosses 2 segments, none by half"
    gap = place(43, 45, DOC)
    assert gap.segments == () and gap.odd == "selects only spaces or text outside every segment"


def test_the_manifest_survives_a_round_trip_and_a_missing_line() -> None:
    manifest = Manifest("b" * 64, 12, ("amina", "chen"))
    source = RefiSource("g", "n", "t", {}, source_description(manifest))
    assert read_manifest(source) == manifest
    only_id = RefiSource("g", "n", "t", {"dshift_document": "C" * 64}, "a coder's memo")
    assert read_manifest(only_id) == Manifest("c" * 64, None, ())
    assert read_manifest(RefiSource("g", "n", "t", {}, "dshift document: not-a-hash")) is None
    nobody = Manifest("d" * 64, 0, ())
    assert read_manifest(RefiSource("g", "n", "t", {}, source_description(nobody))) == nobody
