"""The adjudication queue: a sheet of the segments coders still disagree on, for one adjudicator.

Each row shows, side by side, how every coder coded the segment; an adjudicator's decisions on it
settle the segment and leave it out of the next queue.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pipeline.codebook.model import Codebook
from pipeline.codebook.versions import read_decisions
from pipeline.core.agreement import disagreements
from pipeline.core.decisions import judgements
from pipeline.errors import DshiftError
from pipeline.review.sheet_export import issue_sheet, new_export_id
from pipeline.review.sheet_model import About, describe, tracks_of
from pipeline.review.sheet_rows import sheet_rows
from pipeline.store import Store


def adjudication_sheet(store: Store, codebook: Codebook, folder: Path, coder: str) -> Path | None:
    """Write a sheet of the segments coders still disagree on, for ``coder`` to settle.

    Each row shows, side by side, how every coder and the machine coded the segment. Segments
    an adjudicator has settled are left out; every call writes a new file (None: nothing to do).
    """
    if not coder.strip():
        raise DshiftError("an adjudicator's name is needed", "give --coder NAME", code="usage")
    events = read_decisions(store, codebook)
    segments = disagreements(events, codebook)
    if not segments:
        return None
    tracks = tuple(tracks_of(codebook))
    views = judgements(events, codebook)
    coders = sorted({c for s in segments for c, v in views.get(s, {}).items() if v.role == "coder"})
    rows = []
    for row in sheet_rows(
        store, segments, store.machine_tags(store.active_coder(), codebook.version)
    ):
        by = views.get(row.segment_id, {})
        coded = tuple(
            (c, describe(by[c].codes, tracks, by[c].verdicts) if c in by else "") for c in coders
        )
        rows.append(replace(row, coded_by=coded))
    folder.mkdir(parents=True, exist_ok=True)
    export_id, path = new_export_id(store, folder, "adjudicate", coder)
    about = About(
        store.workspace_id(),
        coder,
        "adjudicator",
        export_id,
        codebook.version,
        False,
        kind="adjudicate",
        tracks=tracks,
        coders=tuple(coders),
    )
    issue_sheet(store, codebook, path, rows, about, "disagreements")
    return path
