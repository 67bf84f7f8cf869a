"""The export tables built from the index results and the coded segments (pure)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from pipeline.codebook.model import Codebook
from pipeline.core.codes import TOP_CODES
from pipeline.core.decisions import FinalDecision
from pipeline.indices.frame import CODE_PREFIX

__all__ = ["TOP_CODES", "document_code_matrix", "segments_table", "wide_table"]


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
    rows: list[dict[str, Any]],
    codebook: Codebook,
    decided: Mapping[str, FinalDecision] | None = None,
    decided_rows: list[dict[str, Any]] | None = None,
    partners: Mapping[str, list[str]] | None = None,
) -> pd.DataFrame:
    """One row per segment and final code, with document attributes, evidence and who decided.

    Segments nobody decided keep the machine's tags (``decided_by`` machine). A segment a human
    decided gets one row per final code instead (the most specific codes; parents are implied
    by ``code_path``), with the machine's evidence where the machine gave that code too, and one
    row with an empty code when the humans gave it none, so every decided segment is listed.

    Args:
        rows: machine tags from the store, ``partners`` and ``evidence`` as stored JSON text.
        codebook: the codebook the tags were made under.
        decided: final decisions of human-decided segments.
        decided_rows: document attributes, offsets and text of the decided segments.
        partners: the partners each decided segment speaks about.
    """
    decided = decided or {}
    partners = partners or {}
    records = [dict(r, decided_by="machine", decision="") for r in rows]
    if decided:
        records = [r for r in records if r["segment_id"] not in decided]
        tags: dict[str, dict[str, dict[str, Any]]] = {}
        for r in rows:
            tags.setdefault(r["segment_id"], {})[r["code"]] = r
        for base in decided_rows or []:
            final = decided.get(base["segment_id"])
            if final is not None:
                records.extend(_decided_records(base, final, tags, codebook, partners))
    if not records:
        return pd.DataFrame(columns=SEGMENT_COLUMNS)
    table = pd.DataFrame.from_records(records)
    paths = {code: _code_path(codebook, code) if code else "" for code in table["code"].unique()}
    found = {raw: ";".join(json.loads(raw)) for raw in table["partners"].unique()}
    table["title"] = table["title"].fillna("")
    table["date"] = table["date"].fillna("")
    table["year"] = table["year"].astype("Int64")
    table["confidence"] = table["confidence"].astype("float64")
    table["code_path"] = table["code"].map(paths)
    table["partners"] = table["partners"].map(found)
    table["evidence"] = [
        "; ".join(f"{e['pattern']}: {e['text']}" for e in json.loads(raw))
        for raw in table["evidence"]
    ]
    if decided:
        table = table.sort_values(["document_id", "start", "code"], kind="stable")
    return table[list(SEGMENT_COLUMNS)].reset_index(drop=True)


def _decided_records(
    base: dict[str, Any],
    final: FinalDecision,
    tags: dict[str, dict[str, dict[str, Any]]],
    codebook: Codebook,
    partners: Mapping[str, list[str]],
) -> list[dict[str, Any]]:
    segment_id = base["segment_id"]
    machine = tags.get(segment_id, {})
    parents = {codebook.codes[c].parent for c in final.codes if c in codebook.codes}
    codes = sorted(c for c in final.codes if c not in parents) or [""]
    out = []
    for code in codes:
        tag = machine.get(code)
        root = _code_path(codebook, code).split("/")[0] if code else ""
        out.append(
            {
                **base,
                "code": code,
                "top_code": root,
                "partners": tag["partners"] if tag else json.dumps(partners.get(segment_id, [])),
                "evidence": tag["evidence"] if tag else "[]",
                "confidence": tag["confidence"] if tag else None,
                "coder": ";".join(final.coders),
                "codebook_version": codebook.version,
                "decided_by": final.decided_by,
                "decision": final.action,
            }
        )
    return out


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
    "decision",
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
