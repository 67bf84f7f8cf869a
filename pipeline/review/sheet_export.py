"""Exporting review sheets: choose segments per coder, then sign, record and write each sheet.

Every sheet gets a fresh export id; what it shows (segment, text hash, machine codes) is recorded
in the store before the file is written, so that an import checks the sheet against the store.
"""

from __future__ import annotations

import csv
import secrets
from dataclasses import replace
from pathlib import Path

from pipeline.codebook.model import Codebook
from pipeline.codebook.versions import read_decisions
from pipeline.core import DEFAULT_SEED
from pipeline.core.cells import neutralise
from pipeline.core.decisions import judgements
from pipeline.errors import DshiftError
from pipeline.review.select import select
from pipeline.review.sheet_model import About, SheetRow, columns_of, describe, text_hash, tracks_of
from pipeline.review.sheet_rows import candidates, sheet_rows
from pipeline.review.sheet_signing import sign
from pipeline.review.sheet_write import build_sheet
from pipeline.store import Store
from pipeline.store.review import ShownRow


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)


def new_export_id(store: Store, folder: Path, prefix: str, coder: str) -> tuple[str, Path]:
    """A fresh export id and the sheet's path; never an existing file or export."""
    while True:
        export_id = secrets.token_hex(4)
        path = folder / f"{prefix}-{_safe(coder)}-{export_id}.xlsx"
        if not path.exists() and store.review_export(export_id) is None:
            return export_id, path


def issue_sheet(
    store: Store,
    codebook: Codebook,
    path: Path,
    rows: list[SheetRow],
    about: About,
    strategy: str,
) -> None:
    """Sign a sheet, record what it shows in the store, then write it."""
    shown = [
        ShownRow(r.segment_id, text_hash(r.text), [] if about.blind else r.machine_codes)
        for r in rows
    ]
    signed = replace(
        about,
        signature=sign(
            store.sheet_key(), about, [(r.segment_id, r.text_sha, r.machine_codes) for r in shown]
        ),
    )
    data = build_sheet(rows, signed, codebook)
    store.record_review_export(
        about.export_id,
        about.coder,
        str(path),
        strategy,
        about.blind,
        [r.segment_id for r in rows],
        kind=about.kind,
        role=about.role,
        codebook_version=about.codebook_version,
        scope=[c for t in about.tracks for c in t.codes],
        signature=signed.signature,
        shown=shown,
        tracks={t.id: list(t.codes) for t in about.tracks},
    )
    path.write_bytes(data)


def export_sheets(
    store: Store,
    codebook: Codebook,
    folder: Path,
    *,
    coders: list[str],
    size: int,
    strategy: str,
    code: str | None = None,
    year: int | None = None,
    blind: bool = False,
    overlap: float = 0.0,
    seed: int = DEFAULT_SEED,
    role: str = "coder",
    with_csv: bool = False,
    model_folder: Path | None = None,
) -> list[Path]:
    """Write one sheet per coder; with several coders, ``overlap`` of the rows go to all.

    A sheet made with ``code`` asks only about that code's track. Segments a coder has already
    judged on every code the sheet asks about are not sent to them again.
    """
    if not coders or any(not c.strip() for c in coders):
        raise DshiftError(
            "a coder name is needed", "give --coder NAME (or --coders A,B)", code="usage"
        )
    if code is not None and code not in codebook.codes:
        raise DshiftError(f"unknown code '{code}'", "see 'dshift codebook show'", code="usage")
    tracks = tuple(tracks_of(codebook, code))
    scope = {c for t in tracks for c in t.codes}
    pool = candidates(store, codebook, model_folder if strategy == "uncertain" else None)
    tags = store.machine_tags(store.active_coder(), codebook.version)
    done = {
        segment
        for segment, by_coder in judgements(read_decisions(store, codebook), codebook).items()
        if any(c in by_coder and scope <= set(by_coder[c].verdicts) for c in coders)
    }
    shared_count = round(overlap * size) if len(coders) > 1 else size
    shared = select(
        pool, strategy=strategy, size=shared_count, seed=seed, code=code, year=year, exclude=done
    )
    taken = set(shared)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, coder in enumerate(coders):
        own = (
            []
            if len(coders) == 1
            else select(
                pool,
                strategy=strategy,
                size=size - len(shared),
                seed=seed + number + 1,
                code=code,
                year=year,
                exclude=done | taken,
            )
        )
        taken.update(own)
        chosen = shared + own
        if not chosen:
            raise DshiftError(
                "no segment to review with these options",
                "widen --code/--year, or this coder has decided them all",
                code="not-found",
            )
        export_id, path = new_export_id(store, folder, "review", coder)
        about = About(
            store.workspace_id(),
            coder,
            role,
            export_id,
            codebook.version,
            blind,
            tracks=tracks,
        )
        rows = sheet_rows(store, chosen, tags)
        issue_sheet(store, codebook, path, rows, about, strategy)
        if with_csv:
            _write_csv(path.with_suffix(".csv"), rows, about)
        paths.append(path)
    return paths


def _write_csv(path: Path, rows: list[SheetRow], about: About) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        columns = columns_of(about)
        writer.writerow(columns)
        for r in rows:
            values = {
                "segment_id": r.segment_id,
                "document": r.document,
                "date": r.date,
                "before": r.before,
                "segment": r.text,
                "after": r.after,
                "machine codes": describe(r.machine_codes, about.tracks, None),
                "evidence": r.evidence,
                "text_sha1": text_hash(r.text),
                **{t.id: "" if about.blind else t.cell_text(r.machine_codes) for t in about.tracks},
            }
            writer.writerow([neutralise(values.get(c, "")) for c in columns])
