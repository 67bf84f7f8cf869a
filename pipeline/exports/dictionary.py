"""The data dictionary of an export: the columns it must have, and its Markdown rendering."""

from __future__ import annotations

from typing import Any

import pandas as pd

DICTIONARY_COLUMNS = ("table", "column", "type", "description")
"""Columns the data dictionary must have (it may have more)."""


def check_dictionary(dictionary: pd.DataFrame) -> None:
    missing = [column for column in DICTIONARY_COLUMNS if column not in dictionary.columns]
    if missing:
        raise ValueError(
            f"the data dictionary lacks the columns {missing}; "
            f"fix: give it the columns {list(DICTIONARY_COLUMNS)}"
        )


def dictionary_markdown(dictionary: pd.DataFrame) -> str:
    """Return the data dictionary as Markdown: one section and one table per exported table."""
    lines = ["# Data dictionary", ""]
    for table, rows in dictionary.groupby("table", sort=False):
        lines += [f"## {table}", "", "| column | type | description |", "|---|---|---|"]
        fields = rows[["column", "type", "description"]]
        for row in fields.itertuples(index=False, name=None):
            lines.append("| " + " | ".join(_markdown_cell(value) for value in row) + " |")
        lines.append("")
    return "\n".join(lines)


def _markdown_cell(value: Any) -> str:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    return " ".join(str(value).split()).replace("|", "\\|")
