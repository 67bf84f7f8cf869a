"""Scaling benchmark: ingest and coding serial, on a local pool and on a Dask cluster, in one run.

On a generated drop of at least 2,000 two-column PDFs (``bench/ingest.py``'s seeded generator;
the files are reused between runs), each in a fresh SQLite store:

1. ingest (read, canonicalise, store): in this process (``SerialExecutor``), a local pool of one
   and of two workers, and a Dask ``LocalCluster`` of two workers (127.0.0.1);
2. coding with the default coder (segment, code, store) of the documents ingested: in this
   process, one and two local workers, two Dask workers, each on a fresh copy of the store;
3. SQLite write throughput: the coding stage's writes alone (segments, tags), rows per second;
4. peak memory (RSS high-water mark) of this process, the client.

Printed: seconds, pages or words per second, and the ratios the targets check (two workers
against one: target >= 1.7). Then the same coding in this process into a PostgreSQL store (a
server started here as the tests start theirs, with fsync on; the store filled by ``dshift store
copy``), for PostgreSQL's write throughput against SQLite's. Figures also go to
``bench/out/scale.json``.

Usage: ``python bench/scale.py [--files N]`` (default 2,000; ``--files 200`` for a smoke run).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the PostgreSQL server
import ingest as generator  # the seeded two-column PDF generator

from pipeline.codebook.load import load_codebook
from pipeline.coding.run import code_corpus
from pipeline.coding.tasks import CoderSpec
from pipeline.executor import DaskExecutor, Executor, LocalExecutor, SerialExecutor
from pipeline.ingest.options import IngestSettings
from pipeline.ingest.run import ingest
from pipeline.ingest.worker import warm_up_reader
from pipeline.registry import DEFAULT_CODER
from pipeline.store import connect
from pipeline.store.copy import copy_store

ROOT = Path(__file__).resolve().parents[1]
CODEBOOK = ROOT / "codebook" / "codebook.yaml"
OUT = ROOT / "bench" / "out"


def executors(kind: str, jobs: int, *, reading: bool) -> Executor:
    limits: dict[str, Any] = (
        {"timeout": 120.0, "max_memory_mb": 2048, "warm_up": warm_up_reader}
        if reading
        else {"timeout": None, "max_memory_mb": None, "warm_up": None}
    )
    if kind == "serial":
        return SerialExecutor()
    if kind == "local":
        return LocalExecutor(jobs=jobs, **limits)
    return DaskExecutor(workers=jobs, **limits)


RUNS = [("serial", 1), ("local", 1), ("local", 2), ("dask", 2)]


def timed_ingest(drop: Path, store_path: Path, kind: str, jobs: int) -> tuple[float, int]:
    executor = executors(kind, jobs, reading=True)  # started before the clock: start-up apart
    try:
        store = connect(store_path)
        started = time.perf_counter()
        summary = ingest(store, [drop], IngestSettings(jobs=jobs), executor=executor)
        seconds = time.perf_counter() - started
        store.close()
    finally:
        executor.close()
    return seconds, summary.new


def timed_coding(
    source: Path, folder: Path, kind: str, jobs: int, target: str | None = None
) -> tuple[float, Any]:
    """Code the documents of ``source`` (a SQLite store) in a copy of it: a SQLite file in
    ``folder``, or the PostgreSQL database ``target`` (filled with ``dshift store copy``)."""
    if target is None:
        target = str(folder / f"code-{kind}-{jobs}.sqlite")
        shutil.copy(source, target)
    else:
        began = time.perf_counter()
        copied = copy_store(str(source), target)
        print(
            f"  store copy SQLite -> PostgreSQL: {copied.rows:,} rows, verified, in "
            f"{time.perf_counter() - began:.1f} s"
        )
    book = load_codebook(CODEBOOK)
    spec = CoderSpec(DEFAULT_CODER, book, None)
    coder = spec.build()
    executor = None if kind == "serial" else executors(kind, jobs, reading=False)
    writing = [0.0]
    try:
        store = connect(target)
        save = store.save_codings

        def timed_save(codings: Any) -> None:  # the store's writes alone
            began = time.perf_counter()
            save(codings)
            writing[0] += time.perf_counter() - began

        store.save_codings = timed_save  # type: ignore[method-assign]
        started = time.perf_counter()
        summary = code_corpus(
            store,
            book,
            CODEBOOK.read_text("utf-8"),
            coder=coder,
            executor=executor,
            spec=spec if executor else None,
        )
        seconds = time.perf_counter() - started
        store.close()
    finally:
        if executor is not None:
            executor.close()
    summary.write_seconds = writing[0]
    return seconds, summary


def postgres_writes(source: Path, folder: Path, figures: dict[str, Any]) -> None:
    """Code the same documents in this process into a PostgreSQL store on a server started
    here (the tests' fixture: Debian's PostgreSQL in a temporary folder, fsync on), timing the
    store's writes alone; skipped, saying why, where no server can be started."""
    import psycopg

    from tests.postgres_server import start

    server = start(folder / "postgres", fsync=True)
    if isinstance(server, str):
        print(f"PostgreSQL write throughput: not measured ({server})")
        return
    try:
        with psycopg.connect(server.url, autocommit=True) as db:
            db.execute("CREATE DATABASE bench")
        target = server.url.rsplit("/", 1)[0] + "/bench"
        seconds, summary = timed_coding(source, folder, "serial", 1, target=target)
        rows = summary.segments + summary.tags
        print(
            f"{'serial x1, PostgreSQL':24} {seconds:8.1f} {summary.words / seconds:9,.0f}"
            f"   (writes: {rows:,} rows in {summary.write_seconds:.2f} s)"
        )
        figures["coding"]["serial-1-postgresql"] = {
            "seconds": seconds,
            "segments": summary.segments,
            "tags": summary.tags,
            "write_seconds": summary.write_seconds,
        }
        figures["postgres_rows_per_second"] = rows / summary.write_seconds
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=2000, help="PDFs in the drop")
    args = parser.parse_args()
    files, generated, gen_seconds = generator.ensure_corpus(args.files, 0)
    drop = generator.make_drop(files)
    pages = sum(f.pages for f in files)
    print(
        f"drop: {len(files)} PDFs, {pages:,} pages ({generated} generated in {gen_seconds:.0f} s)"
    )
    figures: dict[str, Any] = {"files": len(files), "pages": pages, "ingest": {}, "coding": {}}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"\n{'ingest':24} {'seconds':>8} {'pages/s':>9}")
        for kind, jobs in RUNS:
            path = folder / f"ingest-{kind}-{jobs}.sqlite"
            seconds, new = timed_ingest(drop, path, kind, jobs)
            figures["ingest"][f"{kind}-{jobs}"] = {"seconds": seconds, "documents": new}
            print(f"{kind + ' x' + str(jobs):24} {seconds:8.1f} {pages / seconds:9.1f}")
        source = folder / "ingest-serial-1.sqlite"
        print(f"\n{'coding (' + DEFAULT_CODER + ')':24} {'seconds':>8} {'words/s':>9}")
        words = 0
        for kind, jobs in RUNS:
            seconds, summary = timed_coding(source, folder, kind, jobs)
            words = summary.words
            figures["coding"][f"{kind}-{jobs}"] = {
                "seconds": seconds,
                "documents": summary.documents,
                "segments": summary.segments,
                "tags": summary.tags,
                "write_seconds": summary.write_seconds,
            }
            print(f"{kind + ' x' + str(jobs):24} {seconds:8.1f} {words / seconds:9,.0f}")
        figures["words"] = words
        postgres_writes(source, folder, figures)
    ingest_s = {k: v["seconds"] for k, v in figures["ingest"].items()}
    coding_s = {k: v["seconds"] for k, v in figures["coding"].items()}
    ratios = {
        "ingest: 2 local workers / 1": ingest_s["local-1"] / ingest_s["local-2"],
        "ingest: 2 Dask workers / 1 local": ingest_s["local-1"] / ingest_s["dask-2"],
        "coding: 2 local workers / 1": coding_s["local-1"] / coding_s["local-2"],
        "coding: 2 Dask workers / 1 local": coding_s["local-1"] / coding_s["dask-2"],
        "coding: 2 local workers / in process": coding_s["serial-1"] / coding_s["local-2"],
    }
    print()
    for name, ratio in ratios.items():
        targeted = "local workers / 1" in name  # the target is the local pool's efficiency
        verdict = f" (target >= 1.7): {'PASS' if ratio >= 1.7 else 'FAIL'}" if targeted else ""
        print(f"{name:40} {ratio:5.2f}x{verdict}")
    serial = figures["coding"]["serial-1"]
    rows = serial["segments"] + serial["tags"]
    write = serial["write_seconds"]
    print(f"SQLite writes: {rows:,} segment and tag rows in {write:.2f} s = {rows / write:,.0f}/s")
    figures["sqlite_rows_per_second"] = rows / write
    if "postgres_rows_per_second" in figures:
        pg = figures["postgres_rows_per_second"]
        print(f"PostgreSQL writes: {pg:,.0f} rows/s = {pg / (rows / write):.2f}x SQLite's")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process (the client): {peak:.0f} MB")
    figures["ratios"] = ratios
    figures["client_peak_mb"] = peak
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "scale.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
