"""Coding quality: rules.v1 against the labelled development set, beside a keyword baseline.

For each top-level code and each split of the development set (``tune``: used while writing the
rules; ``test``: files never looked at while writing them; ``all``), prints the number of
sentences, precision, recall, F1 and Krippendorff's alpha (nominal, human against machine, via
the ``krippendorff`` package) of:

* ``rules.v1``: the default codebook's rule coder, one sentence at a time;
* ``keywords``: a plain keyword count: a code is given when any of a handful of obvious words
  for it occurs (what a researcher might do without a codebook).

Target: alpha >= 0.80 for every code (reported as PASS/FAIL on ``test`` and ``all``). Figures
also go to ``bench/out/coding_quality.json``. Sentences from ``../shared`` are skipped, and said
to be, when it is absent. Usage: ``python bench/coding_quality.py [--show-errors CODE]``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

import krippendorff
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from devset import CODES, ROOT, load_devset

from pipeline.codebook.load import load_codebook
from pipeline.coding.nlp import make_nlp
from pipeline.coding.rules import RuleCoder

OUT = ROOT / "bench" / "out"
KEYWORDS = {
    "alignment": ["united states", "u.s.", "america", "american", "washington", "nato"],
    "securitization": [
        "security",
        "military",
        "terrorism",
        "terrorist",
        "army",
        "nuclear",
        "defence",
        "defense",
        "war",
        "weapon",
    ],
    "hedging": [
        "china",
        "chinese",
        "russia",
        "saudi",
        "iran",
        "turkey",
        "central asia",
        "regional cooperation",
        "sco",
        "oic",
    ],
}


def keyword_coder() -> Callable[[str], set[str]]:
    patterns = {
        code: re.compile(
            r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)", re.IGNORECASE
        )
        for code, words in KEYWORDS.items()
    }
    return lambda text: {code for code, p in patterns.items() if p.search(text)}


def rules_coder() -> Callable[[str], set[str]]:
    book = load_codebook(ROOT / "codebook" / "codebook.yaml")
    coder = RuleCoder(book, make_nlp())
    return lambda text: {book.top_level(c) for s in coder.code_text(text) for c in s.evidence}


def scores(gold: list[bool], machine: list[bool]) -> dict[str, float]:
    tp = sum(g and m for g, m in zip(gold, machine))
    fp = sum(m and not g for g, m in zip(gold, machine))
    fn = sum(g and not m for g, m in zip(gold, machine))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    data = np.array([gold, machine], dtype=float)
    alpha = (
        krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
        if len(set(gold) | set(machine)) > 1
        else float("nan")
    )
    return {
        "n": len(gold),
        "positives": sum(gold),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "alpha": float(alpha),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--show-errors", metavar="CODE", help="list rules.v1's mistakes on CODE")
    args = parser.parse_args()
    rows, skipped = load_devset()
    print(
        f"development set: {len(rows)} sentences"
        + (f" ({skipped} skipped: ../shared is absent)" if skipped else "")
    )
    coders = {"rules.v1": rules_coder(), "keywords": keyword_coder()}
    predicted = {name: [coder(row.text) for row in rows] for name, coder in coders.items()}
    report: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    print(
        f"{'split':6} {'code':15} {'coder':9} {'n':>4} {'pos':>4} {'P':>5} {'R':>5} "
        f"{'F1':>5} {'alpha':>6}"
    )
    for split in ("tune", "test", "all"):
        chosen = [i for i, r in enumerate(rows) if split == "all" or r.split == split]
        for code in CODES:
            gold = [code in rows[i].codes for i in chosen]
            for name in coders:
                s = scores(gold, [code in predicted[name][i] for i in chosen])
                report.setdefault(split, {}).setdefault(code, {})[name] = s
                print(
                    f"{split:6} {code:15} {name:9} {s['n']:4} {s['positives']:4} "
                    f"{s['precision']:5.2f} {s['recall']:5.2f} {s['f1']:5.2f} "
                    f"{s['alpha']:6.3f}"
                )
    print()
    for split in ("test", "all"):
        for code in CODES:
            alpha = report[split][code]["rules.v1"]["alpha"]
            verdict = "PASS" if alpha >= 0.80 else "FAIL"
            print(f"{verdict}  rules.v1 alpha >= 0.80 on {split:4} {code:15} {alpha:.3f}")
    if args.show_errors:
        code = args.show_errors
        print(f"\nrules.v1 mistakes on {code}:")
        for row, found in zip(rows, predicted["rules.v1"]):
            if (code in row.codes) != (code in found):
                kind = "missed" if code in row.codes else "false "
                print(f"  {kind} {row.id} [{row.split}] {row.text[:160]}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "coding_quality.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
