"""What a review sheet shows: the segments to choose from, and each chosen one as a row.

:func:`candidates` lists every current segment with its machine codes and how sure the coder
was; :func:`sheet_rows` gives the chosen ones with their context from the canonical text and the
evidence the rules found.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.codebook.model import Codebook
from pipeline.core import DEFAULT_SEGMENTER
from pipeline.core.records import MachineTag
from pipeline.errors import DshiftError
from pipeline.review.select import Candidate
from pipeline.review.sheet_model import SheetRow
from pipeline.store import Store

CONTEXT = 160  # characters of context shown before and after a segment


def _require_coded(store: Store, codebook: Codebook) -> None:
    coder = store.active_coder()
    if codebook.version not in store.coded_versions(coder):
        raise DshiftError(
            f"nothing is coded by {coder} under the current codebook ({codebook.version})",
            "run 'dshift code' first",
            code="not-ready",
        )


def candidates(
    store: Store, codebook: Codebook, model_folder: Path | None = None
) -> list[Candidate]:
    """Every segment of the current documents with its machine codes and how sure the coder
    is: the learned model's certainty (distance of its probabilities from 0.5) when a model for
    this codebook exists in ``model_folder``, else the rule confidence."""
    _require_coded(store, codebook)
    tags = store.machine_tags(store.active_coder(), codebook.version)
    certainty = _model_certainty(store, codebook, model_folder) if model_folder else {}
    out = []
    for segment in store.frame_segments(DEFAULT_SEGMENTER):
        segment_id, year, source_type = segment.segment_id, segment.year, segment.source_type
        found = tags.get(segment_id, [])
        codes = tuple(sorted({c for c, _, _ in found} | {t for _, t, _ in found}))
        tops = tuple(sorted({t for _, t, _ in found}))
        sure = certainty.get(segment_id, max((c for _, _, c in found), default=0.0))
        out.append(Candidate(segment_id, year, source_type, codes, tops, sure))
    return out


def _model_certainty(store: Store, codebook: Codebook, folder: Path) -> dict[str, float]:
    import numpy as np

    from pipeline.learning.store_io import load_model

    try:
        model, _ = load_model(folder, codebook)
    except DshiftError:
        return {}
    ids, texts = [], []
    documents: dict[int, str] = {}
    for segment_id, doc_id, start, end, _ in store.segment_rows(DEFAULT_SEGMENTER):
        if doc_id not in documents:
            documents[doc_id] = store.document_text(doc_id)
        ids.append(segment_id)
        texts.append(documents[doc_id][start:end])
    if not texts:
        return {}
    probabilities = model.predict_proba(texts)
    distance = np.min([np.abs(p - 0.5) * 2 for p in probabilities.values()], axis=0)
    return dict(zip(ids, distance.tolist()))


def sheet_rows(
    store: Store, segment_ids: list[str], tags: dict[str, list[MachineTag]]
) -> list[SheetRow]:
    """The rows of a sheet, with context from the canonical text."""
    wanted = set(segment_ids)
    found: dict[str, SheetRow] = {}
    texts: dict[int, str] = {}
    documents = {d.id: d for d in store.current_documents()}
    evidence = (
        {
            r["segment_id"]: r
            for r in store.coded_segment_rows(store.active_coder(), _version(store))
            if r["segment_id"] in wanted
        }
        if wanted
        else {}
    )
    for segment_id, doc_id, start, end, _ in store.segment_rows(DEFAULT_SEGMENTER):
        if segment_id not in wanted:
            continue
        if doc_id not in texts:
            texts[doc_id] = store.document_text(doc_id)
        text = texts[doc_id]
        document = documents[doc_id]
        codes = sorted({c for c, _, _ in tags.get(segment_id, [])})
        row = evidence.get(segment_id)
        found[segment_id] = SheetRow(
            segment_id,
            document.title or document.name,
            document.source_type,
            document.date or "",
            _context_before(text, start),
            text[start:end],
            _context_after(text, end),
            codes,
            _evidence_text(row),
        )
    return [found[s] for s in segment_ids if s in found]


def _version(store: Store) -> str:
    versions = store.coded_versions(store.active_coder())
    return versions[-1] if versions else ""


def _evidence_text(row: dict[str, object] | None) -> str:
    if row is None:
        return ""
    items = json.loads(str(row["evidence"]))
    return "; ".join(f"{e['pattern']}: {e['text']}" for e in items)


def _context_before(text: str, start: int) -> str:
    begin = max(text.rfind("\n\n", 0, start) + 2, start - CONTEXT, 0)
    return ("…" if begin > 0 and text[begin - 1] != "\n" else "") + text[begin:start].strip()


def _context_after(text: str, end: int) -> str:
    stop = text.find("\n\n", end)
    stop = len(text) if stop < 0 else stop
    limit = min(stop, end + CONTEXT)
    return text[end:limit].strip() + ("…" if limit < stop else "")
