"""Recording a checked review sheet: its decisions become events, once, with what was refused.

Rows recorded unchanged from the same export before are not recorded again, so a re-saved sheet
adds only the answers that changed; refused rows are written to a ``.rejects.csv`` beside it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.codebook.model import Codebook
from pipeline.core import DEFAULT_SEGMENTER
from pipeline.review.sheet_model import (
    ACCEPT,
    AS_MARKED,
    NO_CODE,
    ParsedSheet,
    SheetProblem,
    text_hash,
)
from pipeline.store import Store
from pipeline.store.review import DecisionRow, NewDecision


@dataclass
class ImportResult:
    """What an import did (or, with dry_run, would do)."""

    path: Path
    coder: str = ""
    role: str = ""
    applied: int = 0
    unchanged: int = 0
    actions: dict[str, int] = field(default_factory=dict)
    codebook_version: str = ""
    older_codebook: bool = False
    dry_run: bool = False
    already_imported: str | None = None
    problems: list[SheetProblem] = field(default_factory=list)
    rejects: Path | None = None

    def summary(self) -> str:
        """One line saying what was (or would be) recorded."""
        verb = "would record" if self.dry_run else "recorded"
        words = {"accept": ACCEPT, "relabel": AS_MARKED, "reject": NO_CODE}  # as on the sheet
        detail = ", ".join(f"{words.get(a, a)} {n}" for a, n in sorted(self.actions.items()))
        line = f"{verb} {self.applied} decision(s) by {self.coder} ({self.role})"
        if detail:
            line += f": {detail}"
        if self.unchanged:
            line += f"; {self.unchanged} row(s) already recorded from this sheet"
        if self.older_codebook:
            line += (
                f"; made on codebook {self.codebook_version} (not the current one): kept as "
                "the coder saw it"
            )
        return line


def current_hashes(store: Store) -> dict[str, str]:
    texts: dict[int, str] = {}
    segments: dict[str, str] = {}
    for segment_id, doc_id, start, end, _ in store.segment_rows(DEFAULT_SEGMENTER):
        if doc_id not in texts:
            texts[doc_id] = store.document_text(doc_id)
        segments[segment_id] = text_hash(texts[doc_id][start:end])
    return segments


def record_decisions(
    store: Store,
    codebook: Codebook,
    path: Path,
    parsed: ParsedSheet,
    result: ImportResult,
    skip_bad: bool,
    sha: str,
    rejects_folder: Path,
) -> ImportResult:
    """Record a checked sheet's decisions, leaving out rows recorded unchanged before."""
    about = parsed.about
    assert about is not None
    result.coder, result.role = about.coder, about.role
    result.codebook_version = about.codebook_version
    result.older_codebook = about.codebook_version != codebook.version
    before: dict[str, DecisionRow] = {}
    for event in store.decisions([d.segment_id for d in parsed.decisions]):
        if event.coder == about.coder and (
            event.export_id == about.export_id
            # recorded before exports were kept with decisions: known by the file's name,
            # which carries the export id (review-CODER-EXPORT.xlsx)
            or (
                about.kind == "legacy"
                and event.export_id is None
                and about.export_id in event.source
            )
        ):
            before[event.segment_id] = event
    decisions = []
    for d in parsed.decisions:
        last = before.get(d.segment_id)
        if last is not None and (
            (last.action, sorted(last.codes), last.note, sorted(last.scope or []))
            == (d.action, sorted(d.codes), d.note, sorted(d.scope or []))
        ):
            result.unchanged += 1
            continue
        result.actions[d.action] = result.actions.get(d.action, 0) + 1
        decisions.append(
            NewDecision(
                d.segment_id,
                about.coder,
                about.role,
                d.action,
                d.codes,
                d.machine_codes,
                d.note,
                about.codebook_version,
                f"{path.name} row {d.row}",
                scope=d.scope if about.kind != "legacy" else None,
                export_id=about.export_id,
            )
        )
    if result.dry_run:
        result.applied = len(decisions)
        return result
    arguments = {"file": str(path), "skip_bad": skip_bad, "export": about.export_id}
    with store.recorded_run("review import", arguments) as run:
        result.applied = store.add_decisions(
            decisions,
            sha256=sha,
            path=str(path),
            kind="sheet",
            coder=about.coder,
            run_id=run.id,
        )
        run.counts = {
            "decisions": result.applied,
            "unchanged": result.unchanged,
            "rejected_rows": len(parsed.rejected_rows),
        }
    if parsed.problems:
        rejects_folder.mkdir(parents=True, exist_ok=True)
        result.rejects = rejects_folder / f"{path.stem}.rejects.csv"
        with result.rejects.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["sheet", "row", "column", "problem", "fix"])
            for p in parsed.problems:
                writer.writerow([p.sheet, p.row, p.column, p.what, p.fix])
    return result
