"""Index benchmark: time to index and export 50,000 segments against reading the final codes.

In one run and one process:

1. Build a synthetic corpus store of about 50,000 coded segments (seeded): 2,000 documents over
   24 years and the five source types, sentences with random tags of the default codebook's codes
   and partners, written through the store's own methods.
2. ``read``: reading the final codes out of the store into the segment frame
   (``pipeline.indices.run.load_frame``), the unavoidable cost.
3. ``index``: on that frame, every tidy index (per period, code, source type and partner) and
   every composite index with 1,000 bootstrap draws, and the flagged shifts.
4. ``export``: the whole ``dshift export`` (read again, index, coded-segment table, document
   matrix, CSV and Parquet files, manifest, dictionary).

Prints the times and the ratios index / read (target: under 5x) and export / read. Figures also
go to ``bench/out/index.json``. Usage: ``python bench/index.py [--segments N]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import tempfile
import time
from pathlib import Path

from pipeline.codebook.load import load_codebook
from pipeline.coding.nlp import DEFAULT_SEGMENTER
from pipeline.coding.rules import CODER
from pipeline.exports.stage import ExportSettings
from pipeline.exports.stage import run as export
from pipeline.indices.composite import composite_indices
from pipeline.indices.compute import compute_indices
from pipeline.indices.shifts import flag_shifts
from pipeline.indices.stage import IndexSettings, load_frame
from pipeline.ingest.metadata import resolve
from pipeline.models import Extraction, MetaValue, Sighting
from pipeline.stage import Context
from pipeline.store import Store, connect
from pipeline.store.coding import SegmentToSave, TagToSave

ROOT = Path(__file__).resolve().parents[1]
CODEBOOK = ROOT / "codebook" / "codebook.yaml"
OUT = ROOT / "bench" / "out"
SOURCES = ("mofa", "ispr", "treaty", "speech", "other")


def build_store(store: Store, segments: int, documents: int, seed: int = 7) -> None:
    book = load_codebook(CODEBOOK)
    leaves = [c for c in book.codes if book.codes[c].parent is not None]
    partners = list(book.partners)
    rng = random.Random(seed)
    run_id = store.start_run("bench", {})
    store.record_codebook(
        book.version, book.name, str(CODEBOOK), CODEBOOK.read_text("utf-8"), run_id
    )
    per_doc = segments // documents
    for number in range(documents):
        year = 2001 + number % 24
        sentence = "Pakistan and its partners discussed regional security and trade. "
        text = sentence * per_doc
        sha = hashlib.sha256(f"doc{number}".encode()).hexdigest()
        values = [
            MetaValue("date", f"{year}-06-01", "text"),
            MetaValue("source_type", SOURCES[number % 5], "text"),
        ]
        doc_id = store.add_document(
            sha256=sha,
            text_sha256=sha,
            extraction=Extraction("txt", text, [(0, len(text))], {}, "bench"),
            sighting=Sighting(f"/bench/{number}.txt", f"{number}.txt", len(text), 0),
            metadata=values,
            resolved=resolve((v, "") for v in values),
            run_id=run_id,
            supersedes=None,
        )
        saved, tags = [], []
        for seq in range(per_doc):
            start = seq * len(sentence)
            sid = f"s{number:05d}{seq:04d}"
            found = rng.sample(partners, rng.choice([0, 0, 1, 2]))
            saved.append(SegmentToSave(sid, seq, start, start + len(sentence) - 1, 10, found))
            for code in rng.sample(leaves, rng.choice([0, 0, 0, 1, 1, 2])):
                tags.append(
                    TagToSave(
                        sid,
                        code,
                        book.top_level(code),
                        0.8,
                        found,
                        [
                            {
                                "code": code,
                                "pattern": "bench",
                                "start": start,
                                "end": start + 8,
                                "text": "Pakistan",
                            }
                        ],
                    )
                )
        store.save_coding(doc_id, DEFAULT_SEGMENTER, CODER, book.version, run_id, saved, tags)
    store.finish_run(run_id, "completed", {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--segments", type=int, default=50_000)
    parser.add_argument("--documents", type=int, default=2_000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    book = load_codebook(CODEBOOK)
    settings = IndexSettings(n_boot=1000)
    with tempfile.TemporaryDirectory() as folder:
        store = connect(Path(folder) / "bench.sqlite")
        build_store(store, args.segments, args.documents)
        started = time.perf_counter()
        frame = load_frame(store, book)
        read = time.perf_counter() - started
        started = time.perf_counter()
        tidy = compute_indices(frame, list(book.codes), list(book.partners), n_boot=1000)
        composites = composite_indices(frame, n_boot=1000)
        flag_shifts(tidy[tidy["breakdown"] == "overall"])
        index = time.perf_counter() - started
        started = time.perf_counter()
        outputs = Path(folder) / "outputs"
        context = Context(store=store, book=book, outputs=outputs, models=outputs / "models")
        tables = export(context, ExportSettings(settings, arguments={"bench": True})).tables
        whole = time.perf_counter() - started
        store.close()
    print(
        f"corpus: {len(frame):,} segments, {frame['document_id'].nunique():,} documents, "
        f"{int(frame['year'].nunique())} years; {settings.n_boot} bootstrap draws"
    )
    print(f"read final codes into the segment frame          {read:7.2f} s")
    print(
        f"indices: {len(tidy):,} tidy and {len(composites):,} composite rows       {index:7.2f} s"
    )
    print(f"whole export (read, index, tables, CSV, Parquet)  {whole:7.2f} s")
    ratio = index / read
    print(f"index / read = {ratio:.1f}x (target < 5x): {'PASS' if ratio < 5 else 'FAIL'}")
    print(
        f"whole export / read = {whole / read:.1f}x "
        f"({len(tables.segments):,} coded-segment rows with their text)"
    )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "index.json").write_text(
        json.dumps(
            {
                "segments": len(frame),
                "read_seconds": read,
                "index_seconds": index,
                "export_seconds": whole,
                "index_ratio": ratio,
                "export_ratio": whole / read,
                "n_boot": settings.n_boot,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
