"""Cut the documents written in the register of the users' sources into coders' batches.

``corpus/sample-src/register/rNNN-*.md`` are press releases, spokesperson's briefings, ISPR
releases, joint statements and agreements written for this project (invented, in our own words,
in the format of ``corpus/sample-src/FORMAT.md``). Their body is read as ``build.py`` reads it
(paragraphs, "# " stripped, joined by a blank line) and split into sentences as ``dshift``
splits them. Every sentence of 4 to 80 words goes into ``pool-register.jsonl`` (its place in the
text, its SHA-1, its neighbours) and, shuffled, into batches from ``raw/batch-09.jsonl`` on.
A coder sees what the UN batches show plus the document: its kind and title (``document``),
because a release's title often names the partner its sentences call "the two sides".

    python tests/devset/register.py
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO))

from pipeline.codebook.load import load_codebook  # noqa: E402
from pipeline.coding.nlp import make_nlp  # noqa: E402
from pipeline.coding.rules import RuleCoder  # noqa: E402
from pipeline.coding.segment import parse_paragraphs  # noqa: E402

FOLDER = REPO / "corpus" / "sample-src" / "register"
SEED = 20011
FIRST_BATCH = 9
BATCHES = 6
KINDS = {
    "mofa": "Ministry of Foreign Affairs release",
    "ispr": "ISPR (military) press release",
    "treaty": "joint statement or agreement",
}
DATELINE = re.compile(r"^[A-Z][A-Za-z .'-]+, \d{1,2} [A-Z][a-z]+ \d{4}$")


def read(path: Path) -> tuple[dict[str, str], str]:
    """Front matter and the body text (the sample corpus's "truth" form)."""
    text = unicodedata.normalize("NFC", path.read_text(encoding="utf-8"))
    _, front, body = text.split("---\n", 2)
    meta = {}
    for line in front.splitlines():
        key, _, value = line.partition(":")
        meta[key.strip()] = re.sub(r"\s{2,}#.*$", "", value).strip()
    blocks = [" ".join(b.split()) for b in re.split(r"\n\s*\n", body) if b.strip()]
    blocks = [b[2:] if b.startswith("# ") else b for b in blocks]
    return meta, "\n\n".join(blocks)


def sentences(coder: RuleCoder) -> list[dict[str, Any]]:
    found = []
    for path in sorted(FOLDER.glob("r[0-9][0-9][0-9]-*.md")):
        meta, text = read(path)
        spans = [
            (c.start, c.end, c.n_words)
            for part, doc in parse_paragraphs(coder.nlp, text)
            for c in coder.code_doc(doc, part.start)
        ]

        def flat(i: int, text: str = text, spans: list[tuple[int, int, int]] = spans) -> str:
            return " ".join(text[spans[i][0] : spans[i][1]].split()) if 0 <= i < len(spans) else ""

        for i, (start, end, words) in enumerate(spans):
            sentence = flat(i)
            if not 4 <= words <= 80 or DATELINE.match(sentence):
                continue
            found.append(
                {
                    "source": "register",
                    "path": path.name,
                    "speaker": "Pakistan",
                    "year": int(meta["date"][:4]),
                    "document": f"{KINDS.get(meta.get('source_type', ''), 'document')}: "
                    f"{meta.get('title', '')}",
                    "start": start,
                    "end": end,
                    "text": sentence,
                    "sha1": hashlib.sha1(sentence.encode("utf-8")).hexdigest(),
                    "before": flat(i - 1),
                    "after": flat(i + 1),
                    "stratum": f"register:{meta.get('source_type', '')}",
                }
            )
    return found


def main() -> int:
    coder = RuleCoder(load_codebook(REPO / "codebook" / "codebook.yaml"), make_nlp())
    found = sentences(coder)
    found = [{"id": f"w{n:04d}", **row} for n, row in enumerate(found, 1)]
    with (HERE / "pool-register.jsonl").open("w", encoding="utf-8") as out:
        for row in found:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    shown = [
        {k: row[k] for k in ("id", "speaker", "year", "document", "before", "text", "after")}
        for row in found
    ]
    random.Random(SEED).shuffle(shown)
    size = -(-len(shown) // BATCHES)
    for b in range(BATCHES):
        name = HERE / "raw" / f"batch-{FIRST_BATCH + b:02d}.jsonl"
        with name.open("w", encoding="utf-8") as out:
            for row in shown[b * size : (b + 1) * size]:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    documents = len({row["path"] for row in found})
    print(f"{len(found)} sentences from {documents} documents in {BATCHES} batches of <= {size}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
