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
    """Write ``name``.png and ``name``.svg; return the PNG as a data URI for the HTML."""
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    (folder / f"{name}.png").write_bytes(buffer.getvalue())
    figure.savefig(
        folder / f"{name}.svg",
        format="svg",
        bbox_inches="tight",
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
) -> plt.Figure:
    """Lines with interval bands; each frame has period, value, low, high, low_documents."""
    figure, axis = plt.subplots(figsize=(9, 3.4))
    for i, (name, frame) in enumerate(series.items()):
        frame = frame.sort_values("period")
        x = _years(frame["period"])
        colour = COLOURS.get(name, _PALETTE[i % len(_PALETTE)])
        axis.plot(x, frame["value"], marker="o", markersize=3, color=colour, label=name)
        axis.fill_between(x, frame["low"], frame["high"], color=colour, alpha=0.15, linewidth=0)
        thin = frame["low_documents"].to_numpy(bool)
        if thin.any():
            axis.scatter(
                x[thin], frame["value"][thin], facecolors="white", edgecolors=colour, zorder=3, s=28
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
