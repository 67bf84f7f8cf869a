"""HTML tables of the report: plain tables, and the values behind each figure."""

from __future__ import annotations

import html

import pandas as pd


def plain_table(frame: pd.DataFrame, text_columns: tuple[str, ...] = (), digits: int = 3) -> str:
    """Render a frame as an HTML table: numbers right-aligned to ``digits``, text left."""
    if frame.empty:
        return "<p class='note'>(none)</p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, record):
            if isinstance(value, float):
                shown = "" if pd.isna(value) else f"{value:.{digits}f}"
            else:
                shown = html.escape(str(value))
            text = column in text_columns or not isinstance(value, (int, float))
            cells.append(f"<td{' class=t' if text else ''}>{shown}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def values_table(
    series: dict[str, pd.DataFrame], periods: list[str], digits: int = 3, caption: str = ""
) -> str:
    """The numbers behind a line chart, folded under it: per period and series, the value,
    its interval and the documents it rests on (a blank where the series has no documents).

    Each frame has period, value, low, high, documents, low_documents.
    """
    names = list(series)
    head = "<th>period</th>" + "".join(f"<th>{html.escape(n)}</th>" for n in names)
    indexed = {n: f.set_index(f["period"].astype(str)) for n, f in series.items()}
    rows = []
    for period in periods:
        cells = [f"<td class=t>{html.escape(period)}</td>"]
        for name in names:
            frame = indexed[name]
            if period not in frame.index or pd.isna(frame.at[period, "value"]):
                cells.append("<td class=gap>no documents</td>")
                continue
            row = frame.loc[period]
            thin = " thin" if bool(row["low_documents"]) else ""
            cells.append(
                f"<td class='v{thin}'>{row['value']:.{digits}f}"
                f" <span class=iv>{row['low']:.{digits}f}–{row['high']:.{digits}f}</span>"
                f" <span class=n>{int(row['documents'])} doc</span></td>"
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    summary = caption or "Values, 95% intervals and documents behind each point"
    return (
        f"<details class=values><summary>{html.escape(summary)}</summary>"
        f"<table><tr>{head}</tr>{''.join(rows)}</table></details>"
    )
