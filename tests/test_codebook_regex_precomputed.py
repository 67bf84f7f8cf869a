"""Codebook regexes worked out per document find exactly what spaCy's own REGEX finds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from spacy.matcher import Matcher

from pipeline.codebook.model import Code, Codebook, Pattern
from pipeline.coding.nlp import make_nlp
from pipeline.coding.rules import RegexTooSlow, RuleCoder
from pipeline.coding.segment import paragraphs
from pipeline.coding.timed_regex import RegexBudget, RegexPattern
from tests.conftest import SHARED, SOURCES, needs_shared

SPECS: list[list[dict[str, Any]]] = [
    [{"LOWER": {"REGEX": "^secur"}}, {"LOWER": {"REGEX": "^(council|forces?)$"}}],
    [{"LOWER": {"REGEX": "^terror"}}],
    [
        {"TEXT": {"REGEX": "^[A-Z]{2,}$|^[A-Z][a-z]+$"}},
        {"IS_PUNCT": True, "OP": "?"},
        {"LOWER": {"REGEX": {"IN": ["^talk", "^aid$", "^nucl", "^cooperat", "^and$"]}}},
    ],
    [{"LOWER": {"REGEX": {"NOT_IN": ["^the$", "^a$"]}, "IN": ["aid", "the", "security", "a"]}}],
    [{"LOWER": "pakistan"}, {"IS_ALPHA": True, "OP": "{0,5}"}, {"LEMMA": {"REGEX": "^support"}}],
    [{"NORM": {"REGEX": "ism$"}, "OP": "+"}],
    [{"ORTH": {"REGEX": "^[A-Z]"}, "OP": "?"}, {"SHAPE": {"REGEX": "^d+$"}}],
    [{"SHAPE": {"REGEX": "^X"}}, {"NORM": {"REGEX": {"IN": ["ion$", "ity$"]}}}],
    [{"LOWER": "not"}, {"LOWER": {"REGEX": "^a"}, "OP": "!"}, {"IS_ALPHA": True}],
    [
        {"LOWER": {"REGEX": "^(peace|secur)", "NOT_IN": ["peace"]}},
        {"LOWER": {"REGEX": {"NOT_IN": ["^and$", "^of$"]}}, "OP": "?"},
        {"LEMMA": {"REGEX": {"IN": ["^force", "^council"], "NOT_IN": ["s$"]}}},
    ],
    [{"TEXT": {"REGEX": "^[A-Z]"}, "LOWER": {"REGEX": "^pak"}}],
    [{"LOWER": {"REGEX": "^zzzq"}, "OP": "*"}, {"LOWER": "of"}],
]


def compare(texts: list[str]) -> None:
    nlp = make_nlp()
    budget = RegexBudget()
    ours = [RegexPattern(f"p|{i}", spec, nlp.vocab, budget) for i, spec in enumerate(SPECS)]
    spacys = []
    for i, spec in enumerate(SPECS):
        matcher = Matcher(nlp.vocab)
        matcher.add(f"p|{i}", [spec])
        spacys.append(matcher)
    found = [0] * len(SPECS)
    for doc in nlp.pipe(texts):
        for i, (mine, theirs) in enumerate(zip(ours, spacys)):
            expected = sorted(theirs(doc))
            assert sorted(mine(doc)) == expected, (SPECS[i], doc.text[:80])
            found[i] += len(expected)
    assert all(found), found  # every pattern matched somewhere: the comparison is not empty


def test_the_sample_documents_give_the_same_matches_as_spacy_regex() -> None:
    texts = []
    for path in sorted(SOURCES.glob("*.md")):
        texts.extend(p.text for p in paragraphs(path.read_text("utf-8")))
    assert len(texts) > 200
    compare(texts)


@needs_shared
def test_a_real_speech_gives_the_same_matches_as_spacy_regex() -> None:
    speeches = sorted((SHARED / "data" / "ungdc" / "PAK").glob("PAK_*_20*.txt"))[:6]
    texts = [p.text for path in speeches for p in paragraphs(path.read_text("utf-8"))]
    compare(texts)


def book(*patterns: Pattern) -> Codebook:
    codes = {p.code: Code(p.code, p.code.upper(), None, "D.", patterns=(p,)) for p in patterns}
    return Codebook(Path("cb.yaml"), "t", "v", codes, {})


def test_all_the_regexes_of_a_coder_share_one_budget() -> None:
    """Each of up to 1,000 regexes with its own 120 s could keep coding going for 33 hours."""
    first = Pattern("p1", "a", "tokens", tokens=({"LOWER": {"REGEX": "^aid"}},), line=7)
    second = Pattern("p2", "b", "tokens", tokens=({"TEXT": {"REGEX": "^loan"}},), line=9)
    coder = RuleCoder(book(first, second), make_nlp())
    assert coder.code_text("Aid came.")[0].evidence["a"][0].text == "Aid"
    # The budget is spent (as if by 'p1'): 'p2' may not start on a new word, though it has
    # spent almost nothing ('p1' has seen every word of the text already, in lower case).
    coder.regex_budget.spent = coder.regex_budget.seconds
    with pytest.raises(RegexTooSlow) as caught:
        coder.code_text("aid came.")
    assert caught.value.message.startswith(
        "cb.yaml:9: pattern 'p2': the regular expression '^loan' was running when the "
        "codebook's regular expressions had spent the 120 s they may take in all"
    )
    assert caught.value.hint.startswith(
        "the time is shared by all the codebook's regular expressions: use fewer"
    )


def test_a_word_is_tested_once_however_many_documents_hold_it() -> None:
    nlp = make_nlp()
    pattern = RegexPattern("p|x", [{"LOWER": {"REGEX": "^aid"}}], nlp.vocab, RegexBudget(60.0))
    assert [e - s for _, s, e in pattern(nlp("Aid and aid."))] == [1, 1]
    spent = pattern.tests[0][0][1][0].budget.spent
    assert [e - s for _, s, e in pattern(nlp("Aid and more aid."))] == [1, 1]
    assert pattern.tests[0][0][1][0].budget.spent - spent < 1e-3  # only 'more' was new
