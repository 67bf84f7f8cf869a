"""The corpus tables: every document with its canonical text, and every segment with its offsets
and final codes, so that R (``quanteda::corpus()``) and pandas rebuild the corpus (pure).

Both tables have ``doc_id`` and ``text`` columns, the names ``quanteda::corpus()`` looks for, so
``corpus(read.csv("corpus_documents.csv"))`` is a corpus whose docvars are the other columns.
Offsets are code points into the document's text: ``text[start:end]`` in Python, ``substr(text,
start + 1, end)`` in R, give the segment's text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pipeline.codebook.model import Codebook
from pipeline.indices.frame import CODE_PREFIX

DOCUMENT_COLUMNS = (
    "doc_id",
    "file_name",
    "file_names",
    "title",
    "source_type",
    "issuer",
    "date",
    "year",
    "language",
    "kind",
    "n_pages",
    "n_chars",
    "extractor",
    "sha256",
    "text",
)
SEGMENT_COLUMNS = ("doc_id", "segment_id", "seq", "start", "end", "n_words", "decided_by")
TRACK_PREFIX = "codes_"


def corpus_tables(
    documents: Sequence[Mapping[str, Any]],
    segments: Sequence[Mapping[str, Any]],
    frame: pd.DataFrame,
    codebook: Codebook,
) -> dict[str, pd.DataFrame]:
    """Return ``corpus_documents`` and ``corpus_segments``.

    Args:
        documents: rows of ``Store.corpus_documents`` (current documents, with text).
        segments: rows of ``Store.corpus_segments`` (their segments, with offsets and text).
        frame: the segment frame, whose code columns are the final codes (a human decision,
            else the active machine coder's tags).
        codebook: the codebook the codes belong to; each top-level code is a track.
    """
    return {
        "corpus_documents": documents_table(documents),
        "corpus_segments": segments_table(segments, frame, codebook),
    }


def documents_table(documents: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per document: ``doc_id``, file names, metadata, hashes and ``text``."""
    rows = [
        {
            **{key: row.get(key) for key in DOCUMENT_COLUMNS if key in row},
            "doc_id": row["id"],
            "file_name": row["name"],
            "file_names": ";".join(row.get("file_names") or []),
        }
        for row in documents
    ]
    table = pd.DataFrame(rows, columns=list(DOCUMENT_COLUMNS))
    for column in ("title", "issuer", "date", "language", "file_names"):
        table[column] = table[column].fillna("").astype(object)
    for column in ("doc_id", "n_pages", "n_chars"):
        table[column] = table[column].astype("int64")
    table["year"] = table["year"].astype("Int64")
    return table


def segments_table(
    segments: Sequence[Mapping[str, Any]], frame: pd.DataFrame, codebook: Codebook
) -> pd.DataFrame:
    """One row per segment: offsets, text, who decided, and the final codes of each track (the
    most specific ones, ``;``-separated; a parent is implied by its subcode)."""
    tracks = [code for code, spec in codebook.codes.items() if spec.parent is None]
    table = pd.DataFrame(
        [
            {
                "doc_id": row["document_id"],
                **{key: row[key] for key in SEGMENT_COLUMNS[1:-2]},
                "n_words": row["n_words"],
                "text": row["text"],
            }
            for row in segments
        ],
        columns=[*SEGMENT_COLUMNS[:-1], "text"],
    )
    for column in ("doc_id", "seq", "start", "end", "n_words"):
        table[column] = table[column].astype("int64")
    table["text"] = table["text"].astype(object)
    final = _final_codes(frame, codebook, tracks)
    table.insert(len(SEGMENT_COLUMNS) - 1, "decided_by", "")
    if not table.empty and not frame.empty:
        known = frame.set_index("segment_id")
        table["decided_by"] = table["segment_id"].map(known["decided_by"]).fillna("")
        for track in tracks:
            table[TRACK_PREFIX + track] = table["segment_id"].map(final[track]).fillna("")
    for track in tracks:
        if TRACK_PREFIX + track not in table:
            table[TRACK_PREFIX + track] = ""
        table[TRACK_PREFIX + track] = table[TRACK_PREFIX + track].astype(object)
    table["decided_by"] = table["decided_by"].astype(object)
    return table


def _final_codes(frame: pd.DataFrame, codebook: Codebook, tracks: list[str]) -> pd.DataFrame:
    """Per segment id and track, its most specific final codes joined by ``;``."""
    codes = [c for c in codebook.codes if f"{CODE_PREFIX}{c}" in frame.columns]
    if frame.empty or not codes:
        return pd.DataFrame(index=pd.Index([], name="segment_id"), columns=tracks)
    marks = frame[[f"{CODE_PREFIX}{c}" for c in codes]].to_numpy(dtype=bool)
    # A code is shown unless one of its subcodes is set too (the subcode implies it).
    specific = marks.copy()
    position = {code: i for i, code in enumerate(codes)}
    for code in codes:
        parent = codebook.codes[code].parent
        if parent in position:
            specific[:, position[parent]] &= ~marks[:, position[code]]
    track_of = [_root(codebook, code) for code in codes]
    columns = {}
    for track in tracks:
        chosen = [i for i, root in enumerate(track_of) if root == track]
        names = np.array([codes[i] for i in chosen], dtype=object)
        columns[track] = [";".join(names[row]) for row in specific[:, chosen]]
    return pd.DataFrame(columns, index=pd.Index(frame["segment_id"], name="segment_id"))


def _root(codebook: Codebook, code: str) -> str:
    while (parent := codebook.codes[code].parent) is not None and parent in codebook.codes:
        code = parent
    return code
