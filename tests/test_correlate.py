"""Correlations with outside series: the bootstrap, and what of a covariates file is used."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pipeline.indices.correlate import correlate, read_covariates
from tests.conftest import SHARED


def _series(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    years = pd.Index(range(2001, 2013))
    indices = pd.DataFrame({"alignment": rng.normal(size=12)}, index=years)
    # Whole numbers repeat, so resamples hold ties: Spearman's average ranks are exercised.
    covariates = pd.DataFrame({"aid": rng.integers(0, 4, 12).astype(float)}, index=years)
    return indices, covariates


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_intervals_are_the_quantiles_of_scipy_on_each_resample(seed: int) -> None:
    indices, covariates = _series(seed)
    row = correlate(indices, covariates, lags=(0,), n_boot=300, seed=seed).iloc[0]
    x, y = indices["alignment"].to_numpy(), covariates["aid"].to_numpy()
    # The same resamples, one at a time, through scipy's own coefficients.
    import zlib

    key = zlib.crc32(f"{seed}|alignment|aid|0".encode())
    rng = np.random.default_rng(key)
    pearson, spearman = [], []
    for _ in range(300):
        pick = rng.integers(0, 12, 12)
        xs, ys = x[pick], y[pick]
        varies = np.ptp(xs) > 0 and np.ptp(ys) > 0
        pearson.append(stats.pearsonr(xs, ys)[0] if varies else np.nan)
        spearman.append(stats.spearmanr(xs, ys)[0] if varies else np.nan)
    assert row["pearson"] == pytest.approx(stats.pearsonr(x, y)[0], abs=1e-12)
    assert row["spearman"] == pytest.approx(stats.spearmanr(x, y)[0], abs=1e-12)
    for name, draws in (("pearson", pearson), ("spearman", spearman)):
        assert row[f"{name}_low"] == pytest.approx(np.nanquantile(draws, 0.025), abs=1e-12)
        assert row[f"{name}_high"] == pytest.approx(np.nanquantile(draws, 0.975), abs=1e-12)


def test_years_of_requests_are_left_out_and_named() -> None:
    text = (
        "year,aid,status,notes\n"
        "2008,10,appropriated,\n2009,12,Appropriated,x\n2010,14,actual,\n"
        "2011,9,FY2011 (req.),\n2012,30,request,\n2013,8,estimate,\n2014,7,,\n"
    )
    found = read_covariates(text)
    assert found.excluded == {2011: "FY2011 (req.)", 2012: "request", 2013: "estimate"}
    assert found.table["aid"].dropna().index.tolist() == [2008, 2009, 2010, 2014]
    assert found.skipped == ["notes"], "the status column is used, not skipped"
    notes = " ".join(found.notes())
    assert "2012 (request)" in notes and "left out text columns: notes" in notes


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared is not present")
def test_the_crs_aid_requests_of_2019_and_2020_are_not_used_as_aid() -> None:
    path = SHARED / "data" / "covariates" / "us_aid_pakistan_crs.csv"
    found = read_covariates(path.read_text("utf-8"), str(path))
    assert {2019, 2020} <= set(found.excluded)
    assert found.table.loc[[2019, 2020]].isna().all().all()
    assert found.table.loc[2018, "grand_total_musd"] == 108
