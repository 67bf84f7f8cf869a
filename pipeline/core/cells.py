"""Defend text cells against spreadsheet formula injection (CSV/formula injection).

Excel and LibreOffice treat a cell whose text starts with ``=``, ``+``, ``-`` or ``@`` (or with a
tab or carriage return, which some importers strip before looking) as a formula, so a document
title such as ``=HYPERLINK("http://evil", "x")`` copied from a scraped page would run when a
coder opens the export. Prefixing such text with a single quote makes both programs show it as
text. This follows the OWASP advice on CSV injection.

Only text is changed: numbers, booleans and missing values are never touched, so the numeric
value ``-5.0`` stays a number while the *text* ``"-5"`` becomes ``"'-5"``.
"""

from __future__ import annotations

import pandas as pd

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""Characters that make a spreadsheet read a cell as a formula when the text starts with one."""

QUOTE = "'"


def neutralise(value: object) -> object:
    """Return ``value`` made safe to show in a spreadsheet cell.

    A string whose first character, after any leading spaces, is one of :data:`TRIGGERS` gets a
    single quote in front. Everything else (other strings, numbers, booleans, ``None``, NaN) is
    returned unchanged.

    Args:
        value: One cell value.

    Returns:
        The value, with a leading ``'`` added when it is dangerous text.

    Examples:
        >>> neutralise("=SUM(A1)")
        "'=SUM(A1)"
        >>> neutralise("  +1")
        "'  +1"
        >>> neutralise(-5.0)
        -5.0
    """
    if isinstance(value, str) and value.lstrip(" ").startswith(TRIGGERS):
        return QUOTE + value
    return value


def _is_text_column(series: pd.Series) -> bool:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _is_text_column(pd.Series(dtype.categories))
    return pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` with :func:`neutralise` applied to its text columns.

    Text columns are those of ``object`` or string dtype (and categoricals of text, which come
    back as ``object`` columns because a neutralised label may clash with an existing one).
    Numeric, boolean and date columns are copied unchanged. A string column keeps its dtype.

    Args:
        frame: The table about to be written to a CSV file or a workbook.

    Returns:
        A new frame; ``frame`` itself is not modified.
    """
    result = frame.copy()
    for position in range(result.shape[1]):
        column = result.iloc[:, position]
        if not _is_text_column(column):
            continue
        if isinstance(column.dtype, pd.CategoricalDtype):
            safe = column.astype(object).map(neutralise, na_action="ignore")
        else:
            # Vectorised test first: most columns hold no dangerous cell and stay as they are.
            first = column.str.lstrip(" ").str[:1]
            dangerous = first.isin(TRIGGERS).fillna(False).astype(bool)
            if not dangerous.any():
                continue
            safe = column.map(neutralise, na_action="ignore").astype(column.dtype)
        # Assign by position so that duplicate column names cannot confuse the update.
        result.isetitem(position, safe)
    return result
