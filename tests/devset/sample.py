"""Draw the sentences of the next development-set round, and cut them into coders' batches.

Sentences come from the UN General Debate speeches we may train on (Pakistan 1990-2000; the
United States, India, China and Afghanistan 2001-2024; never Pakistan 2001-2024), split as
``dshift`` splits them. Sentences already in ``devset.jsonl`` are left out. The draw is
stratified so that each track gets enough positives and the hard negatives are there on
purpose:

* ``rule:<track>``: the rule coder tags the track (positives, and its false positives);
* ``hard:<kind>``: a word that tempts a coder with no tag from the rules: a threat word
  (security), the United States (alignment), China, the Gulf or Russia (hedging), cooperation
  in general (hedging);
* ``random``: anything else.

The stratum is kept in ``pool.jsonl`` (for analysis) and never shown to coders: a batch holds
only the id, the sentence and one sentence of context either side, shuffled. Seeded; the same
corpus gives the same pool.

    python tests/devset/sample.py [--ungdc-root DIR] [--size 2400]

``--uncertain`` draws the next batch by uncertainty sampling instead: a TF-IDF logistic
regression per track, fitted on the adjudicated round-2 rows (``devset2.jsonl``), scores every
sentence not yet drawn; for the rare tracks it takes the most probable sentences (to add
positives) and those nearest p = 0.5 (where the model is least sure), and for securitization
those nearest 0.5 only. Its batch is ``raw/batch-08.jsonl``; its pool rows ``pool-08.jsonl``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO))

from pipeline.codebook.load import load_codebook  # noqa: E402
from pipeline.coding.nlp import make_nlp  # noqa: E402
from pipeline.coding.rules import RuleCoder  # noqa: E402
from pipeline.coding.segment import parse_paragraphs  # noqa: E402

TRACKS = ("alignment", "securitization", "hedging")
ALLOWED = re.compile(r"^(?:PAK_\d{2}_(199\d|2000)|(?:USA|IND|CHN|AFG)_\d{2}_20\d\d)\.txt$")
HARD = {
    "hard:threat": re.compile(
        r"\b(threat|danger|war|conflict|crisis|violence|attack|weapons?)\b", re.I
    ),
    "hard:us": re.compile(r"\b(United States|America|American|Washington)\b"),
    "hard:partner": re.compile(
        r"\b(China|Chinese|Beijing|Saudi|Gulf|Emirates|Qatar|Kuwait|Russia|Russian|Moscow)\b"
    ),
    "hard:cooperation": re.compile(
        r"\b(cooperation|partnership|multilateral|regional|dialogue)\b", re.I
    ),
}
# Of each stratum, at most this many (the rest of the pool is random sentences).
QUOTA = {"rule:alignment": 420, "rule:securitization": 420, "rule:hedging": 420}
HARD_QUOTA = 180
SPEAKERS = {
    "PAK": "Pakistan",
    "USA": "United States",
    "IND": "India",
    "CHN": "China",
    "AFG": "Afghanistan",
}
SEED = 20011
BATCH = 400
SHOWN = ("id", "speaker", "year", "before", "text", "after")  # what a coder sees of a sentence


def sentences(root: Path, coder: RuleCoder) -> list[dict[str, Any]]:
    """Every sentence of the allowed speeches, with its rule tracks and its neighbours."""
    found = []
    for path in sorted(root.glob("*/*.txt")):
        if not ALLOWED.match(path.name):
            continue
        text = path.read_text(encoding="utf-8-sig")
        spans = []
        for part, doc in parse_paragraphs(coder.nlp, text):
            for coding in coder.code_doc(doc, part.start):
                tracks = sorted({c.split(".")[0] for c in coding.evidence})
                spans.append((coding.start, coding.end, coding.n_words, tracks))
        for i, (start, end, words, tracks) in enumerate(spans):
            if not 6 <= words <= 80:
                continue
            found.append(
                {
                    "path": f"{path.parent.name}/{path.name}",
                    "speaker": SPEAKERS[path.parent.name],
                    "year": int(path.stem.rsplit("_", 1)[1]),
                    "start": start,
                    "end": end,
                    "text": " ".join(text[start:end].split()),
                    "before": " ".join(text[spans[i - 1][0] : spans[i - 1][1]].split())
                    if i
                    else "",
                    "after": " ".join(text[spans[i + 1][0] : spans[i + 1][1]].split())
                    if i + 1 < len(spans)
                    else "",
                    "rule_tracks": tracks,
                }
            )
    return found


def stratum(sentence: dict[str, Any]) -> list[str]:
    """Every stratum a sentence could fill (rule strata first)."""
    strata = [f"rule:{t}" for t in sentence["rule_tracks"]]
    if not sentence["rule_tracks"]:
        strata += [name for name, pattern in HARD.items() if pattern.search(sentence["text"])]
    return strata or ["random"]


def draw(
    found: list[dict[str, Any]], size: int, taken: set[tuple[str, int]]
) -> list[dict[str, Any]]:
    """The pool: quotas per stratum, then random sentences up to ``size``."""
    rng = random.Random(SEED)
    order = [s for s in found if (s["path"], s["start"]) not in taken]
    rng.shuffle(order)
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for sentence in order:
        for name in stratum(sentence):
            by[name].append(sentence)
    pool: dict[tuple[str, int], dict[str, Any]] = {}
    quotas = {**QUOTA, **{name: HARD_QUOTA for name in HARD}}
    for name, quota in quotas.items():
        for sentence in by[name]:
            if sum(1 for s in pool.values() if s["stratum"] == name) >= quota:
                break
            key = (sentence["path"], sentence["start"])
            if key not in pool:
                pool[key] = {**sentence, "stratum": name}
    for sentence in order:
        if len(pool) >= size:
            break
        pool.setdefault((sentence["path"], sentence["start"]), {**sentence, "stratum": "random"})
    chosen = list(pool.values())
    rng.shuffle(chosen)
    return chosen


UNCERTAIN = {"alignment": (90, 90), "hedging": (90, 90), "securitization": (0, 40)}


def uncertain(found: list[dict[str, Any]], taken: set[tuple[str, int]]) -> list[dict[str, Any]]:
    """Uncertainty sampling: per track (most probable, nearest 0.5) quotas from ``UNCERTAIN``."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    rows = [json.loads(line) for line in (HERE / "devset2.jsonl").read_text().splitlines()]
    order = [s for s in found if (s["path"], s["start"]) not in taken]
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    x = vectorizer.fit_transform([r["text"] for r in rows])
    candidates = vectorizer.transform([s["text"] for s in order])
    chosen: dict[tuple[str, int], dict[str, Any]] = {}
    for track, (top, near) in UNCERTAIN.items():
        y = [track in r["codes"] for r in rows]
        model = LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced")
        p = model.fit(x, y).predict_proba(candidates)[:, 1]
        ranked = sorted(range(len(order)), key=lambda i: (-p[i], order[i]["path"], i))
        nearest = sorted(range(len(order)), key=lambda i: (abs(p[i] - 0.5), order[i]["path"], i))
        for picks, name in ((ranked, f"top:{track}"), (nearest, f"uncertain:{track}")):
            quota = top if name.startswith("top") else near
            n = 0
            for i in picks:
                if n >= quota:
                    break
                key = (order[i]["path"], order[i]["start"])
                if key not in chosen:
                    chosen[key] = {**order[i], "stratum": name}
                    n += 1
    out = list(chosen.values())
    random.Random(SEED).shuffle(out)
    return out


def round_one_batch(ungdc: Path, coder: RuleCoder) -> list[dict[str, Any]]:
    """Round 1's sentences (``devset.jsonl``, coded by one hand) as a batch for two coders, with
    the same view as round 2: speaker, year, the sentence and one either side."""
    roots = {"ungdc": ungdc, "sample": REPO / "corpus" / "sample-src" / "truth"}
    spans_of: dict[Path, tuple[str, list[tuple[int, int]]]] = {}
    shown = []
    for row in map(json.loads, (HERE / "devset.jsonl").read_text().splitlines()):
        path = roots[row["source"]] / row["path"]
        if path not in spans_of:
            text = path.read_text(encoding="utf-8-sig")
            spans = [
                (c.start, c.end)
                for part, doc in parse_paragraphs(coder.nlp, text)
                for c in coder.code_doc(doc, part.start)
            ]
            spans_of[path] = (text, spans)
        text, spans = spans_of[path]
        at = min(range(len(spans)), key=lambda i: abs(spans[i][0] - row["start"]))

        def flat(i: int, text: str = text, spans: list[tuple[int, int]] = spans) -> str:
            return " ".join(text[spans[i][0] : spans[i][1]].split()) if 0 <= i < len(spans) else ""

        if row["source"] == "ungdc":
            speaker = SPEAKERS[row["path"].split("/")[0]]
            year = int(Path(row["path"]).stem.rsplit("_", 1)[1])
        else:
            found = re.search(r"(19|20)\d\d", row["path"])  # the file's year, when it names one
            speaker, year = "Pakistan", int(found.group()) if found else None
        shown.append(
            {
                "id": row["id"],
                "speaker": speaker,
                "year": year,
                "before": flat(at - 1),
                "text": " ".join(text[row["start"] : row["end"]].split()),
                "after": flat(at + 1),
            }
        )
    random.Random(SEED).shuffle(shown)
    return shown


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--ungdc-root",
        type=Path,
        default=Path(os.environ.get("DSHIFT_UNGDC", REPO.parent / "shared" / "data" / "ungdc")),
    )
    parser.add_argument("--size", type=int, default=2400)
    parser.add_argument(
        "--round-one",
        action="store_true",
        help="Write raw/batch-07.jsonl: round 1's sentences, for two coders to code again blind.",
    )
    parser.add_argument(
        "--uncertain",
        action="store_true",
        help="Write raw/batch-08.jsonl and pool-08.jsonl by uncertainty sampling (see above).",
    )
    args = parser.parse_args()
    if args.uncertain:
        coder = RuleCoder(load_codebook(REPO / "codebook" / "codebook.yaml"), make_nlp())
        taken = {
            (row["path"], row["start"])
            for name in ("devset.jsonl", "pool.jsonl")
            for row in map(json.loads, (HERE / name).read_text().splitlines())
            if row["source"] == "ungdc"
        }
        drawn = uncertain(sentences(args.ungdc_root, coder), taken)
        with (
            (HERE / "pool-08.jsonl").open("w", encoding="utf-8") as pool_out,
            (HERE / "raw" / "batch-08.jsonl").open("w", encoding="utf-8") as out,
        ):
            for n, sentence in enumerate(drawn, 1):
                sentence = {"id": f"v{n:04d}", "source": "ungdc", **sentence}
                sentence["sha1"] = hashlib.sha1(sentence["text"].encode("utf-8")).hexdigest()
                pool_out.write(json.dumps(sentence, ensure_ascii=False) + "\n")
                shown = {k: sentence[k] for k in SHOWN}
                out.write(json.dumps(shown, ensure_ascii=False) + "\n")
        counts: dict[str, int] = defaultdict(int)
        for sentence in drawn:
            counts[sentence["stratum"]] += 1
        print(f"{len(drawn)} sentences in raw/batch-08.jsonl:", dict(counts))
        return 0
    if args.round_one:
        coder = RuleCoder(load_codebook(REPO / "codebook" / "codebook.yaml"), make_nlp())
        rows = round_one_batch(args.ungdc_root, coder)
        with (HERE / "raw" / "batch-07.jsonl").open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"{len(rows)} round-1 sentences in raw/batch-07.jsonl")
        return 0
    taken = {
        (row["path"], row["start"])
        for row in map(json.loads, (HERE / "devset.jsonl").read_text().splitlines())
        if row["source"] == "ungdc"
    }
    coder = RuleCoder(load_codebook(REPO / "codebook" / "codebook.yaml"), make_nlp())
    pool = draw(sentences(args.ungdc_root, coder), args.size, taken)
    raw = HERE / "raw"
    raw.mkdir(exist_ok=True)
    with (HERE / "pool.jsonl").open("w", encoding="utf-8") as out:
        for n, sentence in enumerate(pool, 1):
            sentence = {"id": f"u{n:04d}", "source": "ungdc", **sentence}
            sentence["sha1"] = hashlib.sha1(sentence["text"].encode("utf-8")).hexdigest()
            out.write(json.dumps(sentence, ensure_ascii=False) + "\n")
            pool[n - 1] = sentence
    for b in range(0, len(pool), BATCH):
        with (raw / f"batch-{b // BATCH + 1:02d}.jsonl").open("w", encoding="utf-8") as out:
            for sentence in pool[b : b + BATCH]:
                shown = {k: sentence[k] for k in SHOWN}
                out.write(json.dumps(shown, ensure_ascii=False) + "\n")
    counts: dict[str, int] = defaultdict(int)
    for sentence in pool:
        counts[sentence["stratum"]] += 1
    print(f"{len(pool)} sentences in {(len(pool) + BATCH - 1) // BATCH} batches:", dict(counts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
