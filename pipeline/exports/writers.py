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

Formula injection: text cells are neutralised (:func:`pipeline.exports.safe.neutralise`) in the
CSV files and the workbook, the two outputs people open in a spreadsheet program, which would run
``=HYPERLINK(...)`` as a formula. Parquet, JSON and Stata files are typed data that no program
executes, so they keep the text exactly as it is, and an analysis reading them sees the true
values.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import secrets
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.writer.excel import ExcelWriter

from pipeline.exports.safe import neutralise, neutralise_frame

FORMATS = ("csv", "parquet", "xlsx", "dta", "json")
"""Every format :func:`write_tables` knows."""

ALWAYS_WRITTEN = ("csv", "parquet")
"""Formats written whether or not they are asked for."""

DICTIONARY_COLUMNS = ("table", "column", "type", "description")
"""Columns the data dictionary must have (it may have more)."""

DEFAULT_TIMESTAMP = datetime(1980, 1, 1)
"""The date written into files when the manifest has no ``created`` field."""

WORKBOOK_NAME = "tables.xlsx"
MANIFEST_NAME = "manifest.json"
STATA_NAMES_NAME = "stata_names.csv"
RESERVED_TABLE_NAMES = frozenset({"manifest", "data_dictionary", "stata_names"})

CSV_FLOAT_FORMAT = "%.10g"

STATA_VERSION = 118
STATA_MAX_NAME = 32
STATA_MAX_LABEL = 80
STATA_MAX_STR = 2045  # bytes; longer text goes into strL variables
STATA_RESERVED = frozenset(
    """aggregate array boolean break byte case catch class colvector complex const continue
    default delegate delete do double else eltypedef end enum explicit export external float for
    friend function global goto if in inline int local long NULL pragma protected quad rowvector
    short typedef typename virtual using with strL _all _b _coef _cons _n _N _pi _pred _rc _se
    _skip""".split()
)

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
EXCEL_MAX_CELL = 32_767
EXCEL_MAX_SHEET_NAME = 31
EXCEL_RESERVED_SHEETS = ("README", "dictionary", "History")
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

_TABLE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
_STATA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


# --- the entry point -----------------------------------------------------------------------------


def write_tables(
    out_dir: Path,
    tables: dict[str, pd.DataFrame],
    *,
    formats: Iterable[str],
    manifest: dict[str, Any],
    dictionary: pd.DataFrame,
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
        dictionary: One row per exported column, with at least :data:`DICTIONARY_COLUMNS`.

    Returns:
        The paths written, sorted.

    Raises:
        ValueError: An unknown format, a bad table or column name, a malformed dictionary or
            manifest date, or a table that a requested format cannot hold. Nothing is written
            then.
    """
    files = render_export(tables, formats=formats, manifest=manifest, dictionary=dictionary)
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


def render_export(
    tables: Mapping[str, pd.DataFrame],
    *,
    formats: Iterable[str],
    manifest: Mapping[str, Any],
    dictionary: pd.DataFrame,
) -> dict[str, bytes]:
    """Return the content of every file :func:`write_tables` writes, keyed by file name.

    Args and Raises are as for :func:`write_tables`; this function touches no file of the export.
    """
    wanted = parse_formats(formats)
    _check_tables(tables)
    _check_dictionary(dictionary)
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
            files[f"{name}.dta"] = stata_bytes(frame, timestamp=stamp, label=name, names=names)
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


def _check_dictionary(dictionary: pd.DataFrame) -> None:
    missing = [column for column in DICTIONARY_COLUMNS if column not in dictionary.columns]
    if missing:
        raise ValueError(
            f"the data dictionary lacks the columns {missing}; "
            f"fix: give it the columns {list(DICTIONARY_COLUMNS)}"
        )


# --- plain formats -------------------------------------------------------------------------------


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """Return ``frame`` as UTF-8 CSV (no BOM, ``\\n`` line ends, no index), text neutralised.

    Floats are written with ``%.10g``: ten significant digits, the same text on every platform.
    """
    text = neutralise_frame(frame).to_csv(
        index=False, float_format=CSV_FLOAT_FORMAT, lineterminator="\n"
    )
    return str(text).encode("utf-8")


def parquet_bytes(frame: pd.DataFrame, *, label: str = "table") -> bytes:
    """Return ``frame`` as a Parquet file (pyarrow, Snappy compression, no index).

    Raises:
        ValueError: A column mixes types (such as numbers and text in one ``object`` column);
            the message starts with ``<label>.parquet`` and names the column.
    """
    buffer = io.BytesIO()
    try:
        frame.to_parquet(buffer, engine="pyarrow", index=False, compression="snappy")
    except (ValueError, TypeError, pa.ArrowException) as error:
        raise ValueError(
            f"{label}.parquet: {error}; fix: give every value of the column the same type"
        ) from error
    return buffer.getvalue()


def json_bytes(frame: pd.DataFrame) -> bytes:
    """Return ``frame`` as a UTF-8 JSON array of records, one record per line.

    Keys keep the column order; missing values, NaN and infinities are ``null``; floats are
    written with the shortest text that reads back to the same number; dates in ISO 8601.
    """
    columns = list(frame.columns)
    lines = [
        json.dumps(dict(zip(columns, row)), ensure_ascii=False, allow_nan=False)
        for row in _plain_rows(frame, _json_value)
    ]
    text = "[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n"
    return text.encode("utf-8")


def _plain_rows(frame: pd.DataFrame, convert: Callable[[Any], Any]) -> Iterator[tuple[Any, ...]]:
    """Yield the rows of ``frame`` as tuples of plain Python values made by ``convert``.

    Integer and boolean numpy columns skip ``convert``, and float ones only turn NaN and
    infinities into ``None``: a column at a time, this is several times faster than per cell.
    """
    columns = []
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        dtype = column.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "biu":
            columns.append(column.tolist())
        elif isinstance(dtype, np.dtype) and dtype.kind == "f":
            columns.append([value if math.isfinite(value) else None for value in column.tolist()])
        else:
            columns.append([convert(value) for value in column.tolist()])
    return zip(*columns) if columns else iter([()] * len(frame))


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    """Return the manifest as indented JSON with sorted keys and a final newline."""
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False, default=_json_default)
    return (text + "\n").encode("utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (Path, Decimal)):
        return str(value)
    raise TypeError(f"manifest value {value!r} ({type(value).__name__}) cannot be written as JSON")


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


# --- Stata ---------------------------------------------------------------------------------------


def stata_names(columns: Iterable[str]) -> dict[str, str]:
    """Map column names to valid, unique Stata variable names.

    A name that is already valid (ASCII letters, digits and ``_``, not starting with a digit, at
    most 32 characters, not a Stata reserved word) is kept. Others are rewritten: accents are
    dropped (``ü`` becomes ``u``), every other character outside ``[A-Za-z0-9_]`` becomes ``_``,
    a leading digit or a reserved word gets a ``_`` in front, and the result is cut to 32
    characters. A name already taken gets ``_2``, ``_3``, ... (cutting the name further to make
    room), so the same columns always give the same names.

    Args:
        columns: Column names, in order; they must be unique.

    Returns:
        Original name to Stata name, in the order of ``columns``.

    Examples:
        >>> stata_names(["year", "code.alignment", "code:alignment"])
        {'year': 'year', 'code.alignment': 'code_alignment', 'code:alignment': 'code_alignment_2'}
    """
    columns = list(columns)
    kept = {column for column in columns if _is_stata_name(column)}
    taken = set(kept)
    result = {}
    for column in columns:
        if column in kept:
            result[column] = column
            continue
        base = _stata_base(column)
        name, number = base, 1
        while name in taken:
            number += 1
            suffix = f"_{number}"
            name = base[: STATA_MAX_NAME - len(suffix)] + suffix
        taken.add(name)
        result[column] = name
    return result


def _is_stata_name(name: str) -> bool:
    return (
        len(name) <= STATA_MAX_NAME
        and bool(_STATA_NAME.match(name))
        and name not in STATA_RESERVED
        and not re.fullmatch(r"str\d+", name)
    )


def _stata_base(name: str) -> str:
    ascii_name = "".join(_ascii_char(char) for char in name) or "var"
    if ascii_name[0].isdigit() or not _is_stata_name(ascii_name[:STATA_MAX_NAME]):
        ascii_name = "_" + ascii_name
    return ascii_name[:STATA_MAX_NAME]


def _ascii_char(char: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_]", char):
        return char
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if re.fullmatch(r"\w", c))
    return base if base.isascii() and base else "_"


def stata_bytes(
    frame: pd.DataFrame, *, timestamp: datetime, label: str, names: Mapping[str, str]
) -> bytes:
    """Return ``frame`` as a Stata 14+ file (dta version 118, UTF-8).

    Columns are renamed with ``names`` (see :func:`stata_names`) and each variable is labelled
    with its original column name (cut to Stata's 80 characters). Booleans become ``int8`` (1 and
    0); missing text becomes ``""``, as Stata has no missing string; text longer than 2045 bytes
    is stored as strL. Stata has no 64-bit integers: pandas stores them as ``long`` when they fit,
    else as ``double``.

    Args:
        frame: The table.
        timestamp: Written as the file's time stamp, so that the bytes are reproducible.
        label: The dataset label (cut to 80 characters), normally the table name.
        names: Original column name to Stata variable name, for every column.

    Raises:
        ValueError: A column holds values Stata cannot store (such as infinities or
            time spans); the message names the column.
    """
    data = pd.DataFrame(
        {names[column]: _stata_column(frame[column]) for column in frame.columns},
        index=pd.RangeIndex(len(frame)),
    )
    long_text = [
        names[column]
        for column in frame.columns
        if data[names[column]].dtype == object
        and data[names[column]].map(lambda text: len(text.encode("utf-8"))).max() > STATA_MAX_STR
    ]
    labels = {names[column]: column[:STATA_MAX_LABEL] for column in frame.columns}
    buffer = io.BytesIO()
    try:
        data.to_stata(
            buffer,
            write_index=False,
            version=STATA_VERSION,
            time_stamp=timestamp,
            data_label=label[:STATA_MAX_LABEL],
            variable_labels=labels,
            convert_strl=long_text,
        )
    except (ValueError, NotImplementedError, TypeError) as error:
        raise ValueError(
            f"{label}.dta: {error}; fix: convert the column to numbers or text, "
            "or leave 'dta' out of the export formats"
        ) from error
    return buffer.getvalue()


def _stata_column(column: pd.Series) -> pd.Series:
    if isinstance(column.dtype, pd.CategoricalDtype):
        # Plain values rather than Stata value labels: pandas cannot label every categorical
        # (an empty one, numeric categories), and the labels would add nothing to text values.
        column = pd.Series(np.asarray(column), index=column.index)
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        if column.isna().any():
            return column.astype("Int8")
        return column.astype("int8")
    if isinstance(dtype, pd.DatetimeTZDtype):
        return column.dt.tz_convert("UTC").dt.tz_localize(None)
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        text = [
            "" if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)) else value
            for value in column.tolist()
        ]
        return pd.Series([str(value) for value in text], dtype=object, index=column.index)
    return column


# --- Excel ---------------------------------------------------------------------------------------


def sheet_names(tables: Iterable[str]) -> dict[str, str]:
    """Map table names to unique Excel sheet names.

    Sheet names have at most 31 characters, none of ``[ ] : * ? / \\``, and are unique ignoring
    case; ``README``, ``dictionary`` and ``History`` (reserved by Excel) are kept for other uses.
    A clash gets ``_2``, ``_3``, ...
    """
    taken = {name.casefold() for name in EXCEL_RESERVED_SHEETS}
    result = {}
    for table in tables:
        base = _SHEET_FORBIDDEN.sub("_", table).strip("'") or "table"
        base = base[:EXCEL_MAX_SHEET_NAME]
        name, number = base, 1
        while name.casefold() in taken:
            number += 1
            suffix = f"_{number}"
            name = base[: EXCEL_MAX_SHEET_NAME - len(suffix)] + suffix
        taken.add(name.casefold())
        result[table] = name
    return result


def workbook_bytes(
    tables: Mapping[str, pd.DataFrame],
    *,
    manifest: Mapping[str, Any],
    dictionary: pd.DataFrame,
    timestamp: datetime,
) -> bytes:
    """Return one Excel workbook: a README sheet, one sheet per table, then the dictionary.

    Each sheet has a bold, frozen header row. Text is neutralised; missing values, NaN and
    infinities are empty cells; characters Excel cannot store (control characters) become
    U+FFFD, and text longer than Excel's 32,767 characters per cell is cut (the CSV and Parquet
    files keep it whole). The workbook's created and modified dates are ``timestamp`` and its zip
    entries are dated 1980-01-01, so the same input gives the same bytes.

    Raises:
        ValueError: A table has more rows or columns than an Excel sheet holds.
    """
    too_big = [
        f"table {name!r} has {frame.shape[0]} rows and {frame.shape[1]} columns"
        for name, frame in tables.items()
        if frame.shape[0] + 1 > EXCEL_MAX_ROWS or frame.shape[1] > EXCEL_MAX_COLUMNS
    ]
    if too_big:
        raise ValueError(
            "; ".join(too_big)
            + f", more than an Excel sheet holds ({EXCEL_MAX_ROWS} rows, {EXCEL_MAX_COLUMNS} "
            "columns); fix: leave 'xlsx' out of the formats and use the CSV or Parquet files"
        )
    book = Workbook(write_only=True)
    book.properties.creator = "dshift"
    book.properties.created = timestamp
    book.properties.modified = timestamp
    sheets = sheet_names(tables)
    _readme_sheet(book, tables, sheets, manifest)
    for name, frame in tables.items():
        _table_sheet(book, sheets[name], frame)
    _table_sheet(book, "dictionary", dictionary)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        # ExcelWriter rather than Workbook.save, which stamps "modified" with the current time.
        ExcelWriter(book, archive).write_data()
    return _fix_zip_dates(buffer.getvalue())


def _readme_sheet(
    book: Workbook,
    tables: Mapping[str, pd.DataFrame],
    sheets: Mapping[str, str],
    manifest: Mapping[str, Any],
) -> None:
    sheet = book.create_sheet("README")
    sheet.freeze_panes = "A2"
    sheet.append(_bold_row(sheet, ["table", "sheet", "rows", "columns"]))
    for name, frame in tables.items():
        sheet.append([_excel_value(name), _excel_value(sheets[name]), *frame.shape])
    sheet.append([])
    sheet.append(_bold_row(sheet, ["manifest field", "value"]))
    for key in sorted(manifest):
        value = manifest[key]
        if not (value is None or isinstance(value, (str, int, float, bool))):
            value = json.dumps(value, sort_keys=True, ensure_ascii=False, default=_json_default)
        sheet.append([_excel_value(key), _excel_value(value)])
    sheet.append([])
    sheet.append(_bold_row(sheet, ["note"]))
    for note in (
        "Text that starts with = + - @, a tab or a carriage return has a ' in front, so that "
        "no cell runs as a formula. The Parquet, JSON and Stata files hold the text unchanged.",
        f"Text longer than {EXCEL_MAX_CELL} characters is cut; the CSV and Parquet files hold "
        "it whole.",
    ):
        sheet.append([note])


def _table_sheet(book: Workbook, title: str, frame: pd.DataFrame) -> None:
    sheet = book.create_sheet(title)
    sheet.freeze_panes = "A2"
    sheet.append(_bold_row(sheet, [str(column) for column in frame.columns]))
    for row in _plain_rows(neutralise_frame(frame), _excel_value):
        sheet.append(list(row))


def _bold_row(sheet: Any, values: list[Any]) -> list[WriteOnlyCell]:
    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=_excel_value(neutralise(value)))
        cell.font = Font(bold=True)
        cells.append(cell)
    return cells


def _excel_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is not None:
            value = value.tz_convert("UTC").tz_localize(None)
        return value.to_pydatetime()
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)[:EXCEL_MAX_CELL]
    if isinstance(value, (bool, int, float, Decimal, datetime, date, time, timedelta)):
        return value
    return _excel_value(str(value))


def _fix_zip_dates(data: bytes) -> bytes:
    """Rewrite a zip archive with every entry dated :data:`ZIP_EPOCH` and fixed attributes."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as target,
    ):
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=ZIP_EPOCH)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.create_system = 3
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(entry))
    return buffer.getvalue()


# --- disk ----------------------------------------------------------------------------------------


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


# --- reading back --------------------------------------------------------------------------------


def read_back(path: Path) -> pd.DataFrame:
    """Read a table written by :func:`write_tables` from its CSV, Parquet, JSON or Stata file.

    The frame is what the file holds: CSV text stays neutralised and Stata columns keep their
    Stata names (the original names are the variable labels; see :func:`read_stata_labels`).

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
    """Return Stata variable name to variable label (the original column name) of a .dta file."""
    with pd.io.stata.StataReader(path) as reader:
        return dict(reader.variable_labels())


def read_excel_sheet(path: Path, sheet: str) -> pd.DataFrame:
    """Read one sheet of a workbook written by :func:`write_tables`, the first row as header."""
    return pd.read_excel(path, sheet_name=sheet, engine="openpyxl")
