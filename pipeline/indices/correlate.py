"""Associations between the yearly indices and outside series (aid, violence, ...).

These are correlations over a handful of years: descriptive, not causal, and fragile. Every row
says how many years it rests on.
"""

from __future__ import annotations

import csv
import io
import re
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.core import DEFAULT_SEED
from pipeline.errors import DshiftError

CAUTION = (
    "These are associations over few years (see n_years), not effects: one unusual year can "
    "make or break a correlation, and both series may follow a third one. Read the intervals."
)


@dataclass(frozen=True)
class Covariates:
    """Numeric yearly series, and the text columns that were left out."""

    table: pd.DataFrame  # index: year (int); one float column per series
    skipped: list[str]
    excluded: dict[int, str] = field(default_factory=dict)  # year -> its status, left out

    def notes(self) -> list[str]:
        """What was left out of the file, in words, for the user."""
        notes = []
        if self.skipped:
            notes.append(f"left out text columns: {', '.join(self.skipped)}")
        if self.excluded:
            listed = ", ".join(f"{year} ({status})" for year, status in self.excluded.items())
            notes.append(
                f"left out years whose figures are not actuals (status column): {listed}; "
                "a request or an estimate is not what was spent"
            )
        return notes


NOT_ACTUAL = re.compile(
    r"\b(req|request|requested|estimate|estimated|est|proposed|projected|planned)\b"
)
"""Words of a ``status`` cell that mark a figure as not an actual one (CRS: "FY2020 (req.)")."""


def read_covariates(text: str, source: str = "covariates.csv") -> Covariates:
    """Parse a CSV of a ``year`` column and numeric series, reporting every bad cell.

    Columns with no number at all (notes, URLs) are left out and listed; a column with numbers
    and some cells that are not numbers is an error naming each such cell. When the file has a
    ``status`` column, the years whose status says the figures are not actuals (a request, an
    estimate) are left out of every series and listed: the CRS aid tables give the
    administration's request for years not yet appropriated, and a request is not aid given.

    Raises:
        DshiftError: no year column, a bad or duplicate year, or non-numeric cells.
    """
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows:
        raise DshiftError(
            f"{source} has no rows", "give a header line and one row per year", code="bad-file"
        )
    columns = list(rows[0].keys())
    year_column = next((c for c in columns if c.strip().lower() == "year"), None)
    if year_column is None:
        raise DshiftError(
            f"{source} has no 'year' column (columns: {', '.join(columns)})",
            "name the column holding the years 'year'",
            code="bad-file",
        )
    problems: list[str] = []
    years: list[int] = []
    for line, row in enumerate(rows, start=2):
        value = (row.get(year_column) or "").strip()
        try:
            years.append(int(float(value)))
        except ValueError:
            problems.append(f"line {line}: year '{value}' is not a year")
            years.append(-1)
    seen: dict[int, int] = {}
    for line, year in enumerate(years, start=2):
        if year in seen and year != -1:
            problems.append(f"line {line}: year {year} already on line {seen[year]}")
        seen.setdefault(year, line)
    series: dict[str, list[float]] = {}
    skipped = []
    for column in columns:
        if column == year_column:
            continue
        values: list[float] = []
        bad: list[str] = []
        numbers = 0
        for line, row in enumerate(rows, start=2):
            cell = (row.get(column) or "").strip().replace(",", "")
            if not cell:
                values.append(np.nan)
                continue
            try:
                values.append(float(cell))
                numbers += 1
            except ValueError:
                values.append(np.nan)
                bad.append(f"line {line}, column {column}: '{cell[:30]}' is not a number")
        if numbers == 0:
            skipped.append(column)
        else:
            problems.extend(bad)
            series[column] = values
    if problems:
        listed = "\n  ".join(problems[:30])
        raise DshiftError(
            f"{source} has {len(problems)} problem(s):\n  {listed}",
            "fix the cells (leave a cell empty for a missing value)",
            code="bad-file",
        )
    if not series:
        raise DshiftError(
            f"{source} has no numeric column besides the year",
            "add at least one column of numbers",
            code="bad-file",
        )
    table = pd.DataFrame(series, index=pd.Index(years, name="year"))
    excluded: dict[int, str] = {}
    status_column = next((c for c in columns if c.strip().lower() == "status"), None)
    if status_column is not None:
        for year, row in zip(years, rows):
            status = " ".join((row.get(status_column) or "").split())
            if NOT_ACTUAL.search(status.lower().replace(".", " ")):
                excluded[year] = status
        table.loc[list(excluded)] = np.nan
        skipped = [column for column in skipped if column != status_column]
    return Covariates(table.sort_index(), skipped, dict(sorted(excluded.items())))


def correlate(
    indices: pd.DataFrame,
    covariates: pd.DataFrame,
    *,
    lags: tuple[int, ...] = (0, 1),
    n_boot: int = 2000,
    seed: int = DEFAULT_SEED,
    min_years: int = 4,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Pearson and Spearman correlations of each index with each covariate, with intervals.

    Args:
        indices: one column per index series, indexed by year (int).
        covariates: one column per outside series, indexed by year (int).
        lags: the covariate is taken ``lag`` years before the index year.
        n_boot: bootstrap draws over the paired years for the intervals.
        min_years: fewer paired years than this gives NaN.

    Returns:
        index, covariate, lag, n_years, first_year, last_year, pearson, pearson_low,
        pearson_high, spearman, spearman_low, spearman_high.
    """
    alpha = (1 - confidence) / 2
    out = []
    for index_name in indices.columns:
        for cov_name in covariates.columns:
            for lag in lags:
                shifted = covariates[cov_name].copy()
                shifted.index = shifted.index + lag
                pairs = pd.concat([indices[index_name], shifted], axis=1, join="inner").dropna()
                x, y = pairs.iloc[:, 0].to_numpy(float), pairs.iloc[:, 1].to_numpy(float)
                row: dict[str, object] = {
                    "index": index_name,
                    "covariate": cov_name,
                    "lag": lag,
                    "n_years": len(pairs),
                    "first_year": int(pairs.index.min()) if len(pairs) else None,
                    "last_year": int(pairs.index.max()) if len(pairs) else None,
                }
                key = zlib.crc32(f"{seed}|{index_name}|{cov_name}|{lag}".encode())
                if len(pairs) < min_years or np.std(x) == 0 or np.std(y) == 0:
                    for name in ("pearson", "spearman"):
                        row.update({name: np.nan, f"{name}_low": np.nan, f"{name}_high": np.nan})
                    out.append(row)
                    continue
                # One set of resampled years serves both coefficients, drawn in one call: the
                # same stream of numbers as drawing them one resample at a time.
                pick = np.random.default_rng(key).integers(0, len(x), (n_boot, len(x)))
                xs, ys = x[pick], y[pick]
                for name, draws, value in (
                    ("pearson", _row_pearson(xs, ys), _pearson(x, y)),
                    ("spearman", _row_spearman(xs, ys), _spearman(x, y)),
                ):
                    row[name] = value
                    row[f"{name}_low"] = float(np.nanquantile(draws, alpha))
                    row[f"{name}_high"] = float(np.nanquantile(draws, 1 - alpha))
                out.append(row)
    return pd.DataFrame(out)


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    from scipy import stats  # a second of import: only when something is correlated

    return float(stats.pearsonr(x, y)[0])


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    from scipy import stats

    return float(stats.spearmanr(x, y)[0])


def _row_pearson(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Pearson's r of each row pair; NaN where a row does not vary."""
    xc = xs - xs.mean(axis=1, keepdims=True)
    yc = ys - ys.mean(axis=1, keepdims=True)
    sx = np.sqrt((xc * xc).sum(axis=1))
    sy = np.sqrt((yc * yc).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (xc * yc).sum(axis=1) / (sx * sy)
    # A resample of one repeated year has no spread: its coefficient is undefined, not 0.
    flat = (np.ptp(xs, axis=1) == 0) | (np.ptp(ys, axis=1) == 0)
    r[flat] = np.nan
    return np.clip(r, -1.0, 1.0)


def _row_spearman(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Spearman's rho of each row pair: Pearson's r of the average ranks, as scipy computes it."""
    from scipy import stats

    return _row_pearson(stats.rankdata(xs, axis=1), stats.rankdata(ys, axis=1))
