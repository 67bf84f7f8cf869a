"""Write the export tables to CSV, Parquet, JSON, Stata and one Excel workbook.

:func:`write_tables` is the one entry point that touches the disk. Everything it writes is first
rendered to bytes by pure functions (:func:`render_export` and the ``*_bytes`` helpers), so a
table that cannot be converted stops the export before any file is changed, and every file is
then put in place atomically (a temporary file in the same folder, then :func:`os.replace`).

Identical inputs give byte-identical files, so that an export can be checked into a repository
or compared with ``cmp``: nothing depends on the clock. Dates that the formats insist on (the
Stata time stamp, the workbook's created and modified properties, the dates of the zip entries in
the workbook) come from the manifest's ``inputs_as_of`` (when the inputs last changed; else its
``created`` field), or :data:`DEFAULT_TIMESTAMP` when it has neither. Byte identity holds for one
set of library versions: Parquet files name the pyarrow and pandas versions that wrote them, and
the workbook's zip compression comes from zlib.

Formula injection: text in the CSV files is neutralised (:func:`pipeline.core.cells.neutralise`:
a ``'`` in front of text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return),
because a spreadsheet program opening a CSV file guesses each cell's type and would run
``=HYPERLINK(...)`` as a formula. Every other format holds the text exactly as it is: the
workbook's text cells are typed strings (which no spreadsheet program evaluates), and Parquet,
JSON and Stata files are typed data, so an analysis reading any of them sees the true values.

This module holds the entry point and the writing to disk; the rendering lives in
:mod:`.render`, the formats in :mod:`.plain`, :mod:`.stata` and :mod:`.excel`, the data dictionary
in :mod:`.dictionary` and the reading back in :mod:`.readback`. Their public names are importable
from here.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.exports.dictionary import DICTIONARY_COLUMNS, dictionary_markdown
from pipeline.exports.excel import (
    EXCEL_MAX_CELL,
    EXCEL_MAX_COLUMNS,
    EXCEL_MAX_ROWS,
    EXCEL_MAX_SHEET_NAME,
    EXCEL_RESERVED_SHEETS,
    ZIP_EPOCH,
    sheet_names,
    workbook_bytes,
)
from pipeline.exports.plain import (
    CSV_FLOAT_FORMAT,
    csv_bytes,
    json_bytes,
    manifest_bytes,
    parquet_bytes,
)
from pipeline.exports.readback import (
    read_back,
    read_excel_sheet,
    read_stata_labels,
    read_stata_value_labels,
)
from pipeline.exports.render import (
    ALWAYS_WRITTEN,
    DEFAULT_TIMESTAMP,
    FORMATS,
    MANIFEST_NAME,
    RESERVED_TABLE_NAMES,
    STATA_NAMES_NAME,
    WORKBOOK_NAME,
    export_timestamp,
    parse_formats,
    render_export,
)
from pipeline.exports.stata import (
    STATA_MAX_LABEL,
    STATA_MAX_NAME,
    STATA_MAX_STR,
    STATA_RESERVED,
    STATA_VERSION,
    stata_bytes,
    stata_names,
)

__all__ = [
    "ALWAYS_WRITTEN",
    "CSV_FLOAT_FORMAT",
    "DEFAULT_TIMESTAMP",
    "DICTIONARY_COLUMNS",
    "EXCEL_MAX_CELL",
    "EXCEL_MAX_COLUMNS",
    "EXCEL_MAX_ROWS",
    "EXCEL_MAX_SHEET_NAME",
    "EXCEL_RESERVED_SHEETS",
    "FORMATS",
    "MANIFEST_NAME",
    "RESERVED_TABLE_NAMES",
    "STATA_MAX_LABEL",
    "STATA_MAX_NAME",
    "STATA_MAX_STR",
    "STATA_NAMES_NAME",
    "STATA_RESERVED",
    "STATA_VERSION",
    "WORKBOOK_NAME",
    "ZIP_EPOCH",
    "csv_bytes",
    "dictionary_markdown",
    "export_timestamp",
    "json_bytes",
    "manifest_bytes",
    "parquet_bytes",
    "parse_formats",
    "read_back",
    "read_excel_sheet",
    "read_stata_labels",
    "read_stata_value_labels",
    "render_export",
    "sheet_names",
    "stata_bytes",
    "stata_names",
    "workbook_bytes",
    "write_atomic",
    "write_tables",
]


def write_tables(
    out_dir: Path,
    tables: dict[str, pd.DataFrame],
    *,
    formats: Iterable[str],
    manifest: dict[str, Any],
    dictionary: pd.DataFrame,
    categories: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
) -> list[Path]:
    """Write every table in every requested format, plus the manifest and the data dictionary.

    For each table ``name`` this writes ``name.csv`` and ``name.parquet``, and when asked
    ``name.json`` and ``name.dta``; ``"xlsx"`` puts all tables into one workbook,
    ``tables.xlsx``. It always writes ``manifest.json``, ``data_dictionary.csv`` and
    ``data_dictionary.md``, and with ``"dta"`` also ``stata_names.csv``, the map from each
    column to its Stata variable name. Files of earlier exports that this one does not write are
    left alone.

    Args:
        out_dir: Folder to write into; created if missing.
        tables: Table name (letters, digits, ``_``, ``.``, ``-``) to frame, in the order the
            workbook should show them. Column names must be unique strings.
        formats: Any of :data:`FORMATS`; CSV and Parquet are written even if not listed.
        manifest: Facts about the run (version, codebook, ``created`` ISO date-time, ...).
        dictionary: One row per exported column, with at least :data:`DICTIONARY_COLUMNS`;
            its descriptions are the Stata variable labels.
        categories: Per table, columns of a closed set of values and those values in order:
            Stata stores them as numbered codes with value labels (other formats as text).

    Returns:
        The paths written, sorted.

    Raises:
        ValueError: An unknown format, a bad table or column name, a malformed dictionary or
            manifest date, or a table that a requested format cannot hold. Nothing is written
            then.
    """
    files = render_export(
        tables, formats=formats, manifest=manifest, dictionary=dictionary, categories=categories
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    # The manifest goes last, so that a folder whose manifest is new holds a complete export.
    order = sorted(files, key=lambda name: (name == MANIFEST_NAME, name))
    paths = []
    for name in order:
        path = out_dir / name
        write_atomic(path, files[name])
        paths.append(path)
    _sync_folder(out_dir)
    return sorted(paths)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part.

    The bytes go to a hidden temporary file in the same folder, are flushed to disk, and the file
    is then renamed over ``path``. If anything fails, the temporary file is removed and ``path``
    is unchanged. The new file gets the usual permissions (0666 less the umask).
    """
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(temporary, flags, 0o666)
        with open(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _sync_folder(folder: Path) -> None:
    """Flush the folder's entries (the renames) to disk where the platform allows it."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
