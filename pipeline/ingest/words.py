"""Positioned words: the common currency between PDF engines and the layout code."""

from __future__ import annotations

import re
from dataclasses import dataclass

_RTL = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")


def is_rtl(text: str) -> bool:
    """True if most letters of ``text`` are Arabic-script or Hebrew (written right to left)."""
    if text.isascii():
        return False
    letters = sum(1 for c in text if c.isalpha())
    return letters > 0 and 2 * len(_RTL.findall(text)) > letters


def has_rtl(text: str) -> bool:
    """True if ``text`` holds any Arabic-script or Hebrew letter (else no part of it is RTL)."""
    return not text.isascii() and _RTL.search(text) is not None


def logical_order(words: list[Word]) -> list[Word]:
    """Reorder a line's words, sorted left to right, so that right-to-left runs read logically."""
    if not has_rtl("".join([word.text for word in words])):
        return words
    out: list[Word] = []
    run: list[Word] = []
    for word in words:
        if is_rtl(word.text):
            run.append(word)
            continue
        out.extend(reversed(run))
        run = []
        out.append(word)
    out.extend(reversed(run))
    return out


@dataclass(slots=True)
class Word:
    """A word on a page, in display coordinates (points, origin top-left, y grows downwards)."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass(slots=True)
class PageWords:
    """All words of one page, plus what the layout code needs to know about the page."""

    number: int
    width: float
    height: float
    words: list[Word]
    has_images: bool = False
