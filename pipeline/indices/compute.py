"""The tidy index table: per period, code and group, shares and rates with bootstrap intervals.

Every figure is computed from the segment frame (see :mod:`pipeline.indices.frame`). Intervals come
from a percentile bootstrap that resamples *documents* with replacement, because segments of one
document are not independent. Each period × breakdown × group draws its own resampling matrix from
a seed derived from ``seed`` and the group's name, so a figure never depends on the order of the
rows, on the order of computation or on which other codes are asked for.
"""

from __future__ import annotations

import difflib
import warnings
import zlib
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from pipeline.core import DEFAULT_SEED
from pipeline.indices.frame import CODE_PREFIX, DOCUMENT_ORDER, PARTNER_PREFIX

FloatArray = npt.NDArray[np.float64]

PERIODS = ("year", "quarter", "month")
BREAKDOWNS = ("overall", "source_type", "partner")
UNDATED = "undated"
UNPLACEABLE = "unplaceable"
UNKNOWN_SOURCE = "unknown"

COLUMNS = (
    "period",
    "code",
    "breakdown",
    "group",
    "documents",
    "segments",
    "words",
    "coded_segments",
    "share",
    "share_low",
    "share_high",
    "doc_share",
    "doc_share_low",
    "doc_share_high",
    "rate_per_1000_words",
    "rate_low",
    "rate_high",
    "machine_segments",
    "human_segments",
    "low_documents",
)
_TEXT = ("period", "code", "breakdown", "group")
_COUNTS = ("documents", "segments", "words", "coded_segments", "machine_segments", "human_segments")
_FLAGS = ("low_documents",)
_BUILDER_HINT = (
    "the frame must come from the segment-frame builder (see pipeline/indices/frame.py), which "
    "adds a code__<id> column for every code of the codebook and a partner__<id> column for "
    "every partner"
)


def check_options(period: str, n_boot: int, confidence: float, min_docs: int = 1) -> None:
    """Reject options the index functions cannot honour, saying which values are allowed.

    Raises:
        ValueError: an unknown period, ``n_boot`` below 1, ``confidence`` outside (0, 1) or a
            negative ``min_docs``.
    """
    check_period(period)
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1 (got {n_boot}); 1000 is the usual choice")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1 (got {confidence})")
    if min_docs < 0:
        raise ValueError(f"min_docs must be 0 or more (got {min_docs})")


def check_period(period: str) -> None:
    """Raise ValueError, with a close match, unless ``period`` is "year", "quarter" or "month"."""
    if period not in PERIODS:
        close = difflib.get_close_matches(str(period), PERIODS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown period {period!r}{hint}: use 'year', 'quarter' or 'month'")


def require_columns(frame: pd.DataFrame, codes: Iterable[str], partners: Iterable[str]) -> None:
    """Check that ``frame`` has the base columns and a column for every code and partner.

    Raises:
        ValueError: naming every missing column, with a close match when there is one.
    """
    wanted = [
        "document_id",
        "year",
        "date",
        "source_type",
        "n_words",
        "decided_by",
        *(CODE_PREFIX + code for code in codes),
        *(PARTNER_PREFIX + partner for partner in partners),
    ]
    present = [str(column) for column in frame.columns]
    problems = []
    for column in wanted:
        if column in frame.columns:
            continue
        close = difflib.get_close_matches(column, present, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.append(f"{column!r}{hint}")
    if problems:
        raise ValueError(
            f"the segment frame has no column {', '.join(problems)}; {_BUILDER_HINT}, so check the "
            "code and partner ids against the codebook"
        )


def period_of(frame: pd.DataFrame, period: str = "year") -> pd.Series:
    """Label every row with its period: ``"2013"``, ``"2013-Q2"`` or ``"2013-04"``.

    Args:
        frame: the segment frame (needs ``year``, and ``date`` for quarters and months).
        period: ``"year"``, ``"quarter"`` or ``"month"``.

    Returns:
        A string Series aligned on ``frame``, NA where the row cannot be placed: no year, or (for
        quarters and months) a date without a month such as ``"2013"``. The year comes from the
        ``year`` column, the month from characters 6-7 of ``date`` (``YYYY-MM`` or ISO date).
    """
    check_period(period)
    year = pd.to_numeric(frame["year"], errors="coerce").astype("Int64")
    labels = year.astype("string")
    if period != "year":
        text = frame["date"].astype("string")
        month = pd.to_numeric(text.str.extract(r"^\d{4}-(\d{2})", expand=False), errors="coerce")
        month = month.astype("Int64")
        month = month.where(month.between(1, 12).fillna(False).astype(bool))
        if period == "quarter":
            labels = labels + "-Q" + ((month - 1) // 3 + 1).astype("string")
        else:
            labels = labels + "-" + month.astype("string").str.zfill(2)
    return labels.rename("period")


def coverage(frame: pd.DataFrame, period: str = "year") -> pd.DataFrame:
    """Count documents, segments and words per period and source type, including what is left out.

    Args:
        frame: the segment frame.
        period: ``"year"``, ``"quarter"`` or ``"month"``.

    Returns:
        Columns ``period, source_type, documents, segments, words``; dated periods first (sorted),
        then ``"unplaceable"`` (a year but no month, for quarters and months) and ``"undated"``
        (no year), each broken down by source type and present only when not empty.
    """
    columns = ["period", "source_type", "documents", "segments", "words"]
    if frame.empty:
        return _typed(pd.DataFrame({c: [] for c in columns}), text=columns[:2], counts=columns[2:])
    labels = period_of(frame, period).astype(object)
    undated = frame["year"].isna().to_numpy()
    fallback = np.where(undated, UNDATED, UNPLACEABLE)
    work = pd.DataFrame(
        {
            "period": np.where(labels.isna().to_numpy(), fallback, labels.to_numpy()),
            "source_type": _source_types(frame),
            "document_id": frame["document_id"].to_numpy(),
            "n_words": _words(frame),
        }
    )
    table = (
        work.groupby(["period", "source_type"], sort=True)
        .agg(
            documents=("document_id", "nunique"),
            segments=("document_id", "size"),
            words=("n_words", "sum"),
        )
        .reset_index()
    )
    rank = table["period"].map({UNPLACEABLE: 1, UNDATED: 2}).fillna(0)
    table = table.assign(_rank=rank).sort_values(["_rank", "period", "source_type"], kind="stable")
    table = table.drop(columns="_rank").reset_index(drop=True)
    return _typed(table, text=columns[:2], counts=columns[2:])


def compute_indices(
    frame: pd.DataFrame,
    codes: list[str],
    partners: list[str],
    *,
    period: str = "year",
    n_boot: int = 1000,
    seed: int = DEFAULT_SEED,
    min_docs: int = 3,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Compute shares, document-weighted shares and rates per period, code and group.

    Args:
        frame: the segment frame, one row per segment.
        codes: code ids, in the order the rows should follow.
        partners: partner ids for the ``partner`` breakdown.
        period: ``"year"``, ``"quarter"`` or ``"month"``; see :func:`period_of` for what is left
            out.
        n_boot: bootstrap draws per period × breakdown × group.
        seed: base seed; each group's seed is ``crc32(f"{seed}|{period}|{breakdown}|{group}")``.
        min_docs: groups with fewer documents get ``low_documents`` true.
        confidence: level of the percentile intervals.

    Returns:
        The tidy table with the columns of :data:`COLUMNS`, one row per period × code ×
        breakdown × group, sorted by period, code (in the order of ``codes``), breakdown
        (overall, source_type, partner) and group. See ``composite.FORMULAS`` for definitions.

    Raises:
        ValueError: a missing column or a bad option.
    """
    check_options(period, n_boot, confidence, min_docs)
    codes = list(dict.fromkeys(codes))
    partners = list(dict.fromkeys(partners))
    require_columns(frame, codes, partners)
    labels = period_of(frame, period)
    placed = labels.notna().to_numpy()
    if not codes or not placed.any():
        return empty_table()
    work = frame.loc[placed]
    label_array = labels.to_numpy(dtype=object)[placed]
    coded = code_matrix(work, codes)
    decided = work["decided_by"].astype("string").fillna("").to_numpy(dtype=object)
    machine = (decided == "machine")[:, None]
    human = (decided == "human")[:, None]
    values = np.column_stack(
        [np.ones(len(work)), _words(work), coded, coded & machine, coded & human]
    ).astype(np.float64)
    documents = document_keys(work)
    parts: list[dict[str, np.ndarray]] = []
    for breakdown, groups, mask in _breakdowns(work, partners):
        keys = [label_array[mask], groups[mask]]
        for (label, group), sums in document_sums(keys, documents[mask], values[mask]):
            weights = resample_weights(len(sums), n_boot, seed, label, breakdown, group)
            rows = _summarise(sums, weights, len(codes), confidence)
            rows.update(period=np.full(len(codes), label, dtype=object))
            rows.update(breakdown=np.full(len(codes), breakdown, dtype=object))
            rows.update(group=np.full(len(codes), group, dtype=object))
            rows.update(code=np.array(codes, dtype=object))
            parts.append(rows)
    if not parts:
        return empty_table()
    table = pd.DataFrame({c: np.concatenate([part[c] for part in parts]) for c in COLUMNS[:-1]})
    table["low_documents"] = table["documents"] < min_docs
    order = pd.DataFrame(
        {
            "period": table["period"],
            "code": table["code"].map({code: i for i, code in enumerate(codes)}),
            "breakdown": table["breakdown"].map({b: i for i, b in enumerate(BREAKDOWNS)}),
            "group": table["group"],
        }
    ).sort_values(["period", "code", "breakdown", "group"], kind="stable")
    table = table.loc[order.index].reset_index(drop=True)
    return _typed(table, text=_TEXT, counts=_COUNTS, flags=_FLAGS)


def empty_table() -> pd.DataFrame:
    """Return the tidy table with no rows, its columns and dtypes in place."""
    return _typed(pd.DataFrame({c: [] for c in COLUMNS}), text=_TEXT, counts=_COUNTS, flags=_FLAGS)


def code_matrix(frame: pd.DataFrame, codes: Sequence[str]) -> npt.NDArray[np.bool_]:
    """Return the ``code__<id>`` columns of ``codes`` as a boolean matrix (NA counts as false)."""
    columns = [CODE_PREFIX + code for code in codes]
    if not columns:
        return np.zeros((len(frame), 0), dtype=bool)
    return frame[columns].astype("boolean").fillna(False).to_numpy(dtype=bool)


def document_keys(frame: pd.DataFrame) -> np.ndarray:
    """Each row's document as the bootstrap orders documents: by the document's SHA-256 rank
    (:data:`~pipeline.indices.frame.DOCUMENT_ORDER`), else by its id (a frame made by hand)."""
    column = DOCUMENT_ORDER if DOCUMENT_ORDER in frame.columns else "document_id"
    return frame[column].to_numpy()


def document_sums(
    keys: Sequence[np.ndarray], documents: np.ndarray, values: np.ndarray
) -> Iterator[tuple[tuple[str, ...], FloatArray]]:
    """Sum ``values`` per document within every combination of ``keys``.

    Args:
        keys: one array per grouping key, aligned with ``values`` (e.g. period labels, groups).
        documents: the document id of every row.
        values: a 2-D numeric array, one row per segment.

    Yields:
        ``(key tuple, sums)`` in sorted key order, where ``sums`` has one row per document of the
        group, ordered by document id, and one column per column of ``values``.
    """
    if len(documents) == 0:
        return
    names = [f"key{i}" for i in range(len(keys))]
    table = pd.DataFrame(values, columns=[f"value{i}" for i in range(values.shape[1])])
    for name, key in zip(names, keys):
        table[name] = np.asarray(key, dtype=object)
    table["document"] = documents
    summed = table.groupby([*names, "document"], sort=True).sum()
    array = summed.to_numpy(dtype=np.float64)
    index = summed.index
    assert isinstance(index, pd.MultiIndex)  # at least one key plus the document
    level_codes = np.column_stack([np.asarray(index.codes[i]) for i in range(len(keys))])
    starts = np.flatnonzero(
        np.concatenate([[True], (level_codes[1:] != level_codes[:-1]).any(axis=1)])
    )
    ends = np.append(starts[1:], len(array))
    for start, end in zip(starts, ends):
        group_key = tuple(str(index.levels[i][level_codes[start, i]]) for i in range(len(keys)))
        yield group_key, array[start:end]


def resample_weights(n_docs: int, n_boot: int, seed: int, *parts: str) -> FloatArray:
    """Draw ``n_boot`` bootstrap resamples of ``n_docs`` documents as a multiplicity matrix.

    Args:
        n_docs: documents in the group.
        n_boot: number of draws.
        seed: base seed.
        *parts: names that identify the group (period, breakdown, group); the generator is seeded
            with ``zlib.crc32`` of ``"|".join([str(seed), *parts])`` so every group has its own
            reproducible stream.

    Returns:
        An ``n_boot × n_docs`` float matrix whose entry (b, d) counts how often document d was
        drawn in resample b; each row sums to ``n_docs``.
    """
    key = "|".join([str(seed), *parts])
    rng = np.random.default_rng(zlib.crc32(key.encode("utf-8")))
    drawn = rng.integers(0, n_docs, size=(n_boot, n_docs))
    flat = (drawn + np.arange(n_boot)[:, None] * n_docs).ravel()
    counts = np.bincount(flat, minlength=n_boot * n_docs)
    return counts.reshape(n_boot, n_docs).astype(np.float64)


def percentile_interval(samples: FloatArray, confidence: float) -> tuple[FloatArray, FloatArray]:
    """Return the lower and upper percentile bounds of ``samples`` along the first axis.

    The bounds are numpy's default ("linear") quantiles at ``(1 - confidence) / 2`` and
    ``(1 + confidence) / 2``. NaN draws (a ratio whose denominator was 0 in that resample) are
    left out; a column with only NaN draws gets NaN bounds.
    """
    tail = (1 - confidence) / 2
    if np.isnan(samples).any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            low, high = np.nanquantile(samples, [tail, 1 - tail], axis=0)
        return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
    # One sort of all columns at once: several times faster than np.quantile (or np.partition)
    # column by column, with the same ("linear") interpolation.
    n_draws = samples.shape[0]
    position = np.array([tail, 1 - tail]) * (n_draws - 1)
    below = np.floor(position).astype(np.intp)
    above = np.minimum(below + 1, n_draws - 1)
    weight = (position - below)[:, None]
    ordered = np.sort(samples, axis=0)
    bounds = ordered[below] + (ordered[above] - ordered[below]) * weight
    return bounds[0], bounds[1]


def ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """Divide element-wise, giving NaN where the denominator is 0."""
    out = np.full(np.broadcast_shapes(numerator.shape, denominator.shape), np.nan)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def _summarise(
    sums: FloatArray, weights: FloatArray, n_codes: int, confidence: float
) -> dict[str, np.ndarray]:
    """Compute the figures of one period × group for every code, with their intervals."""
    segments, words = sums[:, 0], sums[:, 1]
    coded = sums[:, 2 : 2 + n_codes]
    n_docs = len(sums)
    rows: dict[str, np.ndarray] = {
        "documents": np.full(n_codes, n_docs),
        "segments": np.full(n_codes, segments.sum()),
        "words": np.full(n_codes, words.sum()),
        "coded_segments": coded.sum(axis=0),
        "machine_segments": sums[:, 2 + n_codes : 2 + 2 * n_codes].sum(axis=0),
        "human_segments": sums[:, 2 + 2 * n_codes :].sum(axis=0),
    }
    point = _statistics(np.ones((1, n_docs)), segments, words, coded)[0]
    if n_docs == 1:  # every resample is the document itself
        low = high = point
    else:
        low, high = percentile_interval(_statistics(weights, segments, words, coded), confidence)
    for i, (name, low_name, high_name) in enumerate(
        [
            ("share", "share_low", "share_high"),
            ("doc_share", "doc_share_low", "doc_share_high"),
            ("rate_per_1000_words", "rate_low", "rate_high"),
        ]
    ):
        columns = slice(i * n_codes, (i + 1) * n_codes)
        rows[name], rows[low_name], rows[high_name] = point[columns], low[columns], high[columns]
    return rows


def _statistics(
    weights: FloatArray, segments: FloatArray, words: FloatArray, coded: FloatArray
) -> FloatArray:
    """Compute share, doc_share and rate for each weighting of the documents (one per row).

    Returns:
        A matrix with one row per weighting and the columns ``[share × codes, doc_share × codes,
        rate × codes]``.
    """
    # Every document of a group has at least one segment and every resample keeps all n_docs
    # slots, so only the word count can be 0.
    coded_total = weights @ coded
    return np.hstack(
        [
            coded_total / (weights @ segments)[:, None],
            (weights @ (coded / segments[:, None])) / weights.sum(axis=1)[:, None],
            ratio(1000 * coded_total, (weights @ words)[:, None]),
        ]
    )


def _breakdowns(
    work: pd.DataFrame, partners: Sequence[str]
) -> Iterator[tuple[str, np.ndarray, npt.NDArray[np.bool_]]]:
    """Yield ``(breakdown, group of every row, rows in the breakdown)`` for each breakdown."""
    everything = np.ones(len(work), dtype=bool)
    yield "overall", np.full(len(work), "all", dtype=object), everything
    yield "source_type", _source_types(work), everything
    for partner in partners:
        mentions = work[PARTNER_PREFIX + partner].astype("boolean").fillna(False)
        yield "partner", np.full(len(work), partner, dtype=object), mentions.to_numpy(dtype=bool)


def _source_types(frame: pd.DataFrame) -> np.ndarray:
    return frame["source_type"].astype("string").fillna(UNKNOWN_SOURCE).to_numpy(dtype=object)


def _words(frame: pd.DataFrame) -> FloatArray:
    words = pd.to_numeric(frame["n_words"], errors="coerce").fillna(0)
    return words.to_numpy(dtype=np.float64)


def _typed(
    table: pd.DataFrame,
    *,
    text: Sequence[str] = (),
    counts: Sequence[str] = (),
    flags: Sequence[str] = (),
) -> pd.DataFrame:
    """Give every column its stable dtype: text as str, counts int64, flags bool, rest float64."""
    dtypes: dict[str, object] = {}
    for column in table.columns:
        if column in text:
            dtypes[column] = str
        elif column in counts:
            table[column] = np.rint(table[column].astype(np.float64))
            dtypes[column] = np.int64
        elif column in flags:
            dtypes[column] = bool
        else:
            dtypes[column] = np.float64
    return table.astype(dtypes)
