"""Indices: shares, intervals, composites and shifts, checked on small frames computed by hand."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.indices.composite import (
    FORMULAS,
    baseline_documents,
    composite_indices,
    jensen_shannon,
)
from pipeline.indices.compute import COLUMNS, compute_indices, coverage, period_of
from pipeline.indices.shifts import change_points, change_points_table, flag_shifts

CODES = ["alignment", "securitization", "hedging"]
PARTNERS = ["china", "united_states"]


def document(
    doc_id: int,
    year: int | None,
    n_segments: int,
    codes: dict[str, int] | None = None,
    *,
    date: str | None = None,
    source: str = "mofa",
    words: int = 10,
    partners: dict[str, int] | None = None,
    by: str = "machine",
) -> list[dict[str, object]]:
    """Return the segments of one document.

    ``codes`` and ``partners`` map an id to how many of the document's first segments carry it.
    """
    codes = codes or {}
    partners = partners or {}
    rows: list[dict[str, object]] = []
    for i in range(n_segments):
        row: dict[str, object] = {
            "segment_id": f"{doc_id}:{i}",
            "document_id": doc_id,
            "date": date if date is not None else (None if year is None else str(year)),
            "year": year,
            "source_type": source,
            "n_words": words,
            "decided_by": by,
        }
        for code in CODES:
            row[f"code__{code}"] = i < codes.get(code, 0)
        for partner in PARTNERS:
            row[f"partner__{partner}"] = i < partners.get(partner, 0)
        rows.append(row)
    return rows


def make_frame(*documents: Iterable[dict[str, object]]) -> pd.DataFrame:
    """Build a segment frame, with the dtypes of the segment-frame builder, from documents."""
    rows = [row for doc in documents for row in doc]
    frame = pd.DataFrame(rows)
    frame["year"] = frame["year"].astype("Int64")
    frame["n_words"] = frame["n_words"].astype("int64")
    return frame


def row_of(table: pd.DataFrame, **where: str) -> pd.Series:
    selected = table
    for column, value in where.items():
        selected = selected[selected[column] == value]
    assert len(selected) == 1, f"expected one row for {where}, found {len(selected)}"
    return selected.iloc[0]


def random_frame(seed: int = 3, n_docs: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    docs = []
    for doc_id in range(n_docs):
        n = int(rng.integers(1, 8))
        codes = {code: int(rng.integers(0, n + 1)) for code in CODES}
        source = str(rng.choice(["mofa", "ispr", "speech"]))
        partners = {"china": int(rng.integers(0, n + 1))}
        year = 2001 + doc_id % 3
        words = int(rng.integers(5, 40))
        docs.append(document(doc_id, year, n, codes, source=source, words=words, partners=partners))
    return make_frame(*docs)


# ---------------------------------------------------------------------------- compute_indices


def long_and_short() -> pd.DataFrame:
    """One long uncoded document and three short half-coded ones, all in 2010."""
    return make_frame(
        document(1, 2010, 10, words=20, partners={"china": 2}),
        document(2, 2010, 2, {"alignment": 1}, partners={"china": 1}),
        document(3, 2010, 2, {"alignment": 1}, source="ispr"),
        document(4, 2010, 2, {"alignment": 1}, source="ispr", by="human"),
    )


def test_pooled_and_document_weighted_shares_differ() -> None:
    table = compute_indices(long_and_short(), CODES, PARTNERS, n_boot=50)
    row = row_of(table, period="2010", code="alignment", breakdown="overall")
    assert row["group"] == "all"
    assert (row["documents"], row["segments"], row["coded_segments"]) == (4, 16, 3)
    assert row["share"] == pytest.approx(3 / 16)
    assert row["doc_share"] == pytest.approx((0 + 0.5 + 0.5 + 0.5) / 4)
    assert row["words"] == 10 * 20 + 6 * 10
    assert row["rate_per_1000_words"] == pytest.approx(1000 * 3 / 260)
    assert (row["machine_segments"], row["human_segments"]) == (2, 1)
    assert not row["low_documents"]
    for value in ("share", "doc_share", "rate"):
        name = "rate_per_1000_words" if value == "rate" else value
        assert row[f"{value}_low"] <= row[name] <= row[f"{value}_high"]


def test_source_type_and_partner_breakdowns() -> None:
    table = compute_indices(long_and_short(), CODES, PARTNERS, n_boot=50)
    mofa = row_of(table, code="alignment", breakdown="source_type", group="mofa")
    assert (mofa["documents"], mofa["segments"], mofa["coded_segments"]) == (2, 12, 1)
    assert mofa["share"] == pytest.approx(1 / 12)
    assert mofa["doc_share"] == pytest.approx((0 + 0.5) / 2)
    ispr = row_of(table, code="alignment", breakdown="source_type", group="ispr")
    assert ispr["share"] == pytest.approx(0.5)
    # Only the segments that mention China: two uncoded of doc 1, one coded of doc 2.
    china = row_of(table, code="alignment", breakdown="partner", group="china")
    assert (china["documents"], china["segments"], china["coded_segments"]) == (2, 3, 1)
    assert china["share"] == pytest.approx(1 / 3)
    assert china["doc_share"] == pytest.approx((0 + 1) / 2)
    assert china["words"] == 2 * 20 + 10
    assert china["low_documents"]  # 2 < min_docs = 3
    assert "united_states" not in set(table["group"])  # never mentioned: no rows


def test_columns_order_and_dtypes() -> None:
    table = compute_indices(long_and_short(), ["hedging", "alignment"], PARTNERS, n_boot=20)
    assert tuple(table.columns) == COLUMNS
    assert table["code"].tolist()[:4] == ["hedging"] * 4
    assert table["breakdown"].tolist()[:4] == ["overall", "source_type", "source_type", "partner"]
    assert table["group"].tolist()[1:3] == ["ispr", "mofa"]
    assert list(table.index) == list(range(len(table)))
    for column in ("documents", "segments", "words", "coded_segments", "machine_segments"):
        assert table[column].dtype == np.int64
    for column in ("share", "doc_share_low", "rate_high"):
        assert table[column].dtype == np.float64
    assert table["low_documents"].dtype == bool


def test_absent_year_and_year_without_codes() -> None:
    frame = make_frame(
        document(1, 2010, 3, {"alignment": 2}),
        document(2, 2010, 3, {"alignment": 1}),
        document(3, 2012, 4),
        document(4, 2012, 2),
    )
    table = compute_indices(frame, CODES, PARTNERS, n_boot=100)
    assert sorted(set(table["period"])) == ["2010", "2012"]  # 2011 has no segment: no rows
    quiet = row_of(table, period="2012", code="alignment", breakdown="overall")
    assert (quiet["segments"], quiet["coded_segments"]) == (6, 0)
    for column in ("share", "share_low", "share_high", "doc_share", "doc_share_low"):
        assert quiet[column] == 0
    assert quiet["rate_per_1000_words"] == 0 and quiet["rate_high"] == 0
    assert len(table[table["period"] == "2012"]) == 3 * 2  # 3 codes × (overall, mofa)


def test_single_document_interval_is_the_value() -> None:
    frame = make_frame(document(7, 2013, 4, {"hedging": 1}), document(8, 2014, 2))
    table = compute_indices(frame, CODES, PARTNERS, n_boot=100)
    row = row_of(table, period="2013", code="hedging", breakdown="overall")
    assert row["documents"] == 1 and row["low_documents"]
    assert row["share"] == row["share_low"] == row["share_high"] == pytest.approx(0.25)
    assert row["doc_share"] == row["doc_share_low"] == row["doc_share_high"] == pytest.approx(0.25)
    assert row["rate_low"] == row["rate_high"] == row["rate_per_1000_words"] == 25.0


def test_undated_documents_are_left_out_and_counted_in_coverage() -> None:
    frame = make_frame(
        document(1, 2010, 2, {"alignment": 1}),
        document(2, None, 5, {"alignment": 5}, source="ispr"),
    )
    table = compute_indices(frame, CODES, PARTNERS, n_boot=10)
    row = row_of(table, code="alignment", breakdown="overall")
    assert (row["period"], row["documents"], row["coded_segments"]) == ("2010", 1, 1)
    assert set(table["group"]) == {"all", "mofa"}
    cover = coverage(frame)
    assert cover.columns.tolist() == ["period", "source_type", "documents", "segments", "words"]
    assert cover.to_dict("records") == [
        {"period": "2010", "source_type": "mofa", "documents": 1, "segments": 2, "words": 20},
        {"period": "undated", "source_type": "ispr", "documents": 1, "segments": 5, "words": 50},
    ]


def test_quarters_and_months_leave_out_year_only_dates() -> None:
    frame = make_frame(
        document(1, 2010, 2, {"alignment": 1}, date="2010-05-03"),
        document(2, 2010, 1, {"alignment": 1}, date="2010-11"),
        document(3, 2010, 4, {"alignment": 4}, date="2010"),
        document(4, None, 1, date=None),
    )
    assert period_of(frame, "quarter").tolist()[:4] == ["2010-Q2", "2010-Q2", "2010-Q4", pd.NA]
    assert period_of(frame, "month").dropna().unique().tolist() == ["2010-05", "2010-11"]
    assert period_of(frame, "year").dropna().unique().tolist() == ["2010"]
    quarters = compute_indices(frame, ["alignment"], [], period="quarter", n_boot=10)
    overall = quarters[quarters["breakdown"] == "overall"]
    assert overall["period"].tolist() == ["2010-Q2", "2010-Q4"]
    assert overall["segments"].tolist() == [2, 1]
    assert overall["share"].tolist() == pytest.approx([0.5, 1.0])
    years = compute_indices(frame, ["alignment"], [], n_boot=10)
    assert row_of(years, breakdown="overall")["segments"] == 7
    cover = coverage(frame, "quarter")
    assert cover["period"].tolist() == ["2010-Q2", "2010-Q4", "unplaceable", "undated"]
    assert cover["segments"].tolist() == [2, 1, 4, 1]


def test_bootstrap_is_reproducible_and_independent_of_order_and_codes() -> None:
    frame = random_frame()
    first = compute_indices(frame, CODES, PARTNERS, n_boot=200, seed=5)
    again = compute_indices(frame, CODES, PARTNERS, n_boot=200, seed=5)
    pd.testing.assert_frame_equal(first, again)

    other = compute_indices(frame, CODES, PARTNERS, n_boot=200, seed=6)
    pd.testing.assert_frame_equal(first.drop(columns=_INTERVALS), other.drop(columns=_INTERVALS))
    assert not np.allclose(first["doc_share_low"], other["doc_share_low"])

    shuffled = frame.sample(frac=1, random_state=1).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        first, compute_indices(shuffled, CODES, PARTNERS, n_boot=200, seed=5)
    )

    alone = compute_indices(frame, ["hedging"], ["china"], n_boot=200, seed=5)
    wanted = first[(first["code"] == "hedging") & (first["group"] != "united_states")]
    pd.testing.assert_frame_equal(alone, wanted.reset_index(drop=True))


_INTERVALS = ["share_low", "share_high", "doc_share_low", "doc_share_high", "rate_low", "rate_high"]


def test_interval_narrows_with_confidence() -> None:
    frame = random_frame()
    wide = compute_indices(frame, ["alignment"], [], n_boot=300, confidence=0.99)
    narrow = compute_indices(frame, ["alignment"], [], n_boot=300, confidence=0.5)
    assert (wide["share_low"] <= narrow["share_low"]).all()
    assert (wide["share_high"] >= narrow["share_high"]).all()
    assert (narrow["share_high"] - narrow["share_low"] > 0).any()


def test_empty_frame_gives_empty_table() -> None:
    empty = make_frame(document(1, 2010, 1)).iloc[0:0]
    table = compute_indices(empty, CODES, PARTNERS)
    assert table.empty and tuple(table.columns) == COLUMNS
    assert table["documents"].dtype == np.int64 and table["low_documents"].dtype == bool
    assert coverage(empty).empty
    assert composite_indices(empty).empty


def test_missing_code_column_says_how_to_fix() -> None:
    frame = make_frame(document(1, 2010, 1))
    with pytest.raises(ValueError, match=r"'code__alignmnt' \(did you mean 'code__alignment'\?\)"):
        compute_indices(frame, ["alignmnt"], [])
    with pytest.raises(ValueError, match="segment-frame builder"):
        compute_indices(frame.drop(columns="code__hedging"), CODES, [])
    with pytest.raises(ValueError, match="did you mean 'quarter'"):
        compute_indices(frame, CODES, [], period="quartr")


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 12))
def test_invariants_hold_on_random_frames(seed: int, n_docs: int) -> None:
    table = compute_indices(random_frame(seed, n_docs), CODES, PARTNERS, n_boot=30)
    assert (table["coded_segments"] <= table["segments"]).all()
    assert ((table["machine_segments"] + table["human_segments"]) == table["coded_segments"]).all()
    for value in ("share", "doc_share"):
        assert table[value].between(0, 1).all()
        assert (table[f"{value}_low"] <= table[f"{value}_high"]).all()
        assert table[f"{value}_low"].between(0, 1).all()
    overall = table[table["breakdown"] == "overall"].set_index(["period", "code"])
    by_source = table[table["breakdown"] == "source_type"].groupby(["period", "code"]).sum()
    for column in ("documents", "segments", "words", "coded_segments"):
        assert (overall[column] == by_source.loc[overall.index, column]).all()


# ---------------------------------------------------------------------------- composite_indices


def test_hedging_balance_and_securitization_intensity() -> None:
    frame = make_frame(
        document(1, 2010, 4, {"hedging": 2, "alignment": 1, "securitization": 1}),
        document(2, 2010, 2, {"alignment": 1}, words=30),
    )
    table = composite_indices(frame, n_boot=100)
    assert table.columns.tolist() == ["period", "index", "value", "low", "high", "documents",
                                      "low_documents"]  # fmt: skip
    assert table["index"].tolist() == [
        "hedging_balance",
        "securitization_intensity",
        "shift_alignment",
        "shift_securitization",
        "shift_hedging",
        "divergence",
    ]
    h, a = (0.5 + 0) / 2, (0.25 + 0.5) / 2
    balance = row_of(table, index="hedging_balance")
    assert balance["value"] == pytest.approx((h - a) / (h + a)) == pytest.approx(-0.2)
    assert -1 <= balance["low"] <= balance["high"] <= 1
    assert balance["documents"] == 2 and balance["low_documents"]
    intensity = row_of(table, index="securitization_intensity")
    assert intensity["value"] == pytest.approx(1000 * 1 / (4 * 10 + 2 * 30))
    # The same draws as the overall rows of compute_indices.
    tidy = compute_indices(frame, ["securitization"], [], n_boot=100)
    rate = row_of(tidy, breakdown="overall")
    assert (intensity["low"], intensity["high"]) == (rate["rate_low"], rate["rate_high"])
    # No baseline documents (2001-2003): the comparisons are empty.
    assert baseline_documents(frame) == 0
    assert table.loc[table["index"].str.startswith("shift_"), "value"].isna().all()
    assert math.isnan(row_of(table, index="divergence")["value"])


def test_hedging_balance_is_empty_without_hedging_or_alignment() -> None:
    frame = make_frame(document(1, 2010, 3, {"securitization": 1}), document(2, 2010, 1))
    balance = row_of(composite_indices(frame, n_boot=20), index="hedging_balance")
    assert math.isnan(balance["value"]) and math.isnan(balance["low"])


def test_shift_against_the_pooled_baseline() -> None:
    frame = make_frame(
        document(1, 2001, 2, {"alignment": 1}),
        document(2, 2001, 4),
        document(3, 2003, 2),
        document(4, 2004, 1, {"alignment": 1}),  # after the baseline
        document(5, 2010, 2, {"alignment": 2}),
        document(6, 2010, 2, {"alignment": 1}),
    )
    assert baseline_documents(frame, (2001, 2003)) == 3
    table = composite_indices(frame, n_boot=200, min_docs=2)
    baseline = (0.5 + 0 + 0) / 3
    shift = row_of(table, period="2010", index="shift_alignment")
    assert shift["value"] == pytest.approx(0.75 - baseline)
    assert shift["low"] <= shift["value"] <= shift["high"]
    assert not shift["low_documents"]
    early = row_of(table, period="2001", index="shift_alignment")
    assert early["value"] == pytest.approx(0.25 - baseline)
    lone = row_of(table, period="2004", index="shift_alignment")
    assert lone["value"] == pytest.approx(1 - baseline) and lone["low_documents"]
    assert lone["low"] < lone["high"]  # the baseline's own uncertainty remains
    later = composite_indices(frame, baseline=(2010, 2010), n_boot=50, min_docs=2)
    assert row_of(later, period="2010", index="shift_alignment")["value"] == pytest.approx(0)
    with pytest.raises(ValueError, match="ends before it starts"):
        composite_indices(frame, baseline=(2003, 2001))


def test_divergence_is_zero_for_the_same_mix_and_one_for_disjoint_mixes() -> None:
    every_code = {"alignment": 1, "securitization": 2, "hedging": 3}
    same = make_frame(
        document(1, 2001, 4, every_code),  # masses 1, 2, 3 and 1 uncoded segment
        document(2, 2010, 8, {"alignment": 2, "securitization": 4, "hedging": 6}),
    )
    table = composite_indices(same, n_boot=50)
    assert row_of(table, period="2010", index="divergence")["value"] == pytest.approx(0, abs=1e-12)
    disjoint = make_frame(
        document(1, 2002, 3, {"alignment": 3}),
        document(2, 2002, 2, {"alignment": 2}),
        document(3, 2011, 4),
    )
    table = composite_indices(disjoint, n_boot=50)
    divergence = row_of(table, period="2011", index="divergence")
    assert divergence["value"] == pytest.approx(1.0)
    assert divergence["low"] == divergence["high"] == pytest.approx(1.0)


def test_jensen_shannon_by_hand() -> None:
    assert jensen_shannon(np.array([1.0, 0.0]), np.array([0.0, 1.0]))[0] == pytest.approx(1.0)
    assert jensen_shannon(np.array([2.0, 2.0]), np.array([0.5, 0.5]))[0] == pytest.approx(0.0)
    expected = 0.5 * math.log2(4 / 3) + 0.25 * math.log2(2 / 3) + 0.25 * math.log2(2)
    value = jensen_shannon(np.array([1.0, 0.0]), np.array([0.5, 0.5]))[0]
    assert value == pytest.approx(expected)


def test_formulas_cover_every_column_and_index() -> None:
    frame = random_frame()
    names = set(COLUMNS) | {"value", "low", "high", "index"}
    names |= {i if not i.startswith("shift_") else "shift_<code>" for i in composite_indices(
        frame, n_boot=10)["index"]}  # fmt: skip
    assert names <= set(FORMULAS)
    assert all(FORMULAS[name] and "\n" not in FORMULAS[name] for name in names)


# ---------------------------------------------------------------------------- shifts


def step_table() -> pd.DataFrame:
    values = [0.1, 0.1, 0.12, 0.6, 0.62, 0.2, 0.9]
    return pd.DataFrame(
        {
            "period": [str(2001 + i) for i in range(len(values))],
            "code": "alignment",
            "breakdown": "overall",
            "group": "all",
            "doc_share": values,
            "doc_share_low": [v - 0.05 for v in values],
            "doc_share_high": [v + 0.05 for v in values],
            "low_documents": [False] * 6 + [True],  # 2007 rests on too few documents
        }
    )


def test_flag_shifts_finds_non_overlapping_intervals() -> None:
    shifts = flag_shifts(step_table())
    assert shifts.columns.tolist() == [
        "series",
        "period",
        "previous_period",
        "value",
        "previous_value",
        "change",
        "direction",
        "code",
        "breakdown",
        "group",
    ]
    assert shifts["period"].tolist() == ["2004", "2006"]
    assert shifts["previous_period"].tolist() == ["2003", "2005"]
    assert shifts["direction"].tolist() == ["up", "down"]
    assert shifts["change"].tolist() == pytest.approx([0.48, -0.42])
    assert shifts["series"].iloc[0] == "alignment / overall / all"
    with_low = flag_shifts(step_table(), skip_low_documents=False)
    assert with_low["period"].tolist() == ["2004", "2006", "2007"]


def test_flag_shifts_on_the_composite_table() -> None:
    table = step_table().rename(columns={"doc_share": "value", "doc_share_low": "low",
                                         "doc_share_high": "high"})  # fmt: skip
    table = table.drop(columns=["code", "breakdown", "group"]).assign(index="hedging_balance")
    shifts = flag_shifts(table, value="value", key_columns=("index",))
    assert shifts["period"].tolist() == ["2004", "2006"]
    assert shifts["series"].tolist() == ["hedging_balance"] * 2
    with pytest.raises(ValueError, match="key_columns=\\('index',\\)"):
        flag_shifts(table)


def test_flag_shifts_end_to_end() -> None:
    docs = []
    for year in range(2001, 2007):
        coded = 0 if year < 2004 else 4
        docs += [document(year * 10 + i, year, 4, {"hedging": coded}) for i in range(4)]
    table = compute_indices(make_frame(*docs), ["hedging"], [], n_boot=100)
    shifts = flag_shifts(table)
    assert shifts[["period", "direction", "breakdown", "group"]].values.tolist() == [
        ["2004", "up", "overall", "all"],
        ["2004", "up", "source_type", "mofa"],
    ]


def test_change_points_finds_a_step() -> None:
    rng = np.random.default_rng(0)
    values = np.r_[np.zeros(6), np.full(6, 5.0)] + rng.normal(0, 0.1, 12)
    series = pd.Series(values, index=[str(2001 + i) for i in range(12)])
    assert change_points(series) == ["2007"]
    assert change_points(series.sample(frac=1, random_state=0)) == ["2007"]  # sorted first
    assert change_points(pd.Series(1.0, index=series.index)) == []
    assert change_points(series.iloc[:3]) == []
    gappy = series.copy()
    gappy.iloc[2] = np.nan
    assert change_points(gappy) == ["2007"]
    assert change_points(pd.Series(rng.normal(0, 1, 12), index=series.index)) == []


def test_change_points_table_reads_both_shapes() -> None:
    periods = [str(2001 + i) for i in range(10)]
    composite = pd.DataFrame(
        {
            "period": periods * 2,
            "index": ["divergence"] * 10 + ["hedging_balance"] * 10,
            "value": [0.0] * 5 + [1.0] * 5 + [0.2] * 10,
            "low_documents": False,
        }
    )
    found = change_points_table(composite, value="value", key_columns=("index",))
    assert found.to_dict("records") == [
        {"series": "divergence", "period": "2006", "index": "divergence"}
    ]
    tidy = step_table().iloc[:6]
    assert change_points_table(tidy, min_size=3).empty  # 3·ln(6) is too strict for this step
    found = change_points_table(tidy, min_size=3, penalty=1.0)
    assert found[["series", "period"]].values.tolist() == [["alignment / overall / all", "2004"]]
    assert change_points_table(tidy.iloc[:2]).empty
