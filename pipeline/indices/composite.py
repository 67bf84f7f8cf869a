"""Composite indices: hedging balance, securitization intensity, shifts from a baseline, divergence.

Each composite is a function of per-document sums, so one bootstrap draw of the period's documents
(and, for the baseline comparisons, an independent draw of the baseline's documents) gives one
draw of every composite. The period draws use the same seeds as the ``overall`` rows of
:func:`pipeline.indices.compute.compute_indices`, so ``securitization_intensity`` and its interval
equal the overall ``rate_per_1000_words`` row of ``securitization``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.core import DEFAULT_SEED
from pipeline.core.codes import TOP_CODES
from pipeline.indices.compute import (
    FloatArray,
    check_options,
    code_matrix,
    document_keys,
    document_sums,
    percentile_interval,
    period_of,
    ratio,
    require_columns,
    resample_weights,
)

COLUMNS = ("period", "index", "value", "low", "high", "documents", "low_documents")

FORMULAS: dict[str, str] = {
    # compute_indices columns
    "period": "period label: YYYY (year), YYYY-Qn (quarter) or YYYY-MM (month)",
    "code": "code id of the codebook",
    "breakdown": "overall (all segments), source_type, or partner (segments mentioning it)",
    "group": "'all' for overall; the source type; or the partner id",
    "documents": "number of distinct documents with at least one segment in the period × group",
    "segments": "number of segments in the period × group",
    "words": "sum of n_words over the segments in the period × group",
    "coded_segments": "number of segments of the period × group carrying the code",
    "share": "pooled share = coded_segments / segments",
    "share_low": "lower bound of the percentile bootstrap interval of share (documents resampled)",
    "share_high": "upper bound of the percentile bootstrap interval of share (documents resampled)",
    "doc_share": "document-weighted share = mean over documents d of coded_d / segments_d",
    "doc_share_low": "lower bound of the percentile bootstrap interval of doc_share",
    "doc_share_high": "upper bound of the percentile bootstrap interval of doc_share",
    "rate_per_1000_words": "1000 × coded_segments / words (coded segments per 1,000 words)",
    "rate_low": "lower bound of the percentile bootstrap interval of rate_per_1000_words",
    "rate_high": "upper bound of the percentile bootstrap interval of rate_per_1000_words",
    "machine_segments": "coded segments whose final decision is by the machine (decided_by)",
    "human_segments": "coded segments whose final decision is a coder's (decided_by)",
    "low_documents": "true when documents < min_docs (default 3): read the figure with care",
    # composite_indices columns
    "index": "name of the composite index",
    "value": "value of the composite index in the period",
    "low": "lower bound of the percentile bootstrap interval of value",
    "high": "upper bound of the percentile bootstrap interval of value",
    # composite indices
    "hedging_balance": "(H − A) / (H + A), H and A the overall doc_share of hedging and "
    "alignment; −1..+1, empty (NaN) when H + A = 0",
    "securitization_intensity": "1000 × securitization coded segments / words (overall)",
    "shift_<code>": "doc_share of <code> in the period − doc_share of <code> over the baseline "
    "years pooled; period and baseline documents bootstrapped independently",
    "divergence": "Jensen–Shannon divergence (log base 2, 0..1) between the period's and the "
    "baseline's distributions over {top codes, uncoded}, each mass the pooled share of segments "
    "(normalised to sum 1)",
}


@dataclass(frozen=True)
class _Summary:
    """Statistics of one set of documents under each of several weightings (one row each)."""

    doc_share: FloatArray  # weightings × codes
    rate: FloatArray  # weightings × codes, per 1,000 words
    mass: FloatArray  # weightings × (top codes + uncoded), normalised to sum 1


_Index = Callable[[_Summary, "_Summary | None"], FloatArray]


def composite_indices(
    frame: pd.DataFrame,
    *,
    period: str = "year",
    baseline: tuple[int, int] = (2001, 2003),
    n_boot: int = 1000,
    seed: int = DEFAULT_SEED,
    min_docs: int = 3,
    confidence: float = 0.95,
    top_codes: Sequence[str] = TOP_CODES,
) -> pd.DataFrame:
    """Compute the composite indices per period, with percentile bootstrap intervals.

    Args:
        frame: the segment frame (needs ``code__alignment``, ``code__hedging``,
            ``code__securitization`` and ``code__<id>`` for every top code).
        period: ``"year"``, ``"quarter"`` or ``"month"``.
        baseline: first and last year (inclusive) of the baseline; every document whose year lies
            in it is pooled, whatever its month.
        n_boot: bootstrap draws.
        seed: base seed (see :func:`pipeline.indices.compute.resample_weights`).
        min_docs: rows resting on fewer documents (in the period, or in the baseline for the
            baseline comparisons) get ``low_documents`` true.
        confidence: level of the percentile intervals.
        top_codes: codes compared with the baseline (``shift_<code>``, ``divergence``).

    Returns:
        Columns ``period, index, value, low, high, documents, low_documents``; one row per period
        × index, indices in the order ``hedging_balance, securitization_intensity, shift_<code>
        (in the order of top_codes), divergence``. ``documents`` counts the period's documents.
        When the baseline has no documents, ``shift_*`` and ``divergence`` are NaN: check
        :func:`baseline_documents` and warn the user. See :data:`FORMULAS`.

        A divergence cannot be negative, so its bootstrap draws lean upwards: when the period
        mixes codes much as the baseline does, the interval may lie above the value itself.

    Raises:
        ValueError: a missing column or a bad option.
    """
    check_options(period, n_boot, confidence, min_docs)
    first, last = _check_baseline(baseline)
    top = list(dict.fromkeys(top_codes))
    codes = list(dict.fromkeys([*top, "alignment", "hedging", "securitization"]))
    require_columns(frame, codes, [])
    coded = code_matrix(frame, codes)
    uncoded = ~coded[:, [codes.index(code) for code in top]].any(axis=1)
    words = pd.to_numeric(frame["n_words"], errors="coerce").fillna(0).to_numpy(np.float64)
    values = np.column_stack([np.ones(len(frame)), words, coded, uncoded]).astype(np.float64)
    documents = document_keys(frame)
    top_columns = [codes.index(code) for code in top]

    in_baseline = _in_baseline(frame, first, last)
    base_sums = _pooled_document_sums(documents[in_baseline], values[in_baseline])
    n_base = len(base_sums)
    base_point = base_drawn = None
    if n_base:
        weights = resample_weights(n_base, n_boot, seed, "baseline", f"{first}-{last}")
        base_point = _summarise(np.ones((1, n_base)), base_sums, top_columns)
        base_drawn = _summarise(weights, base_sums, top_columns)

    indices = _indices(codes, top)
    labels = period_of(frame, period)
    placed = labels.notna().to_numpy()
    keys = [labels.to_numpy(dtype=object)[placed]]
    rows: list[dict[str, object]] = []
    for (label,), sums in document_sums(keys, documents[placed], values[placed]):
        n_docs = len(sums)
        weights = resample_weights(n_docs, n_boot, seed, label, "overall", "all")
        point = _summarise(np.ones((1, n_docs)), sums, top_columns)
        drawn = _summarise(weights, sums, top_columns)
        for name, (index, uses_baseline) in indices.items():
            value = float(index(point, base_point)[0])
            fixed = n_docs == 1 and (not uses_baseline or n_base <= 1)
            if fixed or np.isnan(value):
                low = high = value
            else:
                lows, highs = percentile_interval(index(drawn, base_drawn)[:, None], confidence)
                low, high = float(lows[0]), float(highs[0])
            few = n_docs < min_docs or (uses_baseline and n_base < min_docs)
            rows.append(
                {
                    "period": label,
                    "index": name,
                    "value": value,
                    "low": low,
                    "high": high,
                    "documents": n_docs,
                    "low_documents": few,
                }
            )
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    return table.astype(
        {
            "period": str,
            "index": str,
            "value": np.float64,
            "low": np.float64,
            "high": np.float64,
            "documents": np.int64,
            "low_documents": bool,
        }
    )


def baseline_documents(frame: pd.DataFrame, baseline: tuple[int, int] = (2001, 2003)) -> int:
    """Count the distinct documents whose year lies in ``baseline`` (both ends included)."""
    first, last = _check_baseline(baseline)
    in_baseline = _in_baseline(frame, first, last)
    return int(frame.loc[in_baseline, "document_id"].nunique())


def jensen_shannon(p: FloatArray, q: FloatArray) -> FloatArray:
    """Return the Jensen–Shannon divergence (log base 2, so 0..1) between rows of ``p`` and ``q``.

    Rows are normalised to sum 1 first; ``0 · log 0`` counts as 0. Rows that sum to 0 give NaN.
    """
    p = ratio(np.atleast_2d(p).astype(np.float64), np.atleast_2d(p).sum(axis=1, keepdims=True))
    q = ratio(np.atleast_2d(q).astype(np.float64), np.atleast_2d(q).sum(axis=1, keepdims=True))
    middle = (p + q) / 2
    divergence = (_kullback_leibler(p, middle) + _kullback_leibler(q, middle)) / 2
    return np.clip(divergence, 0.0, 1.0)


def _kullback_leibler(p: FloatArray, q: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log2(p / q), 0.0)
    # NaN rows (a distribution that could not be normalised) stay NaN.
    return np.where(np.isnan(p).any(axis=1), np.nan, terms.sum(axis=1))


def _indices(codes: list[str], top: list[str]) -> dict[str, tuple[_Index, bool]]:
    """Return every composite index as ``name -> (function, uses the baseline)``."""
    hedging, alignment = codes.index("hedging"), codes.index("alignment")
    securitization = codes.index("securitization")

    def hedging_balance(period: _Summary, _: _Summary | None) -> FloatArray:
        h, a = period.doc_share[:, hedging], period.doc_share[:, alignment]
        return ratio(h - a, h + a)

    def securitization_intensity(period: _Summary, _: _Summary | None) -> FloatArray:
        return period.rate[:, securitization]

    def shift(column: int) -> _Index:
        def index(period: _Summary, base: _Summary | None) -> FloatArray:
            if base is None:
                return np.full(len(period.doc_share), np.nan)
            return period.doc_share[:, column] - base.doc_share[:, column]

        return index

    def divergence(period: _Summary, base: _Summary | None) -> FloatArray:
        if base is None:
            return np.full(len(period.mass), np.nan)
        return jensen_shannon(period.mass, base.mass)

    indices: dict[str, tuple[_Index, bool]] = {
        "hedging_balance": (hedging_balance, False),
        "securitization_intensity": (securitization_intensity, False),
    }
    for code in top:
        indices[f"shift_{code}"] = (shift(codes.index(code)), True)
    indices["divergence"] = (divergence, True)
    return indices


def _pooled_document_sums(documents: np.ndarray, values: FloatArray) -> FloatArray:
    """Sum ``values`` per document over all rows (documents ordered by id)."""
    for _, sums in document_sums([np.zeros(len(documents))], documents, values):
        return sums
    return np.zeros((0, values.shape[1]))


def _summarise(weights: FloatArray, sums: FloatArray, top_columns: list[int]) -> _Summary:
    """Summarise per-document sums (segments, words, codes..., uncoded) under each weighting."""
    segments, words, coded = sums[:, 0], sums[:, 1], sums[:, 2:-1]
    coded_total = weights @ coded
    mass = np.column_stack([coded_total[:, top_columns], weights @ sums[:, -1]])
    return _Summary(
        doc_share=(weights @ (coded / segments[:, None])) / weights.sum(axis=1)[:, None],
        rate=ratio(1000 * coded_total, (weights @ words)[:, None]),
        mass=ratio(mass, mass.sum(axis=1, keepdims=True)),
    )


def _check_baseline(baseline: tuple[int, int]) -> tuple[int, int]:
    first, last = (int(year) for year in baseline)
    if first > last:
        raise ValueError(
            f"baseline {baseline} ends before it starts: give (first year, last year), "
            f"e.g. ({last}, {first})"
        )
    return first, last


def _in_baseline(frame: pd.DataFrame, first: int, last: int) -> np.ndarray:
    year = pd.to_numeric(frame["year"], errors="coerce")
    return year.between(first, last).fillna(False).to_numpy(dtype=bool)
