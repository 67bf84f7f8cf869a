"""Extraction quality against the ground truth of the sample corpus."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from difflib import SequenceMatcher

import pytest

from pipeline.ingest.read import ReadOptions, read_file
from tests.conftest import SAMPLE, TRUTH, front_matter, manifest

_TOKEN = re.compile(r"\w+(?:[-'’]\w+)*|[^\w\s]")
READABLE = [row for row in manifest() if row["expected"] in ("ingest", "warning:scanned-page")]


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def recall(truth: list[str], got: list[str]) -> float:
    have = Counter(got)
    return sum(min(n, have[t]) for t, n in Counter(truth).items()) / len(truth)


def order(truth: list[str], got: list[str]) -> float:
    matcher = SequenceMatcher(None, truth, got, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(truth)


@pytest.mark.parametrize("row", READABLE, ids=lambda row: row["file"])
def test_text_matches_ground_truth(row: dict[str, str]) -> None:
    extraction = read_file(SAMPLE / row["file"], ReadOptions())
    truth = (TRUTH / f"{row['file']}.txt").read_text(encoding="utf-8")
    expected, got = tokens(truth), tokens(extraction.text)
    assert recall(expected, got) >= 0.99
    if row["layout"] == "two-column":
        assert order(expected, got) >= 0.98
    if row["producer"] in ("reportlab", "libreoffice"):
        assert abs(extraction.text.count("\n\n") - truth.count("\n\n")) <= 1, "paragraphs"
    source = front_matter(row["file"])
    lines = set(extraction.text.split("\n"))
    for furniture in (source.get("header", ""), source.get("footer", "")):
        if furniture and furniture not in truth:
            assert furniture not in lines, f"running head left in: {furniture!r}"
            assert furniture not in extraction.text


def test_canonical_form_of_every_sample_text() -> None:
    for row in READABLE:
        text = read_file(SAMPLE / row["file"], ReadOptions()).text
        assert "\r" not in text and "\ufeff" not in text
        assert "\n\n\n" not in text and text == text.strip()


def test_page_spans_tile_the_text_in_order() -> None:
    extraction = read_file(SAMPLE / "briefing-wk41.pdf", ReadOptions())
    spans = extraction.pages
    assert len(spans) == 3
    assert spans[0][0] == 0 and spans[-1][1] == len(extraction.text)
    for (start, end), (next_start, _) in itertools.pairwise(spans):
        assert start < end <= next_start


def test_pdfplumber_engine_gives_the_same_reading() -> None:
    name = "2006-03-04_joint-statement_us.pdf"
    fast = read_file(SAMPLE / name, ReadOptions(engine="pdfium"))
    reference = read_file(SAMPLE / name, ReadOptions(engine="pdfplumber"))
    assert reference.extractor.startswith("pdfplumber")
    assert order(tokens(fast.text), tokens(reference.text)) >= 0.98


def test_plain_pdfplumber_interleaves_columns_where_we_do_not() -> None:
    import pdfplumber

    name = "2014-01-27_treaty_pak-us-strategic-dialogue.pdf"
    truth = tokens((TRUTH / f"{name}.txt").read_text(encoding="utf-8"))
    with pdfplumber.open(SAMPLE / name) as pdf:
        plain = "\n".join(page.extract_text() or "" for page in pdf.pages)
    ours = read_file(SAMPLE / name, ReadOptions()).text
    assert order(truth, tokens(ours)) > order(truth, tokens(plain)) + 0.1


def test_running_heads_are_kept_aside_as_metadata_evidence() -> None:
    extraction = read_file(SAMPLE / "briefing-wk41.pdf", ReadOptions())
    header = front_matter("briefing-wk41.pdf")["header"]
    assert header in extraction.furniture
    assert header not in extraction.text
