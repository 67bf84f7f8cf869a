"""Review-page benchmark: how long serving a coder's next segment takes on a big store.

In one run:

1. A workspace whose store holds about 100,000 coded segments (seeded: ``bench/index.py``'s
   synthetic corpus of 2,000 documents, written through the store's own methods).
2. ``dshift serve``'s app started for real (uvicorn on 127.0.0.1, in a thread), one coder
   logged in. The first ``GET /code`` builds the queues (every segment ordered by the review
   strategy): timed on its own.
3. Then the coder's loop, 300 times: ``GET /code`` (the next segment, rendered: the figure the
   target is about) and ``POST /code`` (the decision, then the redirect). Median and 95th
   percentile of each, in milliseconds, wall clock as the browser would see it.

Target: the next segment in <= 50 ms (median and 95th percentile). Figures also go to
``bench/out/serve.json``. Usage: ``python bench/serve.py [--segments N] [--rounds N]``.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from index import build_store

from pipeline.coding.rules import CODER
from pipeline.store import connect
from pipeline.workspace import init_workspace
from tests.web_server import serving

OUT = Path(__file__).resolve().parent / "out"
TARGET_MS = 50.0
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
SEGMENT = re.compile(r'data-segment="([^"]+)"')


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        workspace = init_workspace(Path(folder) / "ws")
        started = time.perf_counter()
        with connect(workspace.store) as store:
            build_store(store, args.segments, 2_000)
            store.set_active_coder(CODER)
            count = store.db.execute("SELECT count(*) FROM segments").fetchone()[0]
        built = time.perf_counter() - started
        print(f"store: {count:,} segments in 2,000 documents (built in {built:.0f} s)")
        with serving(workspace.root) as base, httpx.Client(timeout=120) as client:
            page = client.get(f"{base}/login")
            client.post(f"{base}/login", data={"csrf": CSRF.search(page.text)[1], "name": "bench"})
            started = time.perf_counter()
            page = client.get(f"{base}/code")
            first = time.perf_counter() - started
            nexts, posts = [], []
            for _ in range(args.rounds):
                segment = SEGMENT.search(page.text)[1]
                csrf = CSRF.search(page.text)[1]
                started = time.perf_counter()
                client.post(
                    f"{base}/code", data={"csrf": csrf, "segment": segment, "codes": ["hedging"]}
                )
                posts.append(1000 * (time.perf_counter() - started))
                started = time.perf_counter()
                page = client.get(f"{base}/code")
                nexts.append(1000 * (time.perf_counter() - started))
                assert page.status_code == 200 and SEGMENT.search(page.text), page.text[:500]
    figures = {
        "segments": count,
        "rounds": args.rounds,
        "first_page_s": first,
        "next_median_ms": statistics.median(nexts),
        "next_p95_ms": percentile(nexts, 0.95),
        "decide_median_ms": statistics.median(posts),
        "decide_p95_ms": percentile(posts, 0.95),
    }
    print(f"first page (queues built): {first:.2f} s")
    print(
        f"next segment: median {figures['next_median_ms']:.1f} ms, "
        f"95th percentile {figures['next_p95_ms']:.1f} ms  (target <= {TARGET_MS:g} ms)"
    )
    print(
        f"decision:     median {figures['decide_median_ms']:.1f} ms, "
        f"95th percentile {figures['decide_p95_ms']:.1f} ms"
    )
    verdict = "PASS" if figures["next_p95_ms"] <= TARGET_MS else "FAIL"
    print(f"{verdict}  next segment 95th percentile <= {TARGET_MS:g} ms")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "serve.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
