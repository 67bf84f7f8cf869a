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


DEVSET2 = ROOT / "tests" / "devset" / "devset2.jsonl"

from pipeline.learning.training import about_row  # noqa: E402


@dataclass(frozen=True)
class Labelled:
    """A double-coded sentence of round 2, with what its coders saw."""

    id: str
    source: str
    path: str
    split: str
    speaker: str
    year: int | None
    before: str
    text: str
    after: str
    codes: frozenset[str]
    subcodes: frozenset[str]
    kind: str = ""
    title: str = ""

    @property
    def document(self) -> str:
        """The group of grouped cross-validation: one speech or one written document."""
        return f"{self.source}:{self.path}"

    @property
    def country(self) -> str:
        """The group left out in leave-one-country-out: the speaker, and Pakistan's releases
        (the sample corpus and the written register) apart from its UN speeches."""
        if self.source in ("sample", "register"):
            return "Pakistan releases"
        return "Pakistan UN 1990-2000" if self.speaker == "Pakistan" else self.speaker


def load_devset2(path: Path = DEVSET2) -> list[Labelled]:
    """Every row of ``devset2.jsonl`` (their text is stored: no ../shared needed)."""
    rows = []
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            rows.append(
                Labelled(
                    item["id"],
                    item["source"],
                    item["path"],
                    item["split"],
                    item["speaker"],
                    item.get("year"),
                    item["before"],
                    item["text"],
                    item["after"],
                    frozenset(item["codes"]),
                    frozenset(item["subcodes"]),
                    *about_row(item),
                )
            )
    return rows
