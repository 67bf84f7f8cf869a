"""The export tables built from the index results and the coded segments (pure)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from pipeline.codebook.model import Codebook
from pipeline.indices.frame import CODE_PREFIX

TOP_CODES = ("alignment", "securitization", "hedging")


def wide_table(tidy: pd.DataFrame, composites: pd.DataFrame) -> pd.DataFrame:
    """One row per period: overall counts, each top code's shares and the composite indices."""
    overall = tidy[(tidy["breakdown"] == "overall") & (tidy["code"].isin(TOP_CODES))]
    if overall.empty:
        return pd.DataFrame(columns=["period", "documents", "segments", "words"])
    base = (
        overall.groupby("period", sort=True)[["documents", "segments", "words"]]
        .first()
        .reset_index()
    )
    for code in TOP_CODES:
        part = overall[overall["code"] == code].set_index("period")
        for column in (
            "doc_share",
            "doc_share_low",
            "doc_share_high",
            "share",
            "rate_per_1000_words",
        ):
            base[f"{code}_{column}"] = base["period"].map(part[column])
    for name, part in composites.groupby("index", sort=True):
        part = part.set_index("period")
        for column in ("value", "low", "high"):
            base[f"{name}_{column}"] = base["period"].map(part[column])
    return base


def segments_table(
    rows: list[dict[str, Any]], codebook: Codebook, decided_by: dict[str, str] | None = None
) -> pd.DataFrame:
    """One row per coded segment and code, with document attributes and evidence.

    ``rows`` come from the store with ``partners`` and ``evidence`` as stored JSON text.
    """
    if not rows:
        return pd.DataFrame(columns=SEGMENT_COLUMNS)
    table = pd.DataFrame.from_records(rows)
    paths = {code: _code_path(codebook, code) for code in table["code"].unique()}
    partners = {raw: ";".join(json.loads(raw)) for raw in table["partners"].unique()}
    table["title"] = table["title"].fillna("")
    table["date"] = table["date"].fillna("")
    table["year"] = table["year"].astype("Int64")
    table["code_path"] = table["code"].map(paths)
    table["partners"] = table["partners"].map(partners)
    table["evidence"] = [
        "; ".join(f"{e['pattern']}: {e['text']}" for e in json.loads(raw))
        for raw in table["evidence"]
    ]
    decided_by = decided_by or {}
    table["decided_by"] = (
        [decided_by.get(s, "machine") for s in table["segment_id"]] if decided_by else "machine"
    )
    return table[list(SEGMENT_COLUMNS)]


SEGMENT_COLUMNS = (
    "segment_id",
    "document_id",
    "title",
    "source_type",
    "date",
    "year",
    "code",
    "top_code",
    "code_path",
    "partners",
    "evidence",
    "confidence",
    "decided_by",
    "coder",
    "codebook_version",
    "start",
    "end",
    "text",
)


def _code_path(codebook: Codebook, code_id: str) -> str:
    path = [code_id]
    code = codebook.codes.get(code_id)
    while code is not None and code.parent is not None:
        path.insert(0, code.parent)
        code = codebook.codes.get(code.parent)
    return "/".join(path)


def document_code_matrix(
    frame: pd.DataFrame, codes: list[str], documents: pd.DataFrame
) -> pd.DataFrame:
    """One row per document: its attributes, then per code 0/1 (any segment) and a count."""
    grouped = frame.groupby("document_id")
    matrix = grouped.agg(segments=("segment_id", "count"), words=("n_words", "sum"))
    for code in codes:
        counts = grouped[f"{CODE_PREFIX}{code}"].sum().astype("int64")
        matrix[f"{code}_any"] = (counts > 0).astype("int64")
        matrix[f"{code}_n"] = counts
    matrix = documents.merge(matrix.reset_index(), on="document_id", how="inner")
    return matrix.sort_values("document_id").reset_index(drop=True)
