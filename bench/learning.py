"""Learned coder benchmark: rules.v1, ml.v1 and ensemble.v1 side by side on the development set.

Trains ``ml.v1`` on the ``tune`` split of ``tests/devset`` (grouped 5-fold cross-validation by
file on it sets the ensemble's thresholds and gives ml.v1's cross-validated figures) and
evaluates the three coders on the ``test`` split, whose files were never seen: per top-level
code, F1 and Krippendorff's alpha, plus the training time. Target: the ensemble beats rules.v1
on every code. Usage: ``python bench/learning.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from coding_quality import rules_coder, scores
from devset import CODES, load_devset

from pipeline.learning.evaluate import choose_thresholds, ensemble, out_of_fold
from pipeline.learning.model import CodeModel


def main() -> None:
    rows, skipped = load_devset()
    if skipped:
        print(f"note: {skipped} sentences skipped (../shared absent)")
    tune = [r for r in rows if r.split == "tune"]
    test = [r for r in rows if r.split == "test"]
    rules = rules_coder()
    started = time.perf_counter()
    texts = [r.text for r in tune]
    labels = [set(r.codes) for r in tune]
    groups = [r.path for r in tune]
    oof = out_of_fold(texts, labels, groups, CODES)
    rule_tune = {c: np.array([c in rules(t) for t in texts]) for c in CODES}
    gold_tune = {c: np.array([c in lab for lab in labels]) for c in CODES}
    thresholds = choose_thresholds(oof, rule_tune, gold_tune)
    model = CodeModel(CODES).fit(texts, labels)
    seconds = time.perf_counter() - started
    probabilities = model.predict_proba([r.text for r in test])
    print(
        f"trained on {len(tune)} sentences from {len(set(groups))} files in {seconds:.1f} s "
        f"(5-fold grouped CV included); evaluated on {len(test)} unseen sentences"
    )
    print(f"ensemble thresholds: {thresholds}")
    print(f"{'code':15} {'coder':12} {'F1':>5} {'alpha':>6}")
    wins = []
    for code in CODES:
        gold = [code in r.codes for r in test]
        by_rules = np.array([code in rules(r.text) for r in test])
        by_model = probabilities[code] >= 0.5
        by_both = ensemble(by_rules, probabilities[code], thresholds[code])
        results = {}
        for name, found in (("rules.v1", by_rules), ("ml.v1", by_model), ("ensemble.v1", by_both)):
            results[name] = scores(gold, list(found))
            print(f"{code:15} {name:12} {results[name]['f1']:5.2f} {results[name]['alpha']:6.3f}")
        wins.append(results["ensemble.v1"]["alpha"] > results["rules.v1"]["alpha"])
        cv = scores([code in lab for lab in labels], list(oof[code] >= 0.5))
        print(
            f"{code:15} {'ml.v1 (CV)':12} {cv['f1']:5.2f} {cv['alpha']:6.3f}  "
            "grouped 5-fold on tune"
        )
    print(f"ensemble beats rules.v1 on every code: {'PASS' if all(wins) else 'FAIL'}")


if __name__ == "__main__":
    main()
