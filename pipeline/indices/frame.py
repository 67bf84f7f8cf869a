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

import numpy as np
import pandas as pd

from pipeline.core.records import FramePartner, FrameSegment, FrameTag

CODE_PREFIX = "code__"
PARTNER_PREFIX = "partner__"
DOCUMENT_ORDER = "document_order"  # a document's rank by its SHA-256 (see assemble_frame)
BASE_COLUMNS = ("segment_id", "document_id", "date", "year", "source_type", "n_words", "decided_by")


def assemble_frame(
    segments: list[FrameSegment],
    tags: list[FrameTag],
    partners: list[FramePartner],
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
    frame = pd.DataFrame(segments, columns=[*BASE_COLUMNS[:-1], "document_sha256"])
    frame["year"] = frame["year"].astype("Int64")
    frame["n_words"] = frame["n_words"].astype("int64")
    frame["document_id"] = frame["document_id"].astype("int64")
    # Documents in the order of their bytes' hash, not of their ids: ids follow the order in
    # which files were read (parallel workers, drops ingested in any order, a store copied),
    # and the bootstrap draws documents by position, so its intervals must not depend on it.
    identity = frame.pop("document_sha256").astype(str)
    identity = identity.where(identity != "", frame["document_id"].map("~{:020d}".format))
    frame[DOCUMENT_ORDER] = pd.factorize(identity, sort=True)[0].astype("int64")
    decided = decided or {}
    frame["decided_by"] = "machine"
    ids = pd.Index(frame["segment_id"])
    if decided:
        frame.loc[ids.isin(list(decided)), "decided_by"] = "human"
    code_matrix = np.zeros((len(frame), len(codes)), dtype=bool)
    code_index = pd.Index(codes)
    if tags:
        tag_frame = pd.DataFrame(tags, columns=["segment_id", "code", "top"])
        if decided:
            tag_frame = tag_frame[~tag_frame["segment_id"].isin(list(decided))]
        rows = ids.get_indexer(tag_frame["segment_id"])
        for column in ("code", "top"):
            positions = code_index.get_indexer(tag_frame[column])
            keep = (rows >= 0) & (positions >= 0)
            code_matrix[rows[keep], positions[keep]] = True
    for segment_id, final in decided.items():
        row = ids.get_indexer([segment_id])[0]
        if row >= 0:
            for position in code_index.get_indexer(sorted(final)):
                if position >= 0:
                    code_matrix[row, position] = True
    partner_matrix = np.zeros((len(frame), len(partner_ids)), dtype=bool)
    if partners:
        pairs = pd.DataFrame(partners, columns=["segment_id", "partner"])
        rows = ids.get_indexer(pairs["segment_id"])
        positions = pd.Index(partner_ids).get_indexer(pairs["partner"])
        keep = (rows >= 0) & (positions >= 0)
        partner_matrix[rows[keep], positions[keep]] = True
    extra = pd.DataFrame(
        np.hstack([code_matrix, partner_matrix]),
        columns=[f"{CODE_PREFIX}{c}" for c in codes]
        + [f"{PARTNER_PREFIX}{p}" for p in partner_ids],
        index=frame.index,
    )
    return pd.concat([frame, extra], axis=1)
