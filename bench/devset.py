"""Load the labelled development set (``tests/devset/devset.jsonl``) with its sentence texts.

Rows hold locations, not text: the UN speeches stay in ``../shared`` (CC0, but not copied into
the repository). Each sentence is recovered from its file and checked against its sha1.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEVSET = ROOT / "tests" / "devset" / "devset.jsonl"
SOURCES = {
    "ungdc": ROOT.parent / "shared" / "data" / "ungdc",
    "sample": ROOT / "corpus" / "sample-src" / "truth",
}
CODES = ("alignment", "securitization", "hedging")


@dataclass(frozen=True)
class Row:
    """A labelled sentence."""

    id: str
    source: str
    path: str
    split: str
    text: str
    codes: frozenset[str]
    subcodes: frozenset[str]


def load_devset(path: Path = DEVSET) -> tuple[list[Row], int]:
    """Return the rows whose source is available, and how many were skipped for lack of it."""
    rows: list[Row] = []
    skipped = 0
    cache: dict[Path, str] = {}
    for line in path.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        file = SOURCES[item["source"]] / item["path"]
        if not file.exists():
            skipped += 1
            continue
        if file not in cache:
            cache[file] = file.read_text(encoding="utf-8-sig")
        text = " ".join(cache[file][item["start"] : item["end"]].split())
        if hashlib.sha1(text.encode("utf-8")).hexdigest() != item["sha1"]:
            raise ValueError(
                f"{path.name} {item['id']}: the text at {item['path']} "
                f"{item['start']}-{item['end']} has changed (sha1 mismatch)"
            )
        rows.append(
            Row(
                item["id"],
                item["source"],
                item["path"],
                item["split"],
                text,
                frozenset(item["codes"]),
                frozenset(item["subcodes"]),
            )
        )
    return rows, skipped
