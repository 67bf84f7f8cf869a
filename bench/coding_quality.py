"""Coding quality: every registered coder side by side on the double-coded development set.

For each coder of ``pipeline.registry.coders`` (and a naive keyword dictionary, as a floor),
Krippendorff's alpha per track against the adjudicated codes of ``tests/devset/devset2.jsonl``,
with a 95% interval (bootstrap over documents), and macro F1. Trained coders are scored only on
sentences their model never saw, two ways:

* **grouped**: 5-fold cross-validation grouped by document;
* **leave one country out**: trained without a speaker, scored on it (pooled over speakers,
  and per speaker where it has at least 30 positives of a track).

Thresholds are always chosen on the training part (inner grouped cross-validation). The rules
and the keywords are not trained: one figure serves both schemes. Target: alpha >= 0.80 per
track (PASS/FAIL printed for learned.v1, the default). Figures also go to
``bench/out/coding_quality.json``.

    python bench/coding_quality.py [--boot 1000]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from devset import CODES, ROOT, load_devset2
from learning import ml_predictions

from pipeline.codebook.load import load_codebook
from pipeline.coding.nlp import make_nlp
from pipeline.coding.rules import RuleCoder
from pipeline.learning.evaluate import grouped_folds, held_out_predictions
from pipeline.learning.examples import from_rows
from pipeline.learning.tracks import TrackModel, alpha_binary
from pipeline.learning.training import PARAMS
from pipeline.registry import coders

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


def keywords(texts: list[str]) -> list[set[str]]:
    patterns = {
        code: re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)", re.I)
        for code, words in KEYWORDS.items()
    }
    return [{c for c, p in patterns.items() if p.search(t)} for t in texts]


def interval(
    gold: np.ndarray, found: np.ndarray, groups: np.ndarray, boot: int, rng: np.random.Generator
) -> tuple[float, float]:
    """95% bootstrap interval of alpha, resampling whole documents."""
    names, index = np.unique(groups, return_inverse=True)
    members = [np.flatnonzero(index == k) for k in range(len(names))]
    values = []
    for _ in range(boot):
        pick = np.concatenate([members[k] for k in rng.integers(0, len(names), len(names))])
        value = alpha_binary(gold[pick], found[pick])
        if not np.isnan(value):
            values.append(value)
    if not values:
        return float("nan"), float("nan")
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boot", type=int, default=1000)
    args = parser.parse_args()
    rows = load_devset2()
    book = load_codebook(ROOT / "codebook" / "codebook.yaml")
    rule_coder = RuleCoder(book, make_nlp())
    examples = from_rows(rule_coder, rows)
    labels = [set(r.codes) for r in rows]
    groups = [r.document for r in rows]
    countries = [r.country for r in rows]
    texts = [r.text for r in rows]
    rules = [{c.split(".")[0] for c in e.rules} & set(CODES) for e in examples]
    fold_of = [""] * len(rows)
    for k, (_, test) in enumerate(grouped_folds(groups, 5)):
        for i in test:
            fold_of[i] = f"fold{k}"
    print(
        f"{len(rows)} double-coded sentences from {len(set(groups))} documents; "
        f"registered coders: {', '.join(coders.names())}"
    )
    predictions: dict[str, dict[str, list[set[str]]]] = {}
    for scheme, held in (("grouped", fold_of), ("leave one country out", countries)):
        started = time.perf_counter()
        learned = held_out_predictions(TrackModel(**PARAMS), examples, labels, groups, held)
        ml, both = ml_predictions(texts, labels, groups, held, rules)
        predictions[scheme] = {
            "learned.v1": learned,
            "rules.v1": rules,
            "ml.v1": ml,
            "ensemble.v1": both,
            "keywords": keywords(texts),
        }
        print(f"  {scheme}: trained and scored in {time.perf_counter() - started:.0f} s")
    rng = np.random.default_rng(20011)
    gold = {c: np.array([c in x for x in labels]) for c in CODES}
    group_array = np.array(groups)
    report: dict[str, object] = {}
    for scheme, by_coder in predictions.items():
        print(f"\n{scheme} (alpha [95% interval]; macro F1)")
        print(f"{'coder':12} " + " ".join(f"{c:>22}" for c in CODES) + "  macroF1")
        for name, found_sets in by_coder.items():
            cells, f1s, stored = [], [], {}
            for code in CODES:
                found = np.array([code in x for x in found_sets])
                value = alpha_binary(gold[code], found)
                low, high = interval(gold[code], found, group_array, args.boot, rng)
                tp = (gold[code] & found).sum()
                f1 = 2 * tp / (2 * tp + (found ^ gold[code]).sum()) if tp else 0.0
                f1s.append(f1)
                stored[code] = {"alpha": value, "low": low, "high": high, "f1": float(f1)}
                cells.append(f"{value:6.3f} [{low:5.2f},{high:5.2f}]")
            print(f"{name:12} " + " ".join(f"{c:>22}" for c in cells) + f"  {np.mean(f1s):.3f}")
            per_country = {}
            for country in sorted(set(countries)):
                pick = np.array([c == country for c in countries])
                per_country[country] = {
                    code: alpha_binary(
                        gold[code][pick], np.array([code in x for x in found_sets])[pick]
                    )
                    if gold[code][pick].sum() >= 30
                    else None
                    for code in CODES
                }
            report.setdefault(scheme, {})[name] = {"all": stored, "by_country": per_country}  # type: ignore[union-attr]
        # Shares per document (what an index is made of): machine against coders, Pearson r,
        # over documents with at least 10 sentences.
        print("  per-document shares, Pearson r against the coders (documents of >= 10 sentences):")
        members: dict[str, list[int]] = {}
        for i, g in enumerate(groups):
            members.setdefault(g, []).append(i)
        big = sorted(g for g, m in members.items() if len(m) >= 10)
        for name, found_sets in by_coder.items():
            cells = []
            for code in CODES:
                truth = [np.mean([code in labels[i] for i in members[g]]) for g in big]
                machine = [np.mean([code in found_sets[i] for i in members[g]]) for g in big]
                r = (
                    float(np.corrcoef(truth, machine)[0, 1])
                    if np.std(machine) > 0
                    else float("nan")
                )
                shares = report[scheme][name].setdefault("document_share_r", {})  # type: ignore[index,union-attr]
                shares[code] = r
                cells.append(f"{code[:5]} r={r:.2f}")
            print(f"    {name:12} " + "  ".join(cells) + f"  ({len(big)} documents)")
        print("  per speaker, learned.v1 / rules.v1 (tracks with >= 30 positives there):")
        for country in sorted(set(countries)):
            n = countries.count(country)
            line = []
            for code in CODES:
                a = report[scheme]["learned.v1"]["by_country"][country][code]  # type: ignore[index]
                b = report[scheme]["rules.v1"]["by_country"][country][code]  # type: ignore[index]
                line.append(
                    f"{code[:5]} {a:.2f}/{b:.2f}" if a is not None else f"{code[:5]}    -     "
                )
            print(f"    {country[:22]:22} n={n:4}  " + "  ".join(line))
    print()
    for scheme in predictions:
        for code in CODES:
            value = report[scheme]["learned.v1"]["all"][code]["alpha"]  # type: ignore[index]
            verdict = "PASS" if value >= 0.80 else "FAIL"
            print(f"{verdict}  learned.v1 alpha >= 0.80, {scheme}, {code}: {value:.3f}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "coding_quality.json").write_text(json.dumps(report, indent=2, default=float))


if __name__ == "__main__":
    main()
