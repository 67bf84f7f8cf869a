"""Small pure helpers the page templates need: highlighted text, the codes a form starts with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Piece:
    """A stretch of a segment's text, marked when the machine found evidence in it."""

    text: str
    code: str | None = None
    pattern: str = ""


def highlight(text: str, spans: Any) -> list[Piece]:
    """Cut ``text`` at the machine's evidence spans (overlapping spans: the first wins)."""
    pieces: list[Piece] = []
    at = 0
    for span in spans:
        if span.start < at or span.end > len(text):
            continue
        if span.start > at:
            pieces.append(Piece(text[at : span.start]))
        pieces.append(Piece(text[span.start : span.end], span.code, span.pattern))
        at = span.end
    if at < len(text):
        pieces.append(Piece(text[at:]))
    return pieces


def item_codes(item: Any) -> set[str]:
    """The codes the form starts with: the coder's own if they decided the segment, else the
    machine's (none when coding blind: the item then carries no machine codes)."""
    if item.mine is not None:
        return set(item.mine)
    return set(item.machine_codes)


def percent(value: Any) -> str:
    """A share as a whole percentage ("—" when missing)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "—"
    if number != number:  # NaN
        return "—"
    return f"{number:.0%}"


def describe(codes: Any, tracks: Any) -> str:
    """A set of codes in words, track by track: "Hedging and diversification (China, Russia) ·
    Securitization"; "no code" when empty. Codes not in ``tracks`` are given by id."""
    given = set(codes)
    parts = []
    for track in tracks:
        subs = [s.label for s in track.subcodes if s.id in given]
        if track.code.id in given or subs:
            parts.append(track.code.label + (f" ({', '.join(subs)})" if subs else ""))
        given -= {track.code.id, *(s.id for s in track.subcodes)}
    parts.extend(sorted(given))
    return " · ".join(parts) if parts else "no code"
