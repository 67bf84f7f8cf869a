"""The plain export formats: CSV, Parquet and JSON tables, and the JSON manifest (pure, to bytes).

CSV text is neutralised against formula injection (it is opened in spreadsheet programs);
Parquet and JSON keep every value exactly as it is.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.core.cells import neutralise_frame

CSV_FLOAT_FORMAT = "%.10g"


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
        for row in plain_rows(dates_as_dates(frame), _json_value)
    ]
    text = "[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n"
    return text.encode("utf-8")


def dates_as_dates(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with each date-time column whose values all fall at midnight (a column
    of dates, such as ``period_start``) as :class:`datetime.date` values, so that JSON writes
    ``2013-04-01`` and a workbook a date cell, as the CSV file does; missing values are None."""
    result = frame
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if not pd.api.types.is_datetime64_dtype(column.dtype):
            continue
        stamps = column.dropna()
        if not (stamps == stamps.dt.normalize()).all():
            continue
        if result is frame:
            result = frame.copy()
        days = [None if pd.isna(value) else value.date() for value in column.tolist()]
        result.isetitem(position, pd.Series(days, index=column.index, dtype=object))
    return result


def plain_rows(frame: pd.DataFrame, convert: Callable[[Any], Any]) -> Iterator[tuple[Any, ...]]:
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
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False, default=json_default)
    return (text + "\n").encode("utf-8")


def json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (Path, Decimal)):
        return str(value)
    raise TypeError(f"manifest value {value!r} ({type(value).__name__}) cannot be written as JSON")
