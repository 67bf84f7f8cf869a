"""Importing a filled-in review sheet: check it against the store's record, then record it.

What the sheet showed, to whom and as what role come from the store's record of its export,
never from the file; a file imported before is not imported again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipeline.archives import SHEET_LIMITS, check_zip
from pipeline.codebook.model import Codebook
from pipeline.review.import_record import ImportResult, current_hashes, record_decisions
from pipeline.review.legacy_import import import_legacy
from pipeline.review.sheet_check import check_sheet
from pipeline.review.sheet_model import About, Track
from pipeline.review.sheet_read import open_sheet
from pipeline.store import Store
from pipeline.store.review import ReviewExport


def _about_of(store: Store, export: ReviewExport) -> About:
    return About(
        store.workspace_id(),
        export.coder,
        export.role,
        export.id,
        export.codebook_version,
        export.blind,
        kind=export.kind,
        tracks=tuple(Track(t, tuple(codes)) for t, codes in export.tracks.items()),
    )


def import_sheet(
    store: Store,
    codebook: Codebook,
    path: Path,
    *,
    skip_bad: bool,
    rejects_folder: Path,
    dry_run: bool = False,
) -> ImportResult:
    """Check a filled-in sheet; apply its decisions if all rows are valid (or with skip_bad).

    What the sheet showed, to whom and as what role come from the store's record of its
    export, never from the file. Rows already recorded unchanged from the same export are not
    recorded again, so a re-saved sheet adds only the answers that changed.
    """
    data = path.read_bytes()
    check_zip(data, str(path), SHEET_LIMITS)
    sha = hashlib.sha256(data).hexdigest()
    result = ImportResult(path, dry_run=dry_run)
    earlier = store.review_file(sha)
    if earlier is not None:
        result.already_imported = f"{earlier.path} (coder {earlier.coder}, {earlier.imported_at})"
        return result
    raw = open_sheet(data)
    export = store.review_export(raw.export_id) if raw.export_id else None
    if export is not None and export.signature is None:
        return import_legacy(
            store, codebook, path, raw, export, result, skip_bad, sha, rejects_folder
        )
    about = _about_of(store, export) if export is not None else None
    segments = current_hashes(store)
    shown = {r.segment_id: (r.text_sha, r.machine_codes) for r in export.rows} if export else {}
    parsed = check_sheet(raw, about, store.sheet_key(), shown, segments, store.workspace_id())
    result.problems = parsed.problems
    fatal = [p for p in parsed.problems if p.sheet != "review" or not p.row]
    if parsed.about is None or fatal or (parsed.problems and not skip_bad):
        return result
    return record_decisions(store, codebook, path, parsed, result, skip_bad, sha, rejects_folder)
