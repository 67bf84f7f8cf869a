"""``dshift tag``: stateless coding of JSON Lines, for scripts and outside tools.

Input, one object per line: ``{"id": ..., "text": "...", "year": 2015, "source_type": "mofa"}``
(year and source_type optional). Output, one line per input in the same order:
``{"id", "codes", "subcodes", "partners", "evidence": [{"code", "pattern", "start", "end",
"text"}]}`` with offsets into the input text. This is a stable interface.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pipeline.coding.rules import About, RuleCoder
from pipeline.models import SOURCE_TYPES


@dataclass(frozen=True)
class BadLine:
    """An input line that cannot be coded, and why."""

    line: int
    reason: str


def _check(raw: str, number: int) -> dict[str, Any] | BadLine:
    try:
        item = json.loads(raw)
    except json.JSONDecodeError as exc:
        return BadLine(number, f"not valid JSON ({exc.msg} at column {exc.colno})")
    if not isinstance(item, dict):
        return BadLine(number, "each line must be a JSON object with 'id' and 'text'")
    if "id" not in item or not isinstance(item["id"], (str, int)):
        return BadLine(number, "missing 'id' (a string or a number)")
    if not isinstance(item.get("text"), str):
        return BadLine(number, "missing 'text' (a string)")
    year = item.get("year")
    if year is not None and (not isinstance(year, int) or isinstance(year, bool)):
        return BadLine(number, f"'year' must be a whole number, not {year!r}")
    source_type = item.get("source_type")
    if source_type is not None and source_type not in SOURCE_TYPES:
        return BadLine(number, f"'source_type' must be one of {', '.join(SOURCE_TYPES)}")
    return item


def tag_lines(coder: RuleCoder, lines: Iterable[str]) -> Iterator[str | BadLine]:
    """Yield one JSON output line per input line, or a :class:`BadLine`. Blank lines are skipped."""
    codebook = coder.codebook
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        item = _check(raw, number)
        if isinstance(item, BadLine):
            yield item
            continue
        codes: set[str] = set()
        subcodes: set[str] = set()
        partners: set[str] = set()
        evidence: list[dict[str, Any]] = []
        about = About(source_type=item.get("source_type") or "")
        for coding in coder.code_text(item["text"], about):
            partners.update(coding.partners)
            for code, found in coding.evidence.items():
                top = codebook.top_level(code)
                codes.add(top)
                if code != top:
                    subcodes.add(code)
                evidence.extend(
                    {
                        "code": e.code,
                        "pattern": e.pattern,
                        "start": e.start,
                        "end": e.end,
                        "text": e.text,
                    }
                    for e in found
                )
        yield json.dumps(
            {
                "id": item["id"],
                "codes": sorted(codes),
                "subcodes": sorted(subcodes),
                "partners": sorted(partners),
                "evidence": evidence,
            },
            ensure_ascii=False,
        )
