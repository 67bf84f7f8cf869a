"""The codebook: validation with lines and hints, versions, the default codebook's own examples."""

from __future__ import annotations

import pytest

from pipeline.codebook.load import CodebookError, load_codebook, parse_codebook
from pipeline.codebook.report import diff, format_tree
from pipeline.coding.nlp import make_nlp
from pipeline.coding.rules import RuleCoder
from tests.conftest import ROOT

DEFAULT = ROOT / "codebook" / "codebook.yaml"
MINIMAL = """
name: t
partners:
  - {id: united_states, aliases: [United States, US]}
codes:
  - id: alignment
    label: Alignment
    definition: Cooperation with the US.
    patterns:
      - {id: a1, near: {a: {lemmas: [aid]}, b: {partner: united_states}, window: 5}}
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(CodebookError) as caught:
        parse_codebook(text, "cb.yaml")
    return [p.format("cb.yaml") for p in caught.value.problems]


def test_every_problem_is_reported_with_line_path_and_hint() -> None:
    text = (
        MINIMAL
        + """
      - {id: a2, tokens: [{LEMA: aid}, {LOWER: from, OP: "x"}, {POS: NOUN}]}
      - {id: a3, near: {a: {lemmas: [aid]}, b: {partner: united_sates}}}
      - {id: a1, lemmas: ["no", yes]}
  - id: alignment.aid
    parent: alignmnt
    label: Aid
    definiton: x
"""
    )
    found = problems_of(text)
    assert (
        "cb.yaml:12: codes[0].patterns[1].tokens[0].LEMA: unknown token attribute 'LEMA' "
        "(did you mean 'LEMMA'?)" in found
    )
    assert any("unknown operator 'x'" in p for p in found)
    assert any("'POS' needs a trained spaCy pipeline" in p for p in found)
    assert any("unknown partner 'united_sates' (did you mean 'united_states'?)" in p for p in found)
    assert any("pattern id 'a1' is used twice" in p for p in found)
    assert any("YAML read this word" in p and "put it in quotes" in p for p in found)
    assert any("unknown parent code 'alignmnt' (did you mean 'alignment'?)" in p for p in found)
    assert any("unknown key 'definiton' in a code (did you mean 'definition'?)" in p for p in found)
    assert any(p.startswith("cb.yaml:") and ".definition: is required" in p for p in found)


def test_yaml_syntax_errors_name_the_line() -> None:
    [problem] = problems_of("name: t\ncodes:\n  - id: a\n    label: [unclosed\n")
    assert problem.startswith("cb.yaml:") and "(syntax)" in problem


def test_version_is_the_hash_of_normalised_content() -> None:
    base = parse_codebook(MINIMAL)
    reformatted = parse_codebook("# a comment\n" + MINIMAL.replace("window: 5", "window:   5"))
    changed = parse_codebook(MINIMAL.replace("window: 5", "window: 6"))
    assert base.version == reformatted.version != changed.version
    assert base.version.startswith("cb-")
    assert diff(base, changed) == [
        "~ pattern a1 (alignment): now near (aid) within 6 of (@united_states)"
    ]


def test_default_codebook_is_valid_and_shipped_with_the_package() -> None:
    book = load_codebook(DEFAULT)
    assert {c.id for c in book.children(None)} == {"alignment", "securitization", "hedging"}
    assert len(book.codes) >= 19 and len(book.partners) >= 11
    shipped = ROOT / "pipeline" / "resources" / "codebook.yaml"
    assert shipped.read_text("utf-8") == DEFAULT.read_text("utf-8"), "copy codebook/codebook.yaml"
    tree = format_tree(book)
    assert "hedging.nonalignment — Non-alignment and multipolarity" in tree


def test_the_default_codebooks_examples_are_coded_as_it_says() -> None:
    book = load_codebook(DEFAULT)
    coder = RuleCoder(book, make_nlp())
    for code in book.codes.values():
        for example in code.positive_examples:
            found = {book.top_level(c) for s in coder.code_text(example) for c in s.evidence}
            assert code.id in found, f"{code.id} should code: {example}"
        for example in code.negative_examples:
            found = {book.top_level(c) for s in coder.code_text(example) for c in s.evidence}
            assert code.id not in found, f"{code.id} should not code: {example}"
