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


NOTE_TABLE = "(note)"
"""Rows of this table are notes on the whole export (``column`` names the topic)."""


def dictionary_markdown(dictionary: pd.DataFrame) -> str:
    """Return the data dictionary as Markdown: its notes first, then one section and one table
    per exported table."""
    fields_shown = [*DICTIONARY_COLUMNS[1:], *(["values"] if "values" in dictionary else [])]
    header = "| " + " | ".join(fields_shown) + " |"
    rule = "|" + "---|" * len(fields_shown)
    lines = ["# Data dictionary", ""]
    notes = dictionary[dictionary["table"] == NOTE_TABLE]
    if not notes.empty:
        lines += ["## Notes", ""]
        for topic, text in zip(notes["column"], notes["description"]):
            lines.append(f"- **{_markdown_cell(topic)}**: {_markdown_cell(text)}")
        lines.append("")
    for table, rows in dictionary[dictionary["table"] != NOTE_TABLE].groupby("table", sort=False):
        lines += [f"## {table}", "", header, rule]
        fields = rows[fields_shown]
        for row in fields.itertuples(index=False, name=None):
            lines.append("| " + " | ".join(_markdown_cell(value) for value in row) + " |")
        lines.append("")
    return "\n".join(lines)


def _markdown_cell(value: Any) -> str:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    return " ".join(str(value).split()).replace("|", "\\|")
