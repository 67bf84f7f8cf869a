"""Reading an export back: the tables as their CSV, Parquet, JSON, Stata and Excel files hold them.

For checks and tests of what :func:`pipeline.exports.writers.write_tables` wrote.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd


def read_back(path: Path) -> pd.DataFrame:
    """Read a table written by :func:`.writers.write_tables` from its CSV, Parquet, JSON or Stata
    file.

    The frame is what the file holds: CSV text stays neutralised; Stata columns keep their
    Stata names (``stata_names.csv`` maps them to the column names) and closed-set columns come
    back as categoricals of their value labels.

    Raises:
        ValueError: The file's extension is none of ``.csv``, ``.parquet``, ``.json``, ``.dta``.
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(path, encoding="utf-8")
    if suffix == ".parquet":
        return pd.read_parquet(path, engine="pyarrow")
    if suffix == ".json":
        records = json.loads(path.read_text(encoding="utf-8"))
        return pd.DataFrame.from_records(records) if records else pd.DataFrame()
    if suffix == ".dta":
        return pd.read_stata(path)
    raise ValueError(
        f"{path}: cannot read {suffix or 'files without an extension'}; "
        "fix: give a .csv, .parquet, .json or .dta file (read_excel_sheet reads workbooks)"
    )


def read_stata_labels(path: Path) -> dict[str, str]:
    """Return Stata variable name to variable label (the column's description in the data
    dictionary, else its name) of a .dta file."""
    with pd.io.stata.StataReader(path) as reader:
        return dict(reader.variable_labels())


def read_stata_value_labels(path: Path) -> dict[str, dict[int, str]]:
    """Return Stata variable name to its value labels (code to text) of a .dta file."""
    with pd.io.stata.StataReader(path) as reader:
        return {
            name: {int(code): str(text) for code, text in labels.items()}
            for name, labels in reader.value_labels().items()
        }


def read_excel_sheet(path: Path, sheet: str) -> pd.DataFrame:
    """Read one sheet of a workbook written by :func:`.writers.write_tables`, the first row as
    header."""
    return pd.read_excel(path, sheet_name=sheet, engine="openpyxl")
