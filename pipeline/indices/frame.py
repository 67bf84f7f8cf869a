"""The segment frame: the one input every index function takes.

One row per segment of a current document (superseded versions are left out):

========================  ==========================================================
column                    meaning
========================  ==========================================================
segment_id                str, stable segment id
document_id               int
date                      str or None: ISO date, or YYYY-MM / YYYY when that is all we know
year                      Int64 (nullable): NA for undated documents
source_type               str: mofa, ispr, treaty, speech, other
n_words                   int: words in the segment
decided_by                str: "machine" (machine tags only) or "human" (a coder's decision)
code__<id>                bool, for every code id of the codebook (top-level and subcodes),
                          e.g. ``code__alignment``, ``code__alignment.aid``; a subcode's
                          segment also has its top-level code set
partner__<id>             bool, for every partner id, e.g. ``partner__china``
========================  ==========================================================
"""

from __future__ import annotations

import pandas as pd

CODE_PREFIX = "code__"
PARTNER_PREFIX = "partner__"
BASE_COLUMNS = ("segment_id", "document_id", "date", "year", "source_type", "n_words", "decided_by")


def assemble_frame(
    segments: list[tuple[str, int, str | None, int | None, str, int]],
    tags: list[tuple[str, str, str]],
    partners: list[tuple[str, str]],
    codes: list[str],
    partner_ids: list[str],
    decided: dict[str, set[str]] | None = None,
) -> pd.DataFrame:
    """Build the segment frame from store rows (pure).

    Args:
        segments: (segment id, document id, date, year, source type, words).
        tags: (segment id, code, top-level code) of the machine tags.
        partners: (segment id, partner id).
        codes: every code id of the codebook, so that absent codes still get a column.
        partner_ids: every partner id of the codebook.
        decided: final codes of segments a human has decided, replacing their machine tags
            (segment id -> code ids, parents included). None until the review stage exists.
    """
    frame = pd.DataFrame(segments, columns=list(BASE_COLUMNS[:-1]))
    frame["year"] = frame["year"].astype("Int64")
    frame["n_words"] = frame["n_words"].astype("int64")
    frame["document_id"] = frame["document_id"].astype("int64")
    decided = decided or {}
    frame["decided_by"] = ["human" if s in decided else "machine" for s in frame["segment_id"]]
    index = {sid: i for i, sid in enumerate(frame["segment_id"])}
    code_set = set(codes)
    columns: dict[str, list[bool]] = {c: [False] * len(frame) for c in codes}
    for segment_id, code, top in tags:
        row = index.get(segment_id)
        if row is None or segment_id in decided:
            continue
        for c in (code, top):
            if c in code_set:
                columns[c][row] = True
    for segment_id, final in decided.items():
        row = index.get(segment_id)
        if row is not None:
            for c in final & code_set:
                columns[c][row] = True
    partner_columns: dict[str, list[bool]] = {p: [False] * len(frame) for p in partner_ids}
    for segment_id, partner in partners:
        row = index.get(segment_id)
        if row is not None and partner in partner_columns:
            partner_columns[partner][row] = True
    extra = {f"{CODE_PREFIX}{c}": v for c, v in columns.items()}
    extra.update({f"{PARTNER_PREFIX}{p}": v for p, v in partner_columns.items()})
    return pd.concat([frame, pd.DataFrame(extra, dtype=bool)], axis=1)
