"""Rendering a whole export to bytes: which files, in which formats, stamped with which date.

:func:`render_export` checks the tables and the dictionary and renders every file before any is
written, so a table that cannot be converted stops the export with nothing changed on disk.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timezone
from typing import Any

import pandas as pd

from pipeline.exports.dictionary import check_dictionary, dictionary_markdown
from pipeline.exports.excel import workbook_bytes
from pipeline.exports.plain import csv_bytes, json_bytes, manifest_bytes, parquet_bytes
from pipeline.exports.stata import stata_bytes, stata_names
from pipeline.registry import ALWAYS_EXPORTED, exporters

FORMATS = tuple(exporters.names())
"""Every format :func:`.writers.write_tables` knows."""

ALWAYS_WRITTEN = ALWAYS_EXPORTED
"""Formats written whether or not they are asked for."""

DEFAULT_TIMESTAMP = datetime(1980, 1, 1)
"""The date written into files when the manifest has no ``created`` field."""

WORKBOOK_NAME = "tables.xlsx"
MANIFEST_NAME = "manifest.json"
STATA_NAMES_NAME = "stata_names.csv"
RESERVED_TABLE_NAMES = frozenset({"manifest", "data_dictionary", "stata_names"})


_TABLE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")


def render_export(
    tables: Mapping[str, pd.DataFrame],
    *,
    formats: Iterable[str],
    manifest: Mapping[str, Any],
    dictionary: pd.DataFrame,
    categories: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
) -> dict[str, bytes]:
    """Return the content of every file :func:`.writers.write_tables` writes, keyed by file name.

    Args and Raises are as for :func:`.writers.write_tables`; this function touches no file of the
    export.
    """
    wanted = parse_formats(formats)
    _check_tables(tables)
    check_dictionary(dictionary)
    stamp = export_timestamp(manifest)
    files: dict[str, bytes] = {}
    stata_rows = []
    for name, frame in tables.items():
        files[f"{name}.csv"] = csv_bytes(frame)
        files[f"{name}.parquet"] = parquet_bytes(frame, label=name)
        if "json" in wanted:
            files[f"{name}.json"] = json_bytes(frame)
        if "dta" in wanted:
            names = stata_names(frame.columns)
            files[f"{name}.dta"] = stata_bytes(
                frame,
                timestamp=stamp,
                label=name,
                names=names,
                labels=descriptions(dictionary, name),
                categories=(categories or {}).get(name),
            )
            stata_rows += [(name, column, stata) for column, stata in names.items()]
    if "dta" in wanted:
        mapping = pd.DataFrame(stata_rows, columns=["table", "column", "stata_name"])
        files[STATA_NAMES_NAME] = csv_bytes(mapping)
    if "xlsx" in wanted:
        files[WORKBOOK_NAME] = workbook_bytes(
            tables, manifest=manifest, dictionary=dictionary, timestamp=stamp
        )
    files["data_dictionary.csv"] = csv_bytes(dictionary)
    files["data_dictionary.md"] = dictionary_markdown(dictionary).encode("utf-8")
    files[MANIFEST_NAME] = manifest_bytes(manifest)
    return files


def descriptions(dictionary: pd.DataFrame, table: str) -> dict[str, str]:
    """Return column name to description of one table's rows of the data dictionary (empty and
    missing descriptions left out)."""
    rows = dictionary[dictionary["table"] == table]
    return {
        str(column): str(text)
        for column, text in zip(rows["column"], rows["description"])
        if isinstance(text, str) and text.strip()
    }


def parse_formats(formats: Iterable[str]) -> set[str]:
    """Return the formats to write: the requested ones plus :data:`ALWAYS_WRITTEN`.

    Raises:
        ValueError: A format is not one of :data:`FORMATS`.
    """
    requested = [formats] if isinstance(formats, str) else list(formats)
    unknown = [name for name in requested if name not in FORMATS]
    if unknown:
        raise ValueError(
            f"unknown export format {', '.join(map(repr, unknown))}; "
            f"fix: choose from {', '.join(FORMATS)}"
        )
    return set(requested) | set(ALWAYS_WRITTEN)


def export_timestamp(manifest: Mapping[str, Any]) -> datetime:
    """Return the naive UTC date-time to write into files: the manifest's ``inputs_as_of``
    (when the export's inputs last changed), else its ``created`` field.

    Raises:
        ValueError: the value is not an ISO 8601 date or date-time.
    """
    created = manifest.get("inputs_as_of") or manifest.get("created")
    if created is None:
        return DEFAULT_TIMESTAMP
    if isinstance(created, datetime):
        stamp = created
    elif isinstance(created, date):
        stamp = datetime.combine(created, time())
    else:
        text = str(created)
        try:
            stamp = datetime.fromisoformat(re.sub(r"[zZ]\Z", "+00:00", text))
        except ValueError:
            raise ValueError(
                f"manifest field 'created' is {text!r}, not an ISO 8601 date-time; "
                "fix: write it like '2024-05-01T12:30:00+00:00', or leave it out"
            ) from None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(timezone.utc).replace(tzinfo=None)
    return stamp.replace(microsecond=0)


def _check_tables(tables: Mapping[str, pd.DataFrame]) -> None:
    problems = []
    for name, frame in tables.items():
        if not isinstance(name, str) or not _TABLE_NAME.match(name):
            problems.append(
                f"table name {name!r} cannot be a file name; "
                "fix: use letters, digits, '_', '.' and '-', starting with a letter or digit"
            )
        elif name in RESERVED_TABLE_NAMES:
            problems.append(f"table name {name!r} is taken by an export file; fix: rename it")
        bad = [column for column in frame.columns if not isinstance(column, str)]
        if bad:
            problems.append(f"table {name!r}: column names {bad!r} are not strings")
        repeated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        if repeated:
            problems.append(f"table {name!r}: column names {repeated} appear more than once")
    if problems:
        raise ValueError("cannot export:\n  " + "\n  ".join(problems))
