"""Positioned words: the common currency between PDF engines and the layout code."""

from __future__ import annotations

from dataclasses import dataclass


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
