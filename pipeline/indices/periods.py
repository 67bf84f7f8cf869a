"""Numeric time variables for period labels: the year and the date a period starts (pure).

Index tables label periods as text (``"2013"``, ``"2013-Q2"``, ``"2013-04"``) so that one column
holds any granularity; analysts' tools want numbers and dates instead (Stata's ``tsset``, a
pandas date index, R's ``as.Date``). These columns are derived from the label alone, so every
export format carries the same values.
"""

from __future__ import annotations

import pandas as pd

PERIOD_COLUMN = "period"
YEAR_COLUMN = "year"
START_COLUMN = "period_start"

_LABEL = r"^(?P<year>\d{4})(?:-Q(?P<quarter>[1-4])|-(?P<month>0[1-9]|1[0-2]))?$"


def period_year(labels: pd.Series) -> pd.Series:
    """Return the year of each period label as nullable integers (NA for ``undated`` and the
    like).

    Examples:
        >>> period_year(pd.Series(["2013", "2013-Q2", "2013-04", "undated"])).tolist()
        [2013, 2013, 2013, <NA>]
    """
    parts = labels.astype("string").str.extract(_LABEL)
    return pd.to_numeric(parts["year"], errors="coerce").astype("Int64").rename(YEAR_COLUMN)


def period_start(labels: pd.Series) -> pd.Series:
    """Return the first day of each period (a year's 1 January, a quarter's first month), as
    dates without a time zone; NaT where the label is not a period.

    Examples:
        >>> [str(d.date()) for d in period_start(pd.Series(["2013", "2013-Q2", "2013-11"]))]
        ['2013-01-01', '2013-04-01', '2013-11-01']
    """
    parts = labels.astype("string").str.extract(_LABEL)
    quarter = pd.to_numeric(parts["quarter"], errors="coerce").astype("Int64")
    from_quarter = ((quarter - 1) * 3 + 1).astype("string").str.zfill(2)
    month = parts["month"].astype("string").fillna(from_quarter).fillna("01")
    iso = parts["year"].astype("string") + "-" + month + "-01"
    start = pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce")
    # Seconds, not nanoseconds: a unit Stata and Parquet both hold without loss.
    return start.astype("datetime64[s]").rename(START_COLUMN)


def with_time_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Return ``table`` with ``year`` and ``period_start`` inserted after its ``period`` column.

    A table without a ``period`` column, or one that already has a ``year`` or
    ``period_start`` column, is returned unchanged (its own columns win).
    """
    columns = list(table.columns)
    if PERIOD_COLUMN not in columns or YEAR_COLUMN in columns or START_COLUMN in columns:
        return table
    result = table.copy()
    at = columns.index(PERIOD_COLUMN) + 1
    labels = result[PERIOD_COLUMN]
    result.insert(at, YEAR_COLUMN, period_year(labels).array)
    result.insert(at + 1, START_COLUMN, period_start(labels).array)
    return result
