"""How far coders agree with each other and with the machine (pure).

Krippendorff's alpha (nominal, any number of coders, missing values allowed) comes from the
``krippendorff`` package, checked against Krippendorff's published example in the tests; Cohen's
kappa from scikit-learn. Intervals: percentile bootstrap over units (segments), seeded.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import krippendorff
import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

from pipeline.core import DEFAULT_SEED, GATE_ALPHA, GATE_MIN_UNITS
from pipeline.core.codes import CodeTree
from pipeline.core.decisions import judgements

if TYPE_CHECKING:
    from pipeline.core.records import DecisionRow

__all__ = [
    "GATE_ALPHA",
    "GATE_MIN_UNITS",
    "alpha",
    "between_coders",
    "coder_verdicts",
    "disagreements",
    "gate",
    "kappa",
    "machine_against_human",
    "percent_agreement",
]


def coder_verdicts(
    events: Iterable[DecisionRow], codebook: CodeTree
) -> dict[str, dict[str, dict[str, bool]]]:
    """segment id -> coder -> code -> whether the coder gives it, for the codes each coder
    judged (ancestors included); coders only, adjudicators left out."""
    out: dict[str, dict[str, dict[str, bool]]] = {}
    for segment_id, by_coder in judgements(events, codebook).items():
        for coder, view in by_coder.items():
            if view.role == "coder":
                out.setdefault(segment_id, {})[coder] = dict(view.verdicts)
    return out


def alpha(matrix: np.ndarray) -> float:
    """Krippendorff's alpha (nominal) of a coders x units matrix with NaN for missing."""
    values = matrix[~np.isnan(matrix)]
    if values.size == 0 or len(np.unique(values)) < 2:
        return float("nan")
    return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal"))


def percent_agreement(matrix: np.ndarray) -> float:
    """Share of agreeing pairs of judgements on the same unit."""
    agree = total = 0
    for column in matrix.T:
        values = column[~np.isnan(column)]
        for a, b in itertools.combinations(values, 2):
            agree += a == b
            total += 1
    return agree / total if total else float("nan")


def kappa(pair: np.ndarray) -> float:
    """Cohen's kappa of a 2 x units matrix without missing values."""
    if pair.shape[1] < 2 or len(np.unique(pair)) < 2:
        return float("nan")
    return float(cohen_kappa_score(pair[0], pair[1]))


def _boot(
    matrix: np.ndarray, statistic: Callable[[np.ndarray], float], n_boot: int, key: str, seed: int
) -> tuple[float, float]:
    """Percentile interval of ``statistic`` over units (columns) resampled with replacement."""
    units = matrix.shape[1]
    if units < 2 or n_boot == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(zlib.crc32(f"{seed}|{key}".encode()))
    draws = np.array([statistic(matrix[:, rng.integers(0, units, units)]) for _ in range(n_boot)])
    kept = draws[~np.isnan(draws)]
    if kept.size == 0:
        return float("nan"), float("nan")
    return float(np.quantile(kept, 0.025)), float(np.quantile(kept, 0.975))


def between_coders(
    events: Iterable[DecisionRow],
    codebook: CodeTree,
    codes: list[str],
    *,
    n_boot: int = 500,
    seed: int = DEFAULT_SEED,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per code: alpha with interval, percent agreement, units; and Cohen's kappa per pair.

    A coder's value for a code is missing on a segment where they did not judge that code, so
    a code's units are the segments two or more coders judged it on.
    """
    decided = coder_verdicts(events, codebook)
    shared = {s: c for s, c in decided.items() if len(c) >= 2}
    coders = sorted({coder for c in shared.values() for coder in c})
    rows, pairs = [], []
    for code in codes:
        units = sorted(s for s, by in shared.items() if sum(code in v for v in by.values()) >= 2)
        matrix = np.full((len(coders), len(units)), np.nan)
        for j, segment in enumerate(units):
            for i, coder in enumerate(coders):
                verdicts = shared[segment].get(coder, {})
                if code in verdicts:
                    matrix[i, j] = 1.0 if verdicts[code] else 0.0
        percent = percent_agreement(matrix)
        p_low, p_high = _boot(matrix, percent_agreement, n_boot, f"pa|{code}", seed)
        low, high = _boot(matrix, alpha, n_boot, code, seed)
        rows.append(
            {
                "code": code,
                "units": len(units),
                "coders": len(coders),
                "alpha": alpha(matrix),
                "alpha_low": low,
                "alpha_high": high,
                "percent_agreement": percent,
                "percent_low": p_low,
                "percent_high": p_high,
            }
        )
        for (i, a), (k, b) in itertools.combinations(enumerate(coders), 2):
            both = ~np.isnan(matrix[i]) & ~np.isnan(matrix[k])
            pair = matrix[[i, k]][:, both]
            k_low, k_high = _boot(pair, kappa, n_boot, f"kappa|{code}|{a}|{b}", seed)
            pairs.append(
                {
                    "code": code,
                    "coder_a": a,
                    "coder_b": b,
                    "units": int(both.sum()),
                    "kappa": kappa(pair),
                    "kappa_low": k_low,
                    "kappa_high": k_high,
                }
            )
    return pd.DataFrame(rows), pd.DataFrame(pairs)


def machine_against_human(
    reference: dict[str, set[str]],
    machine: dict[str, set[str]],
    codes: list[str],
    *,
    n_boot: int = 500,
    seed: int = DEFAULT_SEED,
    judged: dict[str, frozenset[str]] | None = None,
) -> pd.DataFrame:
    """Per code: precision, recall, F1 and alpha of the machine against the final human codes.

    With ``judged`` (segment id -> the codes humans judged, see ``FinalDecision.judged``), a
    code is measured only on the segments where humans judged it.
    """
    rows = []
    for code in codes:
        units = sorted(s for s in reference if judged is None or code in judged.get(s, ()))
        gold = np.array([code in reference[s] for s in units], dtype=float)
        found = np.array([code in machine.get(s, set()) for s in units], dtype=float)
        tp = float(((gold == 1) & (found == 1)).sum())
        fp = float(((gold == 0) & (found == 1)).sum())
        fn = float(((gold == 1) & (found == 0)).sum())
        precision = tp / (tp + fp) if tp + fp else float("nan")
        recall = tp / (tp + fn) if tp + fn else float("nan")
        f1 = (
            2 * precision * recall / (precision + recall)
            if precision + recall and not np.isnan(precision + recall)
            else float("nan")
        )
        matrix = np.vstack([gold, found])
        low, high = _boot(matrix, alpha, n_boot, f"machine|{code}", seed)
        rows.append(
            {
                "code": code,
                "units": len(units),
                "human_positive": int(gold.sum()),
                "precision": precision,
                "recall": recall,
                "f1": f1,
                "alpha": alpha(matrix),
                "alpha_low": low,
                "alpha_high": high,
            }
        )
    return pd.DataFrame(rows)


def disagreements(events: Iterable[DecisionRow], codebook: CodeTree) -> list[str]:
    """Segments where two coders judged a code differently and no adjudicator has settled that
    code yet (for adjudication), in id order."""
    out = []
    for segment, by_coder in judgements(events, codebook).items():
        settled = {c for v in by_coder.values() if v.role == "adjudicator" for c in v.verdicts}
        coders = [v for v in by_coder.values() if v.role == "coder"]
        for code in {c for v in coders for c in v.verdicts} - settled:
            if len({v.verdicts[code] for v in coders if code in v.verdicts}) > 1:
                out.append(segment)
                break
    return sorted(out)


def gate(
    machine: pd.DataFrame, *, threshold: float = GATE_ALPHA, min_units: int = GATE_MIN_UNITS
) -> list[str]:
    """Codes whose machine-human alpha on enough reviewed units is below the threshold."""
    if machine.empty:
        return []
    weak = machine[(machine["units"] >= min_units) & (machine["alpha"] < threshold)]
    return list(weak["code"])
