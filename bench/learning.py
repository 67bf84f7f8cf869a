"""Learned coders by measurement: which features generalise, grouped and leaving one country out.

On the double-coded development set (``tests/devset/devset2.jsonl``), every candidate is
evaluated two ways, with thresholds always chosen on the training part only (inner grouped
cross-validation), never on the part it is scored on:

* **grouped**: 5-fold cross-validation grouped by document (no speech or release on both sides);
* **leave one country out**: train without a speaker (Afghanistan, China, India, the United
  States, Pakistan's UN speeches 1990-2000, Pakistan's releases), test on it.

Candidates: ``rules.v1`` (no training), ``ml.v1`` (word and character TF-IDF, one calibrated LR
per code, threshold 0.5), ``ensemble.v1`` (rules OR ml.v1 above its tuned threshold), and
``learned.v1`` with features added one family at a time: TF-IDF only, + rule hits and partners,
+ the neighbouring sentences, + the speaker (conjoined with the signals), + the document (its
source type, the partners its title names: ``learned.v1``'s features), then without character
n-grams, and with the static ``wordllama`` sentence vectors. Prints Krippendorff's alpha per track
and macro F1 for each; writes ``bench/out/learning.json``.

    python bench/learning.py [--quick]   # --quick: grouped only, fewer candidates
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from devset import CODES, ROOT, load_devset2

from pipeline.codebook.load import load_codebook
from pipeline.coding.nlp import make_nlp
from pipeline.coding.rules import RuleCoder
from pipeline.learning.evaluate import choose_thresholds, grouped_folds, held_out_predictions
from pipeline.learning.examples import from_rows
from pipeline.learning.model import CodeModel
from pipeline.learning.tracks import TrackModel, alpha_binary

OUT = ROOT / "bench" / "out"
CANDIDATES: dict[str, dict[str, object]] = {
    "learned: tfidf": {"context_weight": 0.0, "signal_weight": 0.0, "documents": False},
    "learned: +rules": {
        "context_weight": 0.0,
        "signal_weight": 1.0,
        "speakers": False,
        "documents": False,
    },
    "learned: +rules+context": {
        "context_weight": 0.7,
        "signal_weight": 1.0,
        "speakers": False,
        "documents": False,
    },
    "learned: +speaker": {"context_weight": 0.7, "signal_weight": 1.0, "documents": False},
    "learned: +document (learned.v1)": {"context_weight": 0.7, "signal_weight": 1.0},
    "learned: ... -chars": {"context_weight": 0.7, "signal_weight": 1.0, "chars": False},
    "learned: ... +wordllama": {
        "context_weight": 0.7,
        "signal_weight": 1.0,
        "semantic_weight": 1.0,
    },
}


def figures(gold: list[set[str]], found: list[set[str]]) -> dict[str, float]:
    """Alpha per track, and macro F1 over the tracks."""
    out: dict[str, float] = {}
    f1s = []
    for track in CODES:
        g = np.array([track in x for x in gold])
        m = np.array([track in x for x in found])
        out[track] = alpha_binary(g, m)
        tp, fp, fn = (g & m).sum(), (~g & m).sum(), (g & ~m).sum()
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    out["macro_f1"] = float(np.mean(f1s))
    return out


def ml_predictions(
    texts: list[str],
    labels: list[set[str]],
    groups: list[str],
    held: list[str],
    rules: list[set[str]],
) -> tuple[list[set[str]], list[set[str]]]:
    """ml.v1 and ensemble.v1 for every text from models that never saw its ``held`` value."""
    ml: list[set[str]] = [set() for _ in texts]
    both: list[set[str]] = [set() for _ in texts]
    for value in sorted(set(held)):
        test = [i for i, h in enumerate(held) if h == value]
        train = [i for i, h in enumerate(held) if h != value]
        inner = {c: np.full(len(train), np.nan) for c in CODES}
        for a, b in grouped_folds([groups[i] for i in train], 3):
            fold = CodeModel(CODES).fit([texts[train[i]] for i in a], [labels[train[i]] for i in a])
            for code, p in fold.predict_proba([texts[train[i]] for i in b]).items():
                inner[code][b] = p
        gold = {c: np.array([c in labels[i] for i in train]) for c in CODES}
        by_rules = {c: np.array([c in rules[i] for i in train]) for c in CODES}
        cuts = choose_thresholds(inner, by_rules, gold)
        model = CodeModel(CODES).fit([texts[i] for i in train], [labels[i] for i in train])
        probabilities = model.predict_proba([texts[i] for i in test])
        for k, i in enumerate(test):
            ml[i] = {c for c, p in probabilities.items() if p[k] >= 0.5}
            both[i] = rules[i] | {c for c, p in probabilities.items() if p[k] >= cuts[c]}
    return ml, both


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="grouped CV only, learned.v1 only")
    parser.add_argument("--only", default="", help="comma-separated candidate names to run")
    args = parser.parse_args()
    rows = load_devset2()
    book = load_codebook(ROOT / "codebook" / "codebook.yaml")
    coder = RuleCoder(book, make_nlp())
    started = time.perf_counter()
    examples = from_rows(coder, rows)
    rules = [{c.split(".")[0] for c in e.rules} & set(CODES) for e in examples]
    print(f"{len(rows)} sentences, rules and partners in {time.perf_counter() - started:.1f} s")
    labels = [set(r.codes) for r in rows]
    groups = [r.document for r in rows]
    countries = [r.country for r in rows]
    folds = {f"fold{k}": test for k, (_, test) in enumerate(grouped_folds(groups, 5))}
    fold_of = [""] * len(rows)
    for name, test in folds.items():
        for i in test:
            fold_of[i] = name
    schemes = {"grouped": fold_of} if args.quick else {"grouped": fold_of, "by country": countries}
    report: dict[str, dict[str, object]] = {}
    candidates: dict[str, Callable[[list[str]], list[set[str]]]] = {
        "rules.v1": lambda held: rules,
    }
    import importlib.util

    for name, params in CANDIDATES.items():
        if params.get("semantic_weight") and importlib.util.find_spec("wordllama") is None:
            print(
                f"skipped {name!r}: the wordllama package is not installed (pip install wordllama)"
            )
            continue
        candidates[name] = lambda held, params=params: held_out_predictions(
            TrackModel(**params),
            examples,
            labels,
            groups,
            held,  # type: ignore[arg-type]
        )
    ml_cache: dict[str, tuple[list[set[str]], list[set[str]]]] = {}
    if not args.quick:
        texts = [r.text for r in rows]

        def ml_of(held: list[str], which: int) -> list[set[str]]:
            key = "|".join(held[:50]) + str(len(set(held)))
            if key not in ml_cache:
                ml_cache[key] = ml_predictions(texts, labels, groups, held, rules)
            return ml_cache[key][which]

        candidates["ml.v1"] = lambda held: ml_of(held, 0)
        candidates["ensemble.v1"] = lambda held: ml_of(held, 1)
    if args.only:
        keep = set(args.only.split(","))
        candidates = {k: v for k, v in candidates.items() if k in keep}
    header = f"{'scheme':11} {'coder':34} " + " ".join(f"{c[:6]:>6}" for c in CODES) + "  macroF1"
    print(header)
    for scheme, held in schemes.items():
        for name, predict in candidates.items():
            t = time.perf_counter()
            found = predict(held)
            overall = figures(labels, found)
            per_country = {
                country: figures(
                    [labels[i] for i, c in enumerate(countries) if c == country],
                    [found[i] for i, c in enumerate(countries) if c == country],
                )
                for country in sorted(set(countries))
            }
            report.setdefault(scheme, {})[name] = {"all": overall, "by_country": per_country}
            print(
                f"{scheme:11} {name:34} "
                + " ".join(f"{overall[c]:6.3f}" for c in CODES)
                + f"  {overall['macro_f1']:.3f}   ({time.perf_counter() - t:.0f} s)"
            )
        if scheme == "by country":
            for country in sorted(set(countries)):
                n = countries.count(country)
                for name in candidates:
                    f = report[scheme][name]["by_country"][country]  # type: ignore[index]
                    print(
                        f"  {country[:22]:22} n={n:4} {name:34} "
                        + " ".join(f"{f[c]:6.3f}" for c in CODES)
                    )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "learning.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
