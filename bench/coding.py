"""Coding benchmark: words per second for segment + code + store, against a bare spaCy pass.

What is measured, in one run and one process (pinned to one core):

1. Corpus of at least one million words. The real UN General Assembly speeches in
   ``../shared/data/ungdc`` when present (all countries, all years), topped up with documents
   assembled from the sentences of our own sample corpus (``corpus/sample-src/truth``), shuffled
   with a fixed seed, until the total reaches the target. The texts are stored as documents in a
   fresh temporary corpus store (no PDF reading: this benchmark is about coding).
2. Bare pass: ``spacy.blank("en")`` with the sentencizer and spaCy's lookup lemmatizer, run with
   ``nlp.pipe`` over the same paragraphs, touching every sentence.
3. Ours: ``pipeline.coding.run.code_corpus`` with the default codebook: segmentation, the
   lemmas, the coder and writing segments, tags and partners to SQLite; once with the default
   coder (``learned.v1``: the rules, then the model over every sentence and its neighbours) and
   once with ``rules.v1`` alone, each into a fresh store.

Steps 2 and 3 run in five interleaved rounds (``--repeat``), each coder built afresh every
round (its caches cold, its loading untimed), so that drift in the machine's speed hits every
pass alike. Printed: words, the median seconds and words/s of each, and the ratio ours / bare
per round and its median, for both coders (target for the default coder >= 40%).
Figures also go to ``bench/out/coding.json``. Usage: ``python bench/coding.py [--words N]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import spacy

from pipeline.codebook.load import load_codebook
from pipeline.coding.run import code_corpus
from pipeline.coding.segment import paragraphs
from pipeline.ingest.formats import read_text
from pipeline.ingest.metadata import resolve
from pipeline.models import Extraction, Sighting
from pipeline.registry import DEFAULT_CODER, coders
from pipeline.store import Store, connect

ROOT = Path(__file__).resolve().parents[1]
UNGDC = ROOT.parent / "shared" / "data" / "ungdc"
TRUTH = ROOT / "corpus" / "sample-src" / "truth"
CODEBOOK = ROOT / "codebook" / "codebook.yaml"
OUT = ROOT / "bench" / "out"
_WORD = re.compile(r"\w+")


def words_in(text: str) -> int:
    return len(_WORD.findall(text))


def build_corpus(target: int, seed: int = 2001) -> list[tuple[str, str]]:
    """Return (name, canonical text) pairs totalling at least ``target`` words."""
    texts: list[tuple[str, str]] = []
    total = 0
    if UNGDC.is_dir():
        for path in sorted(UNGDC.rglob("*.txt")):
            text = read_text(path.read_bytes(), str(path)).text
            texts.append((path.name, text))
            total += words_in(text)
    sentences = [
        s
        for path in sorted(TRUTH.glob("*.txt"))
        for p in path.read_text("utf-8").split("\n\n")
        for s in re.split(r"(?<=[.!?])\s+", p)
        if words_in(s) >= 4
    ]
    rng = random.Random(seed)
    number = 0
    while total < target:
        paras = []
        for _ in range(rng.randint(8, 20)):
            paras.append(" ".join(rng.choice(sentences) for _ in range(rng.randint(2, 6))))
        text = "\n\n".join(paras)
        texts.append((f"generated-{number:05d}.txt", text))
        total += words_in(text)
        number += 1
    return texts


def fill_store(store: Store, texts: list[tuple[str, str]]) -> None:
    run_id = store.start_run("bench", {})
    for name, text in texts:
        sha = hashlib.sha256(f"{name}\n{text}".encode()).hexdigest()
        store.add_document(
            sha256=sha,
            text_sha256=sha,
            extraction=Extraction("txt", text, [(0, len(text))], {}, "bench"),
            sighting=Sighting(f"/bench/{name}", name, len(text), 0),
            metadata=[],
            resolved=resolve([]),
            run_id=run_id,
            supersedes=None,
        )
    store.finish_run(run_id, "completed", {})


def bare_pass(texts: list[tuple[str, str]]) -> float:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    parts = [p.text for _, text in texts for p in paragraphs(text)]
    started = time.perf_counter()
    sentences = 0
    for doc in nlp.pipe(parts, batch_size=256):
        sentences += sum(1 for _ in doc.sents)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--words", type=int, default=1_000_000, help="corpus size in words")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds (median)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    texts = build_corpus(args.words)
    words = sum(words_in(t) for _, t in texts)
    real = sum(1 for name, _ in texts if not name.startswith("generated-"))
    print(
        f"corpus: {len(texts)} documents, {words:,} words "
        f"({real} real UN speeches, the rest assembled from sample-corpus sentences)"
    )
    book = load_codebook(CODEBOOK)
    names = (DEFAULT_CODER, "rules.v1")
    rounds: list[dict[str, float]] = []
    summaries: dict[str, Any] = {}
    for _ in range(args.repeat):  # interleaved, so that drift in machine speed hits all alike
        times = {"bare": bare_pass(texts)}
        for name in names:
            coder = coders.get(name).load()(book, name=name, models=None)  # fresh: cold caches
            with tempfile.TemporaryDirectory() as folder:
                store = connect(Path(folder) / "bench.sqlite")
                fill_store(store, texts)
                started = time.perf_counter()
                summaries[name] = code_corpus(store, book, CODEBOOK.read_text("utf-8"), coder=coder)
                times[name] = time.perf_counter() - started
                store.close()
        rounds.append(times)
    bare = statistics.median(r["bare"] for r in rounds)
    timed = {name: (statistics.median(r[name] for r in rounds), summaries[name]) for name in names}
    rows = [("bare spaCy: blank('en') + sentencizer + lookup lemmatizer", bare)]
    rows += [(f"ours: segment + {name} + store (code_corpus)", t) for name, (t, _) in timed.items()]
    heading = f"pass (median of {args.repeat} interleaved rounds)"
    print(f"{heading:60} {'seconds':>8} {'words/s':>10}")
    for label, seconds in rows:
        print(f"{label:60} {seconds:8.2f} {words / seconds:10,.0f}")
    ratios = {name: [r["bare"] / r[name] for r in rounds] for name in names}
    for name, (_, summary) in timed.items():
        ratio = statistics.median(ratios[name])
        verdict = (
            f" (target >= 40%): {'PASS' if ratio >= 0.4 else 'FAIL'}"
            if name == DEFAULT_CODER
            else ""
        )
        each = ", ".join(f"{x:.1%}" for x in ratios[name])
        print(
            f"{name}: segments {summary.segments:,}, tags {summary.tags:,}; "
            f"ours / bare = {ratio:.1%} of the bare pass's speed (median; rounds {each}){verdict}"
        )
    ours, summary = timed[DEFAULT_CODER]
    ratio = statistics.median(ratios[DEFAULT_CODER])
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "coding.json").write_text(
        json.dumps(
            {
                "documents": len(texts),
                "words": words,
                "real_documents": real,
                "bare_seconds": bare,
                "ours_seconds": ours,
                "bare_words_per_second": words / bare,
                "ours_words_per_second": words / ours,
                "ratio": ratio,
                "coder": DEFAULT_CODER,
                "rules_seconds": timed["rules.v1"][0],
                "rules_ratio": bare / timed["rules.v1"][0],
                "segments": summary.segments,
                "tags": summary.tags,
                "rounds": rounds,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
