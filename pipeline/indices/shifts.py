"""Where did the discourse move? Shifts between consecutive periods, and change points.

Both functions read either table: the tidy table of :func:`pipeline.indices.compute.compute_indices`
(the defaults: ``value="doc_share"``, one series per code × breakdown × group) or the composite
table of :func:`pipeline.indices.composite.composite_indices` (``value="value"``,
``key_columns=("index",)``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

TIDY_KEYS = ("code", "breakdown", "group")
COMPOSITE_KEYS = ("index",)
SHIFT_COLUMNS = (
    "series",
    "period",
    "previous_period",
    "value",
    "previous_value",
    "change",
    "direction",
)
# The interval columns of each value column; any other value ``x`` uses ``x_low`` and ``x_high``.
INTERVALS = {
    "share": ("share_low", "share_high"),
    "doc_share": ("doc_share_low", "doc_share_high"),
    "rate_per_1000_words": ("rate_low", "rate_high"),
    "value": ("low", "high"),
}


def flag_shifts(
    table: pd.DataFrame,
    value: str = "doc_share",
    key_columns: Sequence[str] = TIDY_KEYS,
    *,
    low: str | None = None,
    high: str | None = None,
    skip_low_documents: bool = True,
) -> pd.DataFrame:
    """List the periods whose interval does not overlap the previous period's.

    Each series (rows with the same ``key_columns``) is taken in period order. Periods flagged
    ``low_documents`` (when ``skip_low_documents``) and periods with no value are left out first,
    so a period is compared with the previous period that has enough documents; ``previous_period``
    says which one that was.

    Args:
        table: the tidy table or the composite table.
        value: the column to compare, e.g. ``"doc_share"``, ``"share"``, ``"rate_per_1000_words"``
            or, for the composite table, ``"value"``.
        key_columns: the columns that identify a series (``("index",)`` for the composite table).
        low: lower-bound column; by default the one that goes with ``value`` (see
            :data:`INTERVALS`).
        high: upper-bound column, likewise.
        skip_low_documents: leave out rows whose ``low_documents`` is true.

    Returns:
        Columns ``series, period, previous_period, value, previous_value, change, direction`` and
        the key columns; ``series`` joins the key values with " / ", ``change`` is value minus
        previous value and ``direction`` is "up" or "down". Sorted by series key and period.

    Raises:
        ValueError: a column is missing (the message says how to call it for the other table).
    """
    keys = list(key_columns)
    low, high = _interval_columns(value, low, high)
    data = _series_rows(table, value, keys, [low, high], skip_low_documents)
    columns = [*SHIFT_COLUMNS, *keys]
    if data.empty:
        return _empty_shifts(table, keys)
    previous = data.groupby(keys, sort=False, dropna=False)[["period", value, low, high]].shift(1)
    values = data[value].to_numpy(np.float64)
    previous_values = previous[value].to_numpy(np.float64)
    apart = (data[low].to_numpy(np.float64) > previous[high].to_numpy(np.float64)) | (
        data[high].to_numpy(np.float64) < previous[low].to_numpy(np.float64)
    )
    flagged = apart & previous["period"].notna().to_numpy()
    change = values - previous_values
    shifts = pd.DataFrame(
        {
            "series": _series_names(data, keys),
            "period": data["period"].astype(str),
            "previous_period": previous["period"].astype(str),
            "value": values,
            "previous_value": previous_values,
            "change": change,
            "direction": np.where(change > 0, "up", "down"),
        },
        index=data.index,
    )
    for key in keys:
        shifts[key] = data[key]
    return shifts.loc[flagged, columns].reset_index(drop=True)


def change_points(
    series: pd.Series, *, penalty: float | None = None, min_size: int = 2
) -> list[str]:
    """Find the periods where a new regime of the series starts.

    The series (NaN dropped, sorted by period) is standardised to mean 0 and standard deviation
    1, then segmented by PELT with a least-squares cost (``ruptures.Pelt(model="l2")``). The
    default penalty is ``3 · ln(n)`` for ``n`` periods: a BIC-like choice, a little stricter than
    BIC's ``2 · ln(n)`` for one mean parameter plus its change point, so that year-to-year noise
    is not taken for a regime change. Raise it to find fewer change points.

    Args:
        series: values indexed by period labels (e.g. ``"2013"``).
        penalty: PELT penalty on the standardised series; ``None`` for ``3 · ln(n)``.
        min_size: shortest regime, in periods.

    Returns:
        The labels of the first period of every new regime, in order; ``[]`` when the series has
        fewer than ``2 · min_size`` values or does not vary.
    """
    clean = series.dropna().sort_index()
    n = len(clean)
    if min_size < 1:
        raise ValueError(f"min_size must be at least 1 (got {min_size})")
    if n < 2 * min_size:
        return []
    values = clean.to_numpy(np.float64)
    spread = values.std()
    if not spread > 0:
        return []
    import ruptures  # here, not at the top: it takes a second to import (scipy)

    signal = ((values - values.mean()) / spread).reshape(-1, 1)
    pen = 3 * math.log(n) if penalty is None else penalty
    ends = ruptures.Pelt(model="l2", min_size=min_size, jump=1).fit(signal).predict(pen=pen)
    return [str(clean.index[end]) for end in ends[:-1]]


def change_points_table(
    table: pd.DataFrame,
    value: str = "doc_share",
    key_columns: Sequence[str] = TIDY_KEYS,
    *,
    penalty: float | None = None,
    min_size: int = 2,
    skip_low_documents: bool = True,
) -> pd.DataFrame:
    """Run :func:`change_points` on every series of the tidy or composite table.

    Args:
        table: the tidy table or the composite table.
        value: the column to segment (``"value"`` for the composite table).
        key_columns: the columns that identify a series (``("index",)`` for the composite table).
        penalty: see :func:`change_points`.
        min_size: see :func:`change_points`.
        skip_low_documents: leave out rows whose ``low_documents`` is true first.

    Returns:
        Columns ``series, period`` and the key columns: one row per change point.
    """
    keys = list(key_columns)
    data = _series_rows(table, value, keys, [], skip_low_documents)
    rows = []
    for key, rows_of_series in data.groupby(keys, sort=False, dropna=False):
        key_values = key if isinstance(key, tuple) else (key,)
        values = pd.Series(rows_of_series[value].to_numpy(), index=rows_of_series["period"])
        for period in change_points(values, penalty=penalty, min_size=min_size):
            name = " / ".join(str(part) for part in key_values)
            rows.append({"series": name, "period": period, **dict(zip(keys, key_values))})
    if not rows:
        return _empty_shifts(table, keys)[["series", "period", *keys]]
    return pd.DataFrame(rows, columns=["series", "period", *keys])


def _interval_columns(value: str, low: str | None, high: str | None) -> tuple[str, str]:
    default_low, default_high = INTERVALS.get(value, (f"{value}_low", f"{value}_high"))
    return low or default_low, high or default_high


def _series_rows(
    table: pd.DataFrame,
    value: str,
    keys: list[str],
    extra: list[str],
    skip_low_documents: bool,
) -> pd.DataFrame:
    """Check the columns, drop low-document and empty rows, sort by key and period."""
    missing = [c for c in ["period", value, *keys, *extra] if c not in table.columns]
    if missing:
        raise ValueError(
            f"the table has no column {', '.join(map(repr, missing))}; for the tidy table of "
            "compute_indices use value='doc_share' (or 'share', 'rate_per_1000_words') and "
            "key_columns=('code', 'breakdown', 'group'); for the composite table use "
            "value='value' and key_columns=('index',)"
        )
    data = table
    if skip_low_documents and "low_documents" in data.columns:
        data = data.loc[~data["low_documents"].astype(bool)]
    data = data.loc[data[value].notna()]
    return data.sort_values([*keys, "period"], kind="stable")


def _series_names(data: pd.DataFrame, keys: list[str]) -> list[str]:
    parts = [data[key].astype(str).tolist() for key in keys]
    return [" / ".join(values) for values in zip(*parts)]


def _empty_shifts(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    empty = pd.DataFrame(
        {
            "series": pd.Series([], dtype=str),
            "period": pd.Series([], dtype=str),
            "previous_period": pd.Series([], dtype=str),
            "value": pd.Series([], dtype=np.float64),
            "previous_value": pd.Series([], dtype=np.float64),
            "change": pd.Series([], dtype=np.float64),
            "direction": pd.Series([], dtype=str),
        }
    )
    for key in keys:
        empty[key] = pd.Series([], dtype=table[key].dtype if key in table.columns else str)
    return empty
