"""Export writers: round trips through every format, formula neutralising, byte identity."""

from __future__ import annotations

import filecmp
import json
import math
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from pipeline.core.cells import neutralise, neutralise_frame
from pipeline.exports import writers
from pipeline.exports.writers import (
    read_back,
    read_excel_sheet,
    read_stata_labels,
    stata_names,
    write_tables,
)

ALL_FORMATS = ["csv", "parquet", "xlsx", "dta", "json"]
LONG_TEXT = "Pakistan–China " * 200  # 3,000 characters: more than a Stata str holds
DANGEROUS = ["=SUM(A1)", "+1", "-x", "@cmd"]
MANIFEST = {
    "created": "2024-05-01T12:30:00+00:00",
    "version": "0.3.0",
    "codebook": {"version": 2, "codes": ["alignment", "hedging"]},
}


def mixed_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": [2019, 2020, 2021, 2022, 2023],
            "score": [0.125, math.nan, -5.0, 1 / 3, 12345.678],
            "is_final": [True, False, True, True, False],
            "partner": ["Türkiye", "=SUM(A1)", "+1", "-x", "@cmd"],
            "note": [LONG_TEXT, "plain", "  =1+1", "", "ok"],
            "code.alignment": [1, 0, 1, 1, 0],
        }
    )


def small_table() -> pd.DataFrame:
    return pd.DataFrame({"year": [2020, 2021], "index": [0.5, 0.25]})


def dictionary() -> pd.DataFrame:
    rows = [
        ("mixed", "year", "int", "calendar year"),
        ("mixed", "score", "float", "index value | may be missing"),
        ("mixed", "partner", "str", "=partner name as written"),
        ("indices_tidy", "year", "int", "calendar year"),
    ]
    return pd.DataFrame(rows, columns=list(writers.DICTIONARY_COLUMNS))


def export(folder: Path, formats: list[str] = ALL_FORMATS) -> list[Path]:
    tables = {"mixed": mixed_table(), "indices_tidy": small_table()}
    return write_tables(folder, tables, formats=formats, manifest=MANIFEST, dictionary=dictionary())


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    export(folder)
    return folder


# --- safe.py -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [*DANGEROUS, "\tx", "\rx", "  =1", " -5", "-5"])
def test_neutralise_quotes_formula_text(text: str) -> None:
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["Türkiye", "a=b", "", "'=x", -5.0, -5, True, None, 3])
def test_neutralise_leaves_other_values(value: object) -> None:
    assert neutralise(value) is value


def test_neutralise_leaves_nan() -> None:
    assert math.isnan(neutralise(math.nan))  # type: ignore[arg-type]


def test_neutralise_frame_touches_text_columns_only() -> None:
    frame = pd.DataFrame(
        {
            "number": [-5.0, 1.0],
            "text": ["-5", None],
            "mixed": pd.Series(["=x", -1], dtype=object),
            "label": pd.Categorical(["@a", "b"]),
        }
    )
    safe = neutralise_frame(frame)
    assert safe["number"].tolist() == [-5.0, 1.0]
    assert safe["text"].iloc[0] == "'-5"
    assert pd.isna(safe["text"].iloc[1])
    assert safe["text"].dtype == frame["text"].dtype
    assert safe["mixed"].tolist() == ["'=x", -1]
    assert safe["label"].tolist() == ["'@a", "b"]
    assert frame["text"].iloc[0] == "-5", "the input must not change"


# --- round trips ---------------------------------------------------------------------------------


def test_written_files(exported: Path) -> None:
    names = sorted(path.name for path in exported.iterdir())
    expected = sorted(
        [f"{table}.{ext}" for table in ("mixed", "indices_tidy") for ext in writers.FORMATS]
        + ["tables.xlsx", "manifest.json", "data_dictionary.csv", "data_dictionary.md"]
        + ["stata_names.csv"]
    )
    expected.remove("mixed.xlsx")
    expected.remove("indices_tidy.xlsx")
    assert names == expected


def test_write_tables_returns_sorted_paths(tmp_path: Path) -> None:
    paths = export(tmp_path, ["json"])
    assert paths == sorted(paths)
    assert sorted(paths) == sorted(tmp_path.iterdir())


def test_csv_and_parquet_are_always_written(tmp_path: Path) -> None:
    names = {path.name for path in export(tmp_path, [])}
    assert {"mixed.csv", "mixed.parquet"} <= names
    assert not {"mixed.json", "mixed.dta", "tables.xlsx", "stata_names.csv"} & names


def test_parquet_round_trip_is_exact(exported: Path) -> None:
    back = read_back(exported / "mixed.parquet")
    pd.testing.assert_frame_equal(back, mixed_table())
    assert back.loc[1, "partner"] == "=SUM(A1)", "Parquet keeps the text as it is"


def test_json_round_trip_is_exact(exported: Path) -> None:
    back = read_back(exported / "mixed.json")
    pd.testing.assert_frame_equal(back, mixed_table())


def test_json_text(exported: Path) -> None:
    text = (exported / "mixed.json").read_text(encoding="utf-8")
    assert "Türkiye" in text, "non-ASCII is written as is, not escaped"
    records = json.loads(text)
    assert records[1]["score"] is None
    assert list(records[0]) == list(mixed_table().columns), "keys keep the column order"
    assert records[1]["partner"] == "=SUM(A1)"
    assert text.count("\n") == len(records) + 2  # "[", one line per record, "]"


def test_csv_round_trip(exported: Path) -> None:
    raw = (exported / "mixed.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw
    back = read_back(exported / "mixed.csv")
    expected = mixed_table()
    expected["partner"] = ["Türkiye", "'=SUM(A1)", "'+1", "'-x", "'@cmd"]
    expected["note"] = [LONG_TEXT, "plain", "'  =1+1", math.nan, "ok"]  # "" reads as missing
    pd.testing.assert_frame_equal(back, expected, check_dtype=False, rtol=1e-9)


def test_csv_floats_use_ten_significant_digits(exported: Path) -> None:
    lines = (exported / "mixed.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "year,score,is_final,partner,note,code.alignment"
    assert lines[4].startswith("2022,0.3333333333,True,'-x,")
    assert lines[2].startswith("2020,,False,'=SUM(A1),")
    assert lines[3].startswith("2021,-5,True,'+1,"), "numbers are never neutralised"


def test_stata_round_trip(exported: Path) -> None:
    back = read_back(exported / "mixed.dta")
    assert list(back.columns) == ["year", "score", "is_final", "partner", "note", "code_alignment"]
    labels = read_stata_labels(exported / "mixed.dta")
    assert labels["code_alignment"] == "code.alignment", "no description: the column's name"
    assert labels["year"] == "calendar year", "the dictionary's description"
    mapping = read_back(exported / "stata_names.csv")
    mapping = mapping[mapping["table"] == "mixed"]
    restored = back.rename(columns=dict(zip(mapping["stata_name"], mapping["column"])))
    expected = mixed_table()
    expected["is_final"] = expected["is_final"].astype("int8")
    pd.testing.assert_frame_equal(restored, expected, check_dtype=False)
    assert back.loc[0, "note"] == LONG_TEXT, "a strL keeps text longer than 2045 bytes"
    assert back.loc[1, "partner"] == "=SUM(A1)"


def test_stata_names_file(exported: Path) -> None:
    mapping = read_back(exported / "stata_names.csv")
    row = mapping[(mapping["table"] == "mixed") & (mapping["column"] == "code.alignment")]
    assert row["stata_name"].tolist() == ["code_alignment"]


def test_excel_round_trip(exported: Path) -> None:
    back = read_excel_sheet(exported / "tables.xlsx", "mixed")
    expected = mixed_table()
    expected["note"] = [LONG_TEXT, "plain", "  =1+1", math.nan, "ok"]  # "" reads as missing
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)
    parquet = read_back(exported / "mixed.parquet")
    assert back["partner"].tolist() == parquet["partner"].tolist(), "the same text as Parquet"


def test_excel_layout(exported: Path) -> None:
    book = openpyxl.load_workbook(exported / "tables.xlsx")
    assert book.sheetnames == ["README", "mixed", "indices_tidy", "dictionary"]
    sheet = book["mixed"]
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    assert not sheet["A2"].font.bold
    formulas = [cell for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]
    assert formulas == [], "no cell may be a formula"
    assert sheet["D3"].value == "=SUM(A1)" and sheet["D3"].data_type == "s"
    readme = {row[0]: row[1] for row in book["README"].iter_rows(values_only=True) if row}
    assert readme["created"] == MANIFEST["created"]
    assert readme["mixed"] == "mixed"
    assert json.loads(readme["codebook"]) == MANIFEST["codebook"]
    dictionary_sheet = list(book["dictionary"].iter_rows(values_only=True))
    assert dictionary_sheet[0] == writers.DICTIONARY_COLUMNS
    assert dictionary_sheet[3][3] == "=partner name as written"


def test_manifest_and_dictionary_files(exported: Path) -> None:
    text = (exported / "manifest.json").read_text(encoding="utf-8")
    assert text == json.dumps(MANIFEST, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    back = read_back(exported / "data_dictionary.csv")
    assert list(back.columns) == list(writers.DICTIONARY_COLUMNS)
    assert back.loc[2, "description"] == "'=partner name as written"
    markdown = (exported / "data_dictionary.md").read_text(encoding="utf-8")
    assert "## mixed" in markdown and "## indices_tidy" in markdown
    assert "| score | float | index value \\| may be missing |" in markdown


# --- reproducibility -----------------------------------------------------------------------------


def test_re_export_is_byte_identical(exported: Path, tmp_path: Path) -> None:
    export(tmp_path)
    names = sorted(path.name for path in exported.iterdir())
    assert names == sorted(path.name for path in tmp_path.iterdir())
    match, mismatch, errors = filecmp.cmpfiles(exported, tmp_path, names, shallow=False)
    assert (mismatch, errors) == ([], [])
    assert "tables.xlsx" in match and "mixed.dta" in match and "mixed.parquet" in match


def test_workbook_carries_no_clock_time(exported: Path) -> None:
    with zipfile.ZipFile(exported / "tables.xlsx") as archive:
        assert {info.date_time for info in archive.infolist()} == {writers.ZIP_EPOCH}
        core = archive.read("docProps/core.xml").decode("utf-8")
    assert core.count("2024-05-01T12:30:00Z") == 2  # created and modified


def test_export_timestamp() -> None:
    assert writers.export_timestamp({}) == writers.DEFAULT_TIMESTAMP
    stamp = writers.export_timestamp({"created": "2024-05-01T14:30:00.5+02:00"})
    assert stamp == pd.Timestamp("2024-05-01T12:30:00").to_pydatetime()
    assert writers.export_timestamp({"created": "2024-05-01T12:30:00Z"}) == stamp
    with pytest.raises(ValueError, match=r"created.*ISO 8601"):
        writers.export_timestamp({"created": "yesterday"})


# --- names ---------------------------------------------------------------------------------------


def test_stata_names_are_valid_unique_and_stable() -> None:
    columns = [
        "year",
        "code.alignment",
        "code:alignment",
        "code_alignment_2",
        "partner-türkiye",
        "long",
        "2020",
        "x" * 40,
        "x" * 41,
    ]
    names = stata_names(columns)
    assert names == {
        "year": "year",
        "code.alignment": "code_alignment",
        "code:alignment": "code_alignment_3",  # _2 is a real column, kept as it is
        "code_alignment_2": "code_alignment_2",
        "partner-türkiye": "partner_turkiye",
        "long": "_long",
        "2020": "_2020",
        "x" * 40: "x" * 32,
        "x" * 41: "x" * 30 + "_2",
    }
    assert stata_names(columns) == names


def test_sheet_names() -> None:
    names = writers.sheet_names(["a" * 40, "a" * 41, "readme", "x/y", "X_Y"])
    assert names == {
        "a" * 40: "a" * 31,
        "a" * 41: "a" * 29 + "_2",
        "readme": "readme_2",
        "x/y": "x_y",
        "X_Y": "X_Y_2",
    }


# --- errors and atomic writes --------------------------------------------------------------------


def test_unknown_format_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"'xls'.*csv, parquet, xlsx, dta, json"):
        export(tmp_path, ["csv", "xls"])
    assert list(tmp_path.iterdir()) == [], "nothing is written"


@pytest.mark.parametrize("name", ["../escape", "manifest", ""])
def test_bad_table_name(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="table name"):
        write_tables(
            tmp_path, {name: small_table()}, formats=[], manifest={}, dictionary=dictionary()
        )


def test_dictionary_needs_its_columns(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"lacks the columns \['description'\]"):
        write_tables(
            tmp_path,
            {"t": small_table()},
            formats=[],
            manifest={},
            dictionary=dictionary().drop(columns=["description"]),
        )


def test_stata_error_names_the_file(tmp_path: Path) -> None:
    table = pd.DataFrame({"x": [np.inf]})
    with pytest.raises(ValueError, match=r"t\.dta: .*leave 'dta' out"):
        write_tables(tmp_path, {"t": table}, formats=["dta"], manifest={}, dictionary=dictionary())
    assert list(tmp_path.iterdir()) == []


def test_no_temporary_files_are_left(exported: Path) -> None:
    assert [path.name for path in exported.iterdir() if path.name.startswith(".")] == []


def test_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "table.csv"
    target.write_bytes(b"old\n")

    def broken_fsync(descriptor: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(writers.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        writers.write_atomic(target, b"new\n")
    assert target.read_bytes() == b"old\n"
    assert list(tmp_path.iterdir()) == [target]


def test_write_atomic_replaces(tmp_path: Path) -> None:
    target = tmp_path / "table.csv"
    target.write_bytes(b"old\n")
    writers.write_atomic(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    assert list(tmp_path.iterdir()) == [target]


def test_parquet_error_names_the_file(tmp_path: Path) -> None:
    table = pd.DataFrame({"x": pd.Series([1, "a"], dtype=object)})
    with pytest.raises(ValueError, match=r"t\.parquet: .*same type"):
        write_tables(tmp_path, {"t": table}, formats=[], manifest={}, dictionary=dictionary())


def test_empty_table_goes_through_every_format(tmp_path: Path) -> None:
    empty = mixed_table().iloc[0:0]
    write_tables(tmp_path, {"t": empty}, formats=ALL_FORMATS, manifest={}, dictionary=dictionary())
    for ext in ("csv", "parquet", "dta"):
        assert len(read_back(tmp_path / f"t.{ext}")) == 0
    assert (tmp_path / "t.json").read_text(encoding="utf-8") == "[]\n"
    assert list(read_excel_sheet(tmp_path / "tables.xlsx", "t").columns) == list(empty.columns)
