"""Check the labelled development set (devset.jsonl) against the texts it points into.

Every row stores only a location: a path relative to a corpus root and character offsets into
the file's text as decoded by ``open(path, encoding="utf-8-sig").read()``. This script recovers
each sentence (whitespace collapsed), checks its SHA-1, checks the labels and the split, and
prints counts per code, subcode and split. It exits 1 on any problem.

    python tests/devset/check.py [--ungdc-root DIR] [--sample-root DIR] [--show]

Defaults: the UN General Debate Corpus at ``../shared/data/ungdc`` beside the repository root
(or ``$DSHIFT_UNGDC``), the sample ground truth at ``corpus/sample-src/truth``. ``--show`` prints
every recovered sentence with its labels (for reading; the UN texts are not stored here).
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import itertools
import json
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

CODES = ("alignment", "securitization", "hedging")
SUBCODES = (
    "alignment.cooperation",
    "alignment.aid",
    "alignment.counterterrorism",
    "alignment.logistics",
    "alignment.intelligence",
    "alignment.friction",
    "securitization.terrorism",
    "securitization.operations",
    "securitization.armed_forces",
    "securitization.nuclear",
    "securitization.border",
    "securitization.india_threat",
    "securitization.defence_cooperation",
    "hedging.china",
    "hedging.gulf",
    "hedging.russia",
    "hedging.regional",
    "hedging.connectivity",
    "hedging.nonalignment",
)
KEYS = ("id", "source", "path", "start", "end", "sha1", "split", "codes", "subcodes", "note")
MAX_SAMPLE_ROWS = 120
# Pakistan 2001-2024 is held out to measure generalisation; only 1990-2000 may be used.
UNGDC_PATH = re.compile(
    r"^(?:PAK/PAK_\d{2}_(\d{4})|(?:USA|IND|CHN|AFG)/(?:USA|IND|CHN|AFG)_\d{2}_\d{4})\.txt$"
)


def recover(text: str, start: int, end: int) -> str:
    return " ".join(text[start:end].split())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--devset", type=Path, default=HERE / "devset.jsonl")
    ap.add_argument(
        "--ungdc-root",
        type=Path,
        default=Path(os.environ.get("DSHIFT_UNGDC", REPO.parent / "shared" / "data" / "ungdc")),
    )
    ap.add_argument("--sample-root", type=Path, default=REPO / "corpus" / "sample-src" / "truth")
    ap.add_argument("--show", action="store_true", help="print every recovered sentence")
    args = ap.parse_args(argv)

    roots = {"ungdc": args.ungdc_root, "sample": args.sample_root}
    problems: list[str] = []

    def problem(msg: str) -> None:
        problems.append(msg)

    for name, root in roots.items():
        if not root.is_dir():
            problem(f"corpus root for source {name!r} not found: {root}")
    if problems:
        for p in problems:
            print("PROBLEM:", p)
        return 1

    rows: list[tuple[int, Any]] = []
    with open(args.devset, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                problem(f"line {lineno}: empty line")
                continue
            try:
                rows.append((lineno, json.loads(line)))
            except json.JSONDecodeError as e:
                problem(f"line {lineno}: invalid JSON ({e})")

    texts: dict[tuple[str, str], str] = {}
    seen_ids: set[str] = set()
    spans: dict[tuple[str, str], list[tuple[int, int, str]]] = collections.defaultdict(list)
    file_split: dict[tuple[str, str], set[str]] = collections.defaultdict(set)
    counts: collections.Counter = collections.Counter()
    good: list[tuple[dict[str, Any], str]] = []

    for lineno, r in rows:
        where = f"line {lineno} ({r.get('id', '?')})"
        if not isinstance(r, dict) or set(r) != set(KEYS):
            got = sorted(r) if isinstance(r, dict) else type(r).__name__
            problem(f"{where}: keys must be exactly {KEYS}, got {got}")
            continue
        rid = r["id"]
        if not (isinstance(rid, str) and re.fullmatch(r"d\d{4}", rid)):
            problem(f"{where}: bad id {rid!r}")
        elif rid in seen_ids:
            problem(f"{where}: duplicate id")
        seen_ids.add(rid)
        src, path = r["source"], r["path"]
        if src not in roots:
            problem(f"{where}: unknown source {src!r}")
            continue
        if not isinstance(path, str) or path.startswith("/") or ".." in Path(path).parts:
            problem(f"{where}: path must be relative to the corpus root: {path!r}")
            continue
        if src == "ungdc":
            m = UNGDC_PATH.match(path)
            if not m:
                problem(f"{where}: ungdc path not allowed: {path}")
            elif m.group(1) and not 1990 <= int(m.group(1)) <= 2000:
                problem(f"{where}: Pakistan speeches after 2000 are held out: {path}")
        st, en = r["start"], r["end"]
        if not (isinstance(st, int) and isinstance(en, int) and 0 <= st < en):
            problem(f"{where}: bad offsets {st!r}..{en!r}")
            continue
        key = (src, path)
        if key not in texts:
            fp = roots[src] / path
            if not fp.is_file():
                problem(f"{where}: file not found: {fp}")
                continue
            with open(fp, encoding="utf-8-sig") as fh:
                texts[key] = fh.read()
        text = texts[key]
        if en > len(text):
            problem(f"{where}: end {en} beyond text length {len(text)}")
            continue
        sentence = recover(text, st, en)
        if not sentence:
            problem(f"{where}: empty sentence")
            continue
        if hashlib.sha1(sentence.encode("utf-8")).hexdigest() != r["sha1"]:
            problem(f"{where}: sha1 mismatch (text drifted?): {sentence[:80]!r}")
        if "**" in text[st:en]:
            problem(f"{where}: sentence contains Markdown bold")
        if any(re.fullmatch(r"\s*\d{1,3}\s*", ln) for ln in text[st:en].split("\n")[1:]):
            problem(f"{where}: sentence spans a stray page-number line")
        if r["split"] not in ("tune", "test"):
            problem(f"{where}: bad split {r['split']!r}")
        codes, subs = r["codes"], r["subcodes"]
        if not (isinstance(codes, list) and isinstance(subs, list)):
            problem(f"{where}: codes and subcodes must be lists")
            continue
        if len(set(codes)) != len(codes) or len(set(subs)) != len(subs):
            problem(f"{where}: repeated code or subcode")
        for c in codes:
            if c not in CODES:
                problem(f"{where}: unknown code {c!r}")
        for s in subs:
            if s not in SUBCODES:
                problem(f"{where}: unknown subcode {s!r}")
            elif s.split(".")[0] not in codes:
                problem(f"{where}: subcode {s} without its code")
        for c in codes:
            if not any(s.startswith(c + ".") for s in subs):
                problem(f"{where}: code {c} has no subcode")
        if not isinstance(r["note"], str):
            problem(f"{where}: note must be a string")
        spans[key].append((st, en, rid))
        file_split[key].add(r["split"])
        good.append((r, sentence))

    for key, file_spans in spans.items():
        file_spans.sort()
        for (_, a_end, aid), (b_start, _, bid) in itertools.pairwise(file_spans):
            if b_start < a_end:
                problem(f"{aid} and {bid} overlap in {key[0]}:{key[1]}")
    for key, splits in file_split.items():
        if len(splits) > 1:
            problem(f"file {key[0]}:{key[1]} is in both splits")
    n_sample = sum(1 for r, _ in good if r["source"] == "sample")
    if n_sample > MAX_SAMPLE_ROWS:
        problem(f"{n_sample} sample rows (at most {MAX_SAMPLE_ROWS})")

    for r, sentence in good:
        for part in (r["split"], "all"):
            counts[("rows", part)] += 1
            counts[("source:" + r["source"], part)] += 1
            for c in r["codes"] or ["(none)"]:
                counts[("code:" + c, part)] += 1
            for s in r["subcodes"]:
                counts[("subcode:" + s, part)] += 1
        if args.show:
            labels = ",".join(r["subcodes"]) or "-"
            print(f"{r['id']} [{r['split']}] {r['source']}:{r['path']} {labels}\n    {sentence}")

    def table(prefix: str, names: Iterable[str]) -> None:
        print(f"{'':38} {'all':>5} {'tune':>5} {'test':>5}")
        for n in names:
            k = prefix + n
            print(f"{n:38} {counts[(k, 'all')]:5} {counts[(k, 'tune')]:5} {counts[(k, 'test')]:5}")

    print(
        f"{len(good)} rows checked, {len(file_split)} files "
        f"({sum(1 for s in file_split.values() if s == {'test'})} in test)"
    )
    table("", ["rows"])
    table("source:", ["ungdc", "sample"])
    table("code:", [*CODES, "(none)"])
    table("subcode:", SUBCODES)

    if problems:
        for p in problems:
            print("PROBLEM:", p)
        print(f"{len(problems)} problem(s)")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
