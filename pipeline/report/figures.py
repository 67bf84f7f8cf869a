"""Figures of the report (matplotlib, no screen needed), saved as PNG and SVG."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

# SVG text stays text: faster than drawing each glyph as a path, a smaller file, and labels an
# analyst can still edit or search in the copy they put in a paper.
matplotlib.rcParams["svg.fonttype"] = "none"

COLOURS = {"alignment": "#1f77b4", "securitization": "#d62728", "hedging": "#2ca02c"}
_PALETTE = [
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#393b79",
]


def save(figure: plt.Figure, folder: Path, name: str) -> str:
    """Write ``name``.png and ``name``.svg; return the PNG as a data URI for the HTML.

    The figure is laid out once here (``tight_layout``), so saving draws each format once; a
    tight bounding box would draw every figure twice more, a constrained layout at every draw.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if figure.get_layout_engine() is None:
        figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    (folder / f"{name}.png").write_bytes(buffer.getvalue())
    figure.savefig(
        folder / f"{name}.svg",
        format="svg",
        metadata={"Date": None, "Creator": None},
    )
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _years(labels: pd.Series) -> np.ndarray:
    return np.array([float(str(p)[:4]) + _fraction(str(p)) for p in labels])


def _fraction(label: str) -> float:
    if "-Q" in label:
        return (int(label[-1]) - 1) / 4
    if len(label) == 7:
        return (int(label[5:]) - 1) / 12
    return 0.0


def coverage_chart(coverage: pd.DataFrame) -> plt.Figure:
    """Stacked bars: documents per period and source type."""
    dated = coverage[~coverage["period"].isin(["undated", "unplaceable"])]
    table = dated.pivot_table(
        index="period", columns="source_type", values="documents", aggfunc="sum", fill_value=0
    ).sort_index()
    figure, axis = plt.subplots(figsize=(9, 3.2))
    bottom = np.zeros(len(table))
    for i, column in enumerate(table.columns):
        axis.bar(
            table.index.astype(str),
            table[column],
            bottom=bottom,
            label=column,
            color=_PALETTE[i % len(_PALETTE)],
        )
        bottom += table[column].to_numpy()
    axis.set_ylabel("documents")
    axis.set_title("Corpus coverage by period and source type")
    axis.legend(ncol=5, fontsize=8, frameon=False, loc="lower left", bbox_to_anchor=(0, 1.08))
    axis.tick_params(axis="x", rotation=90, labelsize=8)
    return figure


def series_chart(
    series: dict[str, pd.DataFrame],
    title: str,
    ylabel: str,
    marks: dict[str, list[str]] | None = None,
    *,
    periods: list[str] | None = None,
    counts: pd.DataFrame | None = None,
) -> plt.Figure:
    """Lines with interval bands, over a strip of the documents behind each point.

    Each frame has period, value, low, high, low_documents. ``periods`` are every period the
    chart spans: a series with no value in one of them is broken there instead of drawn across
    it, since a line joining two years with no documents claims a trend nobody measured.
    ``counts`` (index: period, one column per series or one total) is drawn below as bars, with
    the number on each, stacked in the series' colours when it has several columns.
    """
    if counts is None:
        figure, axis = plt.subplots(figsize=(9, 3.4))
        strip = None
    else:
        figure, (axis, strip) = plt.subplots(
            2,
            1,
            figsize=(9, 4.3),
            sharex=True,
            gridspec_kw={"height_ratios": [4, 1.1]},
        )
    colours = {}
    for i, (name, frame) in enumerate(series.items()):
        frame = frame.sort_values("period")
        if periods is not None:
            frame = frame.set_index(frame["period"].astype(str)).reindex(periods)
            frame["period"] = frame.index
            frame["low_documents"] = frame["low_documents"].fillna(False)
        x = _years(frame["period"])
        colour = COLOURS.get(name, _PALETTE[i % len(_PALETTE)])
        colours[name] = colour
        values = frame["value"].to_numpy(float)
        axis.plot(x, values, marker="o", markersize=3, color=colour, label=name)
        low, high = frame["low"].to_numpy(float), frame["high"].to_numpy(float)
        axis.fill_between(x, low, high, where=~np.isnan(low), color=colour, alpha=0.15, linewidth=0)
        thin = frame["low_documents"].to_numpy(bool)
        if thin.any():
            axis.scatter(
                x[thin], values[thin], facecolors="white", edgecolors=colour, zorder=3, s=28
            )
        for period in (marks or {}).get(name, []):
            axis.axvline(
                _years(pd.Series([period]))[0], color=colour, linestyle="--", linewidth=1, alpha=0.7
            )
    axis.set_title(title)
    axis.set_ylabel(ylabel)
    axis.grid(alpha=0.3)
    if len(series) > 1:
        axis.legend(fontsize=8, frameon=False)
    if strip is not None and counts is not None:
        _count_strip(strip, counts, colours)
    return figure


def _count_strip(axis: plt.Axes, counts: pd.DataFrame, colours: dict[str, str]) -> None:
    x = _years(pd.Series(counts.index.astype(str)))
    width = 0.8 * (float(np.min(np.diff(x))) if len(x) > 1 else 1.0)
    bottom = np.zeros(len(counts))
    for i, column in enumerate(counts.columns):
        values = counts[column].fillna(0).to_numpy(float)
        colour = colours.get(
            column, "#9a9a9a" if len(counts.columns) == 1 else _PALETTE[i % len(_PALETTE)]
        )
        axis.bar(x, values, width=width, bottom=bottom, color=colour, alpha=0.55, linewidth=0)
        bottom += values
    for xi, total in zip(x, bottom):
        axis.text(xi, total, f"{int(total)}", ha="center", va="bottom", fontsize=6, color="#444")
    axis.set_ylabel("documents", fontsize=8)
    axis.set_ylim(0, max(1.0, float(bottom.max()) * 1.35))
    axis.tick_params(axis="y", labelsize=7)
    axis.grid(alpha=0.3, axis="x")


def correlation_chart(table: pd.DataFrame, title: str) -> plt.Figure:
    """Dot-and-whisker panels, one per outside series: Pearson's r of each index with it.

    Lag 0 is a filled dot, lag 1 (the series a year before the index) a hollow one; the
    whiskers are the bootstrap intervals. Each panel says how many years it rests on.
    """
    covariates = list(dict.fromkeys(table["covariate"]))
    indices = list(dict.fromkeys(table["index"]))
    figure, axes = plt.subplots(
        1,
        len(covariates),
        figsize=(min(12.0, 2.6 * len(covariates) + 2.2), 0.32 * len(indices) + 1.4),
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    y_of = {name: i for i, name in enumerate(indices)}
    for axis, covariate in zip(axes[0], covariates):
        part = table[table["covariate"] == covariate]
        for lag, offset, face in ((0, -0.15, "#1f77b4"), (1, 0.15, "white")):
            rows = part[part["lag"] == lag]
            y = np.array([y_of[name] for name in rows["index"]], float) + offset
            r = rows["pearson"].to_numpy(float)
            spread = np.vstack([r - rows["pearson_low"], rows["pearson_high"] - r])
            axis.errorbar(
                r,
                y,
                xerr=np.abs(spread),
                fmt="o",
                markersize=4,
                color="#1f77b4",
                markerfacecolor=face,
                elinewidth=1,
                capsize=0,
                label=f"lag {lag}",
            )
        years = part["n_years"].max() if len(part) else 0
        axis.set_title(f"{covariate}\n({years} years)", fontsize=8)
        axis.axvline(0, color="#888", linewidth=0.8)
        axis.set_xlim(-1.05, 1.05)
        axis.grid(alpha=0.3, axis="x")
        axis.tick_params(labelsize=7)
    axes[0][0].set_yticks(range(len(indices)), indices, fontsize=8)
    axes[0][0].invert_yaxis()
    axes[0][-1].legend(fontsize=7, frameon=False, loc="lower right")
    figure.suptitle(title, fontsize=10)
    figure.supxlabel("Pearson's r with 95% bootstrap interval", fontsize=8)
    return figure


def heatmap(table: pd.DataFrame, title: str) -> plt.Figure:
    """Rows x periods heat map of a share (0-1)."""
    figure, axis = plt.subplots(figsize=(9, 0.35 * len(table) + 1.4))
    image = axis.imshow(
        table.to_numpy(float),
        aspect="auto",
        cmap="viridis",
        vmin=0,
        vmax=max(0.05, float(np.nanmax(table.to_numpy(float))) if table.size else 1.0),
    )
    axis.set_yticks(range(len(table.index)), list(table.index), fontsize=8)
    axis.set_xticks(
        range(len(table.columns)), [str(c) for c in table.columns], fontsize=7, rotation=90
    )
    axis.set_title(title)
    figure.colorbar(image, ax=axis, fraction=0.03)
    return figure
