"""Numeric time variables and labels: what Stata and pandas users read back from an export."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.exports.stata import stata_label
from pipeline.exports.writers import (
    read_back,
    read_excel_sheet,
    read_stata_labels,
    read_stata_value_labels,
    write_tables,
)
from pipeline.indices.dictionary import data_dictionary, value_sets
from pipeline.indices.periods import with_time_columns

FORMATS = ["csv", "parquet", "xlsx", "dta", "json"]
MANIFEST = {"created": "2024-05-01T12:30:00+00:00"}


def quarterly() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "period": ["2013-Q1", "2013-Q2", "2014-Q4", "undated"],
            "breakdown": ["overall", "source_type", "partner", "overall"],
            "source_type": ["mofa", "ispr", "", "a-new-type"],
            "code.alignment": [1, 0, 1, 0],
            "corrected_low": [0.1, 0.2, 0.3, 0.4],
        }
    )


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("stata")
    tables = {"indices_tidy": with_time_columns(quarterly())}
    categories = value_sets(tables)
    write_tables(
        folder,
        tables,
        formats=FORMATS,
        manifest=MANIFEST,
        dictionary=data_dictionary(tables, {}, categories),
        categories=categories,
    )
    return folder


def test_time_columns_follow_the_period() -> None:
    table = with_time_columns(quarterly())
    assert list(table.columns[:3]) == ["period", "year", "period_start"]
    assert table["year"].tolist()[:3] == [2013, 2013, 2014]
    assert pd.isna(table["year"].iloc[3]) and pd.isna(table["period_start"].iloc[3])
    assert [str(d.date()) for d in table["period_start"].iloc[:3]] == [
        "2013-01-01",
        "2013-04-01",
        "2014-10-01",
    ]
    months = with_time_columns(pd.DataFrame({"period": ["2013-04", "2013"]}))
    assert [str(d.date()) for d in months["period_start"]] == ["2013-04-01", "2013-01-01"]
    document = pd.DataFrame({"period": ["2013"], "year": [1999]})
    assert with_time_columns(document).equals(document), "a table's own year is kept"


def test_stata_reads_a_year_and_a_td_date(exported: Path) -> None:
    back = pd.read_stata(exported / "indices_tidy.dta")
    assert pd.api.types.is_datetime64_dtype(back["period_start"])
    assert str(back["period_start"].iloc[1].date()) == "2013-04-01"
    assert pd.isna(back["period_start"].iloc[3])
    assert back["year"].iloc[:3].tolist() == [2013, 2013, 2014]
    with pd.io.stata.StataReader(exported / "indices_tidy.dta") as reader:
        reader.read()
        formats = dict(zip(reader._varlist, reader._fmtlist))
    assert formats["period_start"] == "%td"


def test_stata_year_is_an_integer_when_every_period_is_dated(tmp_path: Path) -> None:
    tables = {"t": with_time_columns(pd.DataFrame({"period": ["2013", "2014"], "v": [1.0, 2.0]}))}
    write_tables(
        tmp_path, tables, formats=["dta"], manifest=MANIFEST, dictionary=data_dictionary(tables, {})
    )
    back = pd.read_stata(tmp_path / "t.dta")
    assert pd.api.types.is_integer_dtype(back["year"]), back.dtypes
    assert pd.api.types.is_datetime64_dtype(back["period_start"])


def test_variable_labels_are_the_dictionarys_descriptions(exported: Path) -> None:
    labels = read_stata_labels(exported / "indices_tidy.dta")
    assert labels["year"].startswith("year of the period, an integer")
    assert labels["period_start"].startswith("first day of the period")
    assert labels["breakdown"] == "overall, source_type or partner"
    assert labels["code_alignment"] == "code.alignment", "renamed, no description: its name"
    long = labels["corrected_low"]
    assert long == "lower end of the corrected share's 95% bootstrap interval"
    assert all(len(label) <= 80 for label in labels.values())


def test_long_labels_are_cut_at_a_word() -> None:
    text = "year of the period, an integer (empty for undated or unplaceable rows); with more"
    cut = stata_label(text)
    assert len(cut) <= 80 and cut.endswith("…")
    assert text.startswith(cut[:-1]) and text[len(cut) - 1] == " "
    assert stata_label("x" * 100) == "x" * 79 + "…"


def test_closed_sets_are_numbers_with_value_labels(exported: Path) -> None:
    value_labels = read_stata_value_labels(exported / "indices_tidy.dta")
    assert value_labels["breakdown"] == {1: "overall", 2: "source_type", 3: "partner"}
    assert value_labels["source_type"] == {
        1: "mofa",
        2: "ispr",
        3: "treaty",
        4: "speech",
        5: "other",
        6: "a-new-type",
    }, "known values keep their numbers; others follow"
    codes = pd.read_stata(exported / "indices_tidy.dta", convert_categoricals=False)
    assert codes["breakdown"].tolist() == [1, 2, 3, 1]
    assert pd.isna(codes["source_type"].iloc[2]), "empty text is Stata's missing value"
    back = read_back(exported / "indices_tidy.dta")
    assert back["source_type"].astype(object).tolist()[:2] == ["mofa", "ispr"]
    dictionary = read_back(exported / "data_dictionary.csv")
    row = dictionary[(dictionary["column"] == "breakdown")]
    assert row["values"].tolist() == ["1=overall; 2=source_type; 3=partner"]
    markdown = (exported / "data_dictionary.md").read_text(encoding="utf-8")
    assert "| breakdown | str | overall, source_type or partner | 1=overall" in markdown


def test_every_format_has_the_time_columns(exported: Path) -> None:
    parquet = read_back(exported / "indices_tidy.parquet")
    assert str(parquet["year"].dtype) == "Int64"
    assert pd.api.types.is_datetime64_dtype(parquet["period_start"])
    csv = pd.read_csv(exported / "indices_tidy.csv", parse_dates=["period_start"])
    assert csv["period_start"].dt.strftime("%Y-%m-%d").tolist()[:3] == [
        "2013-01-01",
        "2013-04-01",
        "2014-10-01",
    ]
    assert (
        (exported / "indices_tidy.csv")
        .read_text()
        .splitlines()[1]
        .startswith("2013-Q1,2013,2013-01-01,")
    )
    json_back = read_back(exported / "indices_tidy.json")
    assert json_back["period_start"].tolist()[:2] == ["2013-01-01", "2013-04-01"]
    sheet = read_excel_sheet(exported / "tables.xlsx", "indices_tidy")
    assert pd.api.types.is_datetime64_dtype(sheet["period_start"])
    assert sheet["year"].tolist()[:3] == [2013, 2013, 2014]


def test_workbook_columns_are_wide_enough_for_dates_and_names(exported: Path) -> None:
    import openpyxl

    sheet = openpyxl.load_workbook(exported / "tables.xlsx")["indices_tidy"]
    widths = {cell.value: sheet.column_dimensions[cell.column_letter].width for cell in sheet[1]}
    assert widths["period_start"] >= 12, "a date, not ###"
    assert widths["corrected_low"] >= len("corrected_low")
