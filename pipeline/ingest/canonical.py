"""Rules shared by every reader for building canonical text.

Canonical text is fixed once per document and never changed, because every offset (pages now;
segments, codings and coder decisions later) points into it. It is Unicode NFC, uses "\\n" line
ends, has no BOM or control characters, and separates paragraphs by exactly one blank line.
"""

from __future__ import annotations

import functools
import gzip
import json
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10))
_CONTROL.update({0x7F: None, 0xFEFF: None, 0xAD: None, 0x200B: None})
_INNER_SPACE = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u3000]+")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_ROMAN = r"(?=[ivxlc])c{0,3}(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})"
PAGE_NUMBER = re.compile(
    rf"^\s*(?:page|p\.|pg\.?)?\s*[-–—(\[]?\s*(?:\d{{1,4}}|{_ROMAN})\s*[-–—)\]]?"
    r"\s*(?:(?:of|/)\s*\d{1,4})?\s*$",
    re.IGNORECASE,
)
# In plain text only bare numbers count: a line "c" or "xi" there is more likely content.
BARE_NUMBER = re.compile(r"^\s*[-–—(\[]?\s*\d{1,4}\s*[-–—)\]]?\s*$")
# A hyphen at a line end after these is kept: "counter-\nterrorism" is a real compound.
_KEEP_HYPHEN_PREFIXES = frozenset(["anti", "co", "counter", "cross", "non", "self", "well"])


@functools.cache
def lexicon() -> frozenset[str]:
    """English word forms from spaCy's lookup tables (spacy-lookups-data), lower-cased.

    Used only to decide whether a hyphen at a line end belongs to the word; loaded once per
    process (about 0.1 s).
    """
    import spacy_lookups_data

    folder = Path(spacy_lookups_data.__file__).parent / "data"
    with gzip.open(folder / "en_lemma_lookup.json.gz", "rt", encoding="utf-8") as handle:
        lookup: dict[str, str] = json.load(handle)
    with gzip.open(folder / "en_lemma_index.json.gz", "rt", encoding="utf-8") as handle:
        index: dict[str, list[str]] = json.load(handle)
    words = {w.lower() for w in lookup} | {w.lower() for w in lookup.values()}
    words.update(w.lower() for forms in index.values() for w in forms)
    return frozenset(words | _FUNCTION_WORDS)


# Closed-class words the lemma tables leave out, but which lines do break.
_FUNCTION_WORDS = frozenset(
    [
        "themselves",
        "ourselves",
        "yourselves",
        "himself",
        "herself",
        "itself",
        "myself",
        "oneself",
        "whereas",
        "whereby",
        "without",
        "towards",
        "upon",
        "into",
        "onto",
        "something",
        "anything",
        "everything",
        "anyone",
        "everyone",
        "anybody",
        "everybody",
        "whenever",
        "whoever",
        "although",
        "unless",
        "whether",
    ]
)


def normalise(text: str) -> str:
    """Return ``text`` in NFC with "\\n" line ends, no BOM or control characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text.translate(_CONTROL))
    return text


def clean_paragraph(text: str) -> str:
    """Collapse runs of spaces inside a paragraph and trim it."""
    return _INNER_SPACE.sub(" ", text).strip()


def vocabulary(lines: Iterable[str]) -> set[str]:
    """Return the lower-cased words of a document, for deciding how to join hyphenated words.

    The pieces of words split at line ends ("rela-" / "tions") are left out.
    """
    vocab: set[str] = set()
    whole: list[str] = []  # lines all of whose words count, searched in one go at the end
    split_before = False
    for line in lines:
        split_after = ends_with_line_hyphen(line.rstrip())
        if split_before or split_after:
            words = _WORD.findall(line)
            if split_before and words:
                words = words[1:]
            if split_after and words:
                words = words[:-1]
            vocab.update(map(str.lower, words))
        else:
            whole.append(line)
        split_before = split_after
    vocab.update(map(str.lower, set(_WORD.findall("\n".join(whole)))))  # no word spans lines
    return vocab


def join_hyphenated(left: str, right: str, vocab: set[str]) -> str:
    """Join two pieces of a word split at a line end by a hyphen ("infra-" + "structure").

    In order: the hyphen is kept if the document writes the hyphenated form elsewhere; dropped if
    the document or the English lexicon knows the joined word; kept after a prefix usually written
    with a hyphen ("self-", "co-") or between two words in their own right ("time-" + "tested");
    otherwise dropped as typographic. Only the pieces next to the break are compared, so
    "counter-terror-" + "ism" gives "counter-terrorism".
    """
    stem = left[:-1]
    head = _WORD.findall(stem)
    tail = _WORD.findall(right)
    first = head[-1].lower().rsplit("-", 1)[-1] if head else ""
    second = tail[0].lower().split("-", 1)[0] if tail else ""
    if not (first and second):
        return stem + right
    known = lexicon()
    if f"{first}-{second}" in vocab:
        return left + right
    if first + second in vocab or first + second in known:
        return stem + right
    if first in _KEEP_HYPHEN_PREFIXES or "-" in head[-1] or "-" in tail[0]:
        return left + right  # "self-" + "reliance", "people-to-" + "people", "to-military"
    if (
        len(first) >= 3
        and len(second) >= 3
        and all(w in vocab or w in known for w in (first, second))
    ):
        return left + right
    return stem + right


def ends_with_line_hyphen(text: str) -> bool:
    """True if ``text`` ends with a hyphen that splits a word (a letter before it)."""
    return len(text) >= 2 and text[-1] in "-‐" and text[-2].isalpha()


def join_lines(lines: list[str], vocab: set[str]) -> tuple[str, list[int]]:
    """Join the hard-wrapped lines of one paragraph into a single line.

    Returns:
        The paragraph, and for each input line the offset in it where that line's text starts.
    """
    out = ""
    starts: list[int] = []
    for raw in lines:
        line = clean_paragraph(raw)
        if not line:
            starts.append(len(out))
        elif not out:
            starts.append(0)
            out = line
        elif ends_with_line_hyphen(out) and line[0].isalpha() and line[0].islower():
            joined = join_hyphenated(out, line, vocab)
            starts.append(len(joined) - len(line))
            out = joined
        elif ends_with_line_hyphen(out) and (line[0].isupper() or line[0].isdigit()):
            starts.append(len(out))  # "intra-" + "Afghan", "pre-" + "2001": a real hyphen
            out = out + line
        else:
            starts.append(len(out) + 1)
            out = f"{out} {line}"
    return out, starts


def assemble(
    paragraphs: list[list[tuple[int, str]]], vocab: set[str], n_pages: int
) -> tuple[str, list[tuple[int, int]]]:
    """Join paragraphs of (page index, line) pairs into canonical text with page spans.

    A paragraph may run over a page break; its lines are joined like any others, and each page's
    span starts at its first line and ends after its last.
    """
    parts: list[str] = []
    first: list[int | None] = [None] * n_pages
    last: list[int] = [0] * n_pages
    length = 0
    for paragraph in paragraphs:
        text, starts = join_lines([line for _, line in paragraph], vocab)
        if not text:
            continue
        if parts:
            parts.append("\n\n")
            length += 2
        ends = [*starts[1:], len(text)]
        for (page, line), offset, end in zip(paragraph, starts, ends):
            if not line.strip():
                continue
            if end > offset and end < len(text) and text[end - 1] == " ":
                end -= 1  # the space that joined this line to the next belongs to neither
            if first[page] is None:
                first[page] = length + offset
            last[page] = max(last[page], length + end)
        parts.append(text)
        length += len(text)
    spans: list[tuple[int, int]] = []
    cursor = 0
    for page in range(n_pages):
        begin = first[page]
        if begin is None:
            spans.append((cursor, cursor))
        else:
            spans.append((begin, last[page]))
            cursor = last[page]
    return "".join(parts), spans
