"""The Stata export: valid, unique variable names for any column names, and dta 118 files.

Stata names are ASCII, at most 32 characters and not reserved words. Each variable is labelled
with its description from the data dictionary (a renamed one with its original column name in
front, so nothing is lost by the renaming); dates are Stata dates (``%td``); a column of a small
closed set of values (a source type, a track) is stored as numbers with value labels, so that
``tabulate`` and ``tsset`` work without ``encode`` or ``destring``.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

import numpy as np
import pandas as pd

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


_STATA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


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
    frame: pd.DataFrame,
    *,
    timestamp: datetime,
    label: str,
    names: Mapping[str, str],
    labels: Mapping[str, str] | None = None,
    categories: Mapping[str, Sequence[str]] | None = None,
) -> bytes:
    """Return ``frame`` as a Stata 14+ file (dta version 118, UTF-8).

    Columns are renamed with ``names`` (see :func:`stata_names`) and each variable is labelled
    with ``labels[column]`` (its description; the column name when it has none), cut to
    Stata's 80 characters at a word (:func:`stata_label`). Booleans become ``int8`` (1 and 0);
    dates (date-times at midnight) become ``%td`` dates, other date-times ``%tc``; missing text
    becomes ``""``, as Stata has no missing string; text longer than 2045 bytes is stored as
    strL. A column named in ``categories`` is stored as the numbers 1, 2, ... of its values in
    that order (values not listed follow, sorted), with those values as its value labels;
    empty and missing text is Stata's missing value. Stata has no 64-bit integers: pandas
    stores them as ``long`` when they fit, else as ``double``.

    Args:
        frame: The table.
        timestamp: Written as the file's time stamp, so that the bytes are reproducible.
        label: The dataset label (cut to 80 characters), normally the table name.
        names: Original column name to Stata variable name, for every column.
        labels: Column name to variable label text; columns missing here are labelled with
            their name.
        categories: Column name to its closed set of values, in the order to number them.

    Raises:
        ValueError: A column holds values Stata cannot store (such as infinities or
            time spans); the message names the column.
    """
    labels, categories = labels or {}, categories or {}
    data = pd.DataFrame(
        {names[column]: _stata_column(frame[column]) for column in frame.columns},
        index=pd.RangeIndex(len(frame)),
    )
    value_labels = {}
    for column, values in categories.items():
        if column in frame.columns and data[names[column]].dtype == object:
            codes, value_labels[names[column]] = _value_codes(data[names[column]], values)
            data[names[column]] = codes
    long_text = [
        name
        for name in data.columns
        if data[name].dtype == object
        and data[name].map(lambda text: len(text.encode("utf-8"))).max() > STATA_MAX_STR
    ]
    dates = {
        name: "td" if _all_midnight(data[name]) else "tc"
        for name in data.columns
        if pd.api.types.is_datetime64_dtype(data[name].dtype)
    }
    variable_labels = {
        names[column]: stata_label(
            _label_text(column, names[column], labels.get(column, "")), STATA_MAX_LABEL
        )
        for column in frame.columns
    }
    buffer = io.BytesIO()
    try:
        data.to_stata(
            buffer,
            write_index=False,
            version=STATA_VERSION,
            time_stamp=timestamp,
            data_label=label[:STATA_MAX_LABEL],
            variable_labels=variable_labels,
            convert_strl=long_text,
            convert_dates=dates,
            value_labels=value_labels,
        )
    except (ValueError, NotImplementedError, TypeError) as error:
        raise ValueError(
            f"{label}.dta: {error}; fix: convert the column to numbers or text, "
            "or leave 'dta' out of the export formats"
        ) from error
    return buffer.getvalue()


def stata_label(text: str, limit: int = STATA_MAX_LABEL) -> str:
    """Return ``text`` on one line, cut to ``limit`` characters at a word with ``…`` at the end.

    Examples:
        >>> stata_label("lower end of the 95% bootstrap interval", 20)
        'lower end of the…'
    """
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    # Cut at the last space when it keeps most of the room; a single long word is cut mid-word.
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:(-") + "…"


def _label_text(column: str, name: str, description: str) -> str:
    description = " ".join(str(description).split())
    if not description:
        return column
    # A renamed variable says its original column name first, as the other formats spell it.
    return description if name == column else f"{column}: {description}"


def _value_codes(text: pd.Series, values: Sequence[str]) -> tuple[pd.Series, dict[int, str]]:
    """Number the values of a text column: ``values`` first, in order, then others sorted."""
    order = list(dict.fromkeys(str(value) for value in values if str(value)))
    extra = sorted(set(text) - set(order) - {""})
    numbers = {value: number for number, value in enumerate([*order, *extra], start=1)}
    dtype = "Int8" if len(numbers) <= 100 else "Int16" if len(numbers) <= 32_740 else "Int32"
    codes = pd.Series(pd.array(text.map(numbers).tolist(), dtype=dtype), index=text.index)
    return codes, {number: value for value, number in numbers.items()}


def _all_midnight(column: pd.Series) -> bool:
    stamps = column.dropna()
    return bool((stamps == stamps.dt.normalize()).all())


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
