"""Invariants of canonical text and the pure layout steps, on synthetic input."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.ingest.canonical import assemble, join_hyphenated, join_lines, normalise, vocabulary
from pipeline.ingest.formats import read_text, text_paragraphs
from pipeline.ingest.layout import find_gutter, page_lines
from pipeline.ingest.pdftext import pdf_text
from pipeline.ingest.words import PageWords, Word

words_text = st.text(alphabet=st.characters(categories=["L", "N", "P"]), min_size=1, max_size=12)
lines_st = st.lists(st.lists(words_text, min_size=1, max_size=8).map(" ".join), max_size=6)


@st.composite
def paged_paragraphs(draw: st.DrawFn) -> list[list[tuple[int, str]]]:
    """Paragraphs of (page, line) in reading order: pages never go backwards."""
    lines = draw(
        st.lists(
            st.tuples(st.integers(0, 3), lines_st.filter(bool).map(lambda x: x[0])),
            min_size=1,
            max_size=20,
        )
    )
    lines.sort(key=lambda item: item[0])
    cuts = sorted(set(draw(st.lists(st.integers(1, len(lines)), max_size=6))) | {len(lines)})
    paragraphs, start = [], 0
    for cut in cuts:
        if cut > start:
            paragraphs.append(lines[start:cut])
            start = cut
    return paragraphs


@settings(max_examples=200, deadline=None)
@given(paged_paragraphs())
def test_page_spans_are_ordered_and_inside_the_text(
    paragraphs: list[list[tuple[int, str]]],
) -> None:
    text, spans = assemble(paragraphs, set(), 4)
    assert len(spans) == 4
    cursor = 0
    for start, end in spans:
        assert 0 <= start <= end <= len(text)
        assert start >= cursor or start == end
        cursor = max(cursor, end)
    for page, line in (item for p in paragraphs for item in p):
        start, end = spans[page]
        # A line-end hyphen may be dropped when the word is joined with the next line.
        assert " ".join(line.split()).rstrip("-‐") in text[start:end]
    assert "\n\n\n" not in text


@given(st.text())
def test_normalise_is_idempotent_nfc_and_has_no_carriage_returns(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert unicodedata.is_normalized("NFC", once)
    assert "\r" not in once and "\ufeff" not in once


def test_hyphenation_joins_words_but_keeps_compounds() -> None:
    vocab = vocabulary(["time tested friends", "counterterrorism is not used here"])
    assert join_hyphenated("infra-", "structure", vocab) == "infrastructure"
    assert join_hyphenated("counter-", "terrorism", vocab) == "counterterrorism"
    assert join_hyphenated("time-", "tested", vocab) == "time-tested"
    assert join_hyphenated("self-", "reliance", set()) == "self-reliance"
    assert join_hyphenated("counter-terror-", "ism", set()) == "counter-terrorism"
    assert join_hyphenated("people-to-", "people", set()) == "people-to-people"
    assert join_hyphenated("them-", "selves", set()) == "themselves"
    text, _ = join_lines(["the intra-", "Afghan talks"], set())
    assert text == "the intra-Afghan talks"
    text, starts = join_lines(["the modern-", "isation of the", "army"], set())
    assert text == "the modernisation of the army" and starts == [0, 10, 25]


def test_vocabulary_leaves_out_split_word_pieces() -> None:
    assert vocabulary(["the rela-", "tions are good"]) == {"the", "are", "good"}


def test_plain_text_without_blank_lines_gets_paragraphs_and_loses_page_numbers() -> None:
    text = (
        "\ufeffThe General Assembly meets this year under the\r\n"
        "shadow of a terrible act of terror against the\r\n"
        "people of a member state.\r\n"
        "12\r\n"
        "Pakistan has followed words with actions and will\r\n"
        "continue to cooperate with the world community.\r\n"
    )
    extraction = read_text(text.encode("utf-8"), "speech.txt")
    assert extraction.text == (
        "The General Assembly meets this year under the shadow of a terrible act of terror "
        "against the people of a member state.\n\nPakistan has followed words with actions and "
        "will continue to cooperate with the world community."
    )
    assert text_paragraphs("a\n\nb\n\nc") == [["a"], ["b"], ["c"]]


def test_windows_1252_text_is_read_with_a_warning() -> None:
    extraction = read_text("Erdoğan’s visit".encode()[:0] + b"Caf\xe9 talks", "x.txt")
    assert extraction.text == "Café talks"
    assert [w.code for w in extraction.warnings] == ["bad-encoding"]


def _column(x0: float, top: float, lines: list[str], size: float = 10.0) -> list[Word]:
    words = []
    for row, line in enumerate(lines):
        x = x0
        y = top + row * 1.4 * size
        for token in line.split():
            width = 0.5 * size * len(token)
            words.append(Word(token, x, x + width, y, y + size, size))
            x += width + 0.3 * size
    return words


def test_two_columns_are_read_one_after_the_other() -> None:
    left = [f"left{i} aaa bbb ccc ddd eee fff" for i in range(10)]
    right = [f"right{i} ggg hhh iii jjj kkk lll" for i in range(10)]
    words = _column(50, 100, left) + _column(320, 104, right)
    gutter = find_gutter(words)
    assert gutter is not None and 250 < gutter < 320
    texts = [line.text for line in page_lines(words)]
    assert texts == left + right


def test_heading_over_two_columns_and_running_heads() -> None:
    pages = []
    for number in (1, 2):
        words = _column(50, 40, ["Ministry of Foreign Affairs running head"], size=7)
        words += _column(50, 80, ["A heading spanning both columns of the page here"], size=14)
        words += _column(50, 120, [f"p{number} left{i} aaa bbb ccc ddd eee fff" for i in range(8)])
        words += _column(320, 120, [f"p{number} right{i} ggg hhh iii jjj kkk" for i in range(8)])
        words += _column(280, 800, [f"- {number} -"], size=7)
        pages.append(PageWords(number, 595, 842, words))
    result = pdf_text(pages)
    assert "running head" not in result.text and "- 1 -" not in result.text
    assert result.text.index("p1 left7") < result.text.index("p1 right0")
    assert result.text.index("p1 right7") < result.text.index("p2 left0")
    assert "Ministry of Foreign Affairs running head" in result.furniture


def test_one_column_justified_text_is_not_split_into_columns() -> None:
    lines = [f"word{i} " + "lorem ipsum dolor sit amet consectetur adipiscing" for i in range(20)]
    assert find_gutter(_column(50, 100, lines)) is None


def test_short_right_column_at_the_end_of_a_document_is_still_a_column() -> None:
    left = [f"left{i} aaa bbb ccc ddd eee fff" for i in range(20)]
    right = ["right0 ggg hhh iii jjj kkk lll", "right1 mmm nnn."]
    words = _column(50, 100, left) + _column(320, 102, right)
    assert [line.text for line in page_lines(words)] == left + right


def test_markdown_in_transcripts_is_markup_not_words() -> None:
    raw = b'> *"We stand by the Charter."*\n\nA **bold** claim; 5 * 3 = 15.\n\nEnd.'
    assert read_text(raw, "x.txt").text == (
        '"We stand by the Charter."\n\nA bold claim; 5 * 3 = 15.\n\nEnd.'
    )
