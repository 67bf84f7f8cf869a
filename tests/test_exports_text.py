"""The same text in every export format: only CSV files put a quote in front of formula-like text;
the workbook holds it in typed string cells, which neither Excel's readers nor LibreOffice run."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipeline.exports.writers import read_back, write_tables
from pipeline.indices.dictionary import data_dictionary

HOSTILE = [
    '=HYPERLINK("http://evil.example","click me")',
    "=1+1",
    "-1+2",
    "+3",
    "@SUM(1,2)",
    "#N/A",
    "\tx",
    "Türkiye",
]
FORMATS = ["csv", "parquet", "xlsx", "dta", "json"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    tables = {"hostile": pd.DataFrame({"n": range(len(HOSTILE)), "text": HOSTILE})}
    write_tables(
        folder, tables, formats=FORMATS, manifest={}, dictionary=data_dictionary(tables, {})
    )
    return folder


def test_text_is_identical_outside_csv(exported: Path) -> None:
    for name in ("hostile.parquet", "hostile.json", "hostile.dta"):
        assert read_back(exported / name)["text"].tolist() == HOSTILE, name
    # keep_default_na: pandas reads the text "#N/A" as missing unless told not to.
    sheet = pd.read_excel(exported / "tables.xlsx", sheet_name="hostile", keep_default_na=False)
    assert sheet["text"].tolist() == HOSTILE


def test_csv_alone_is_neutralised(exported: Path) -> None:
    back = pd.read_csv(exported / "hostile.csv", keep_default_na=False)["text"].tolist()
    assert back[:5] == ["'" + text for text in HOSTILE[:5]]
    assert back[5] == "#N/A" and back[7] == "Türkiye"


def test_workbook_cells_are_typed_strings(exported: Path) -> None:
    sheet = openpyxl.load_workbook(exported / "tables.xlsx")["hostile"]
    cells = [row[1] for row in sheet.iter_rows(min_row=2)]
    assert [cell.value for cell in cells] == HOSTILE
    assert {cell.data_type for cell in cells} == {"s"}, "no formula, no error cell"


def test_the_dictionary_and_readme_say_where_text_is_quoted(exported: Path) -> None:
    dictionary = read_back(exported / "data_dictionary.csv")
    notes = dictionary[dictionary["table"] == "(note)"]["description"].str.cat(sep=" ")
    assert "CSV" in notes and "'" in notes
    markdown = (exported / "data_dictionary.md").read_text(encoding="utf-8")
    assert "## Notes" in markdown and "typed" in markdown
    book = openpyxl.load_workbook(exported / "tables.xlsx")
    readme = " ".join(str(c) for row in book["README"].iter_rows(values_only=True) for c in row)
    assert "Only the CSV files put a ' in front" in readme


def _libreoffice_csv(book: Path, sheet: str, out: Path) -> list[str]:
    """The sheet as LibreOffice shows it: every sheet converted to CSV, cells as displayed."""
    office = shutil.which("soffice") or shutil.which("libreoffice")
    assert office is not None
    # Filter tokens: comma, double quote, UTF-8, first line 1, ..., the last (-1): every sheet.
    options = "44,34,76,1,,0,false,true,false,false,false,-1"
    command = [office, "--headless", f"-env:UserInstallation=file://{out}/profile"]
    command += ["--convert-to", f"csv:Text - txt - csv (StarCalc):{options}"]
    command += ["--outdir", str(out), str(book)]
    subprocess.run(
        command,
        check=True,
        capture_output=True,
        timeout=180,
    )
    with (out / f"{book.stem}-{sheet}.csv").open(encoding="utf-8", newline="") as handle:
        return [row[-1] for row in csv.reader(handle)][1:]


@pytest.mark.skipif(
    shutil.which("soffice") is None and shutil.which("libreoffice") is None,
    reason="LibreOffice is not installed (Debian: libreoffice-calc-nogui)",
)
def test_libreoffice_shows_the_text_not_a_computed_value(exported: Path, tmp_path: Path) -> None:
    shown = _libreoffice_csv(exported / "tables.xlsx", "hostile", tmp_path / "typed")
    assert shown == HOSTILE
    # The control: the same text as an untyped cell is a formula LibreOffice computes.
    control = openpyxl.Workbook()
    control.active.title = "hostile"
    control.active.append(["text"])
    control.active.append(["=1+1"])
    control.save(tmp_path / "control.xlsx")
    assert _libreoffice_csv(tmp_path / "control.xlsx", "hostile", tmp_path / "plain") == ["2"]
