"""Importing a review sheet made before sheets were signed (so that old sheets still count).

Its coder and blindness come from the store's record of the export, its role is always coder,
and 'accept' means the machine's codes under the codebook version the sheet names.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.codebook.model import Codebook
from pipeline.coding.rules import CODER as LEGACY_CODER  # what sheets before signing showed
from pipeline.review.import_record import ImportResult, current_hashes, record_decisions
from pipeline.review.sheet_legacy import check_legacy_sheet
from pipeline.review.sheet_model import About, RawSheet, SheetProblem
from pipeline.store import Store
from pipeline.store.review import ReviewExport


def import_legacy(
    store: Store,
    codebook: Codebook,
    path: Path,
    raw: RawSheet,
    export: ReviewExport,
    result: ImportResult,
    skip_bad: bool,
    sha: str,
    rejects_folder: Path,
) -> ImportResult:
    """Import a sheet made before sheets were signed: its coder and blindness come from the
    store's record of the export, its role is always coder, and 'accept' means the machine's
    codes under the codebook version the sheet names (the tags of every version are kept)."""
    row, version = raw.about.get("codebook_version", (5, ""))
    problems = list(raw.problems)
    if raw.about.get("workspace_id", (1, ""))[1] != store.workspace_id():
        problems.append(
            SheetProblem(
                "about", 1, "B", "the sheet comes from another workspace", "import it there"
            )
        )
    elif version not in store.coded_versions(LEGACY_CODER):
        problems.append(
            SheetProblem(
                "about",
                row,
                "B",
                f"codebook version '{version}' was never coded in this workspace",
                "undo the edit to the hidden 'about' sheet",
            )
        )
    if problems and any(p.sheet != "review" for p in problems):
        result.problems = problems
        return result
    about = About(
        store.workspace_id(), export.coder, "coder", export.id, version, export.blind, "legacy"
    )
    tags = store.machine_tags(LEGACY_CODER, version)
    shown = {
        s: [] if export.blind else sorted({c for c, _, _ in tags.get(s, [])})
        for s in export.segment_ids
    }
    parsed = check_legacy_sheet(raw, about, shown, current_hashes(store), codebook)
    result.problems = parsed.problems
    fatal = [p for p in parsed.problems if p.sheet != "review" or not p.row]
    if parsed.about is None or fatal or (parsed.problems and not skip_bad):
        return result
    return record_decisions(store, codebook, path, parsed, result, skip_bad, sha, rejects_folder)
