"""Review stage I/O: write sheets for coders, read them back into decisions."""

from __future__ import annotations

import csv
import hashlib
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.codebook.model import Codebook
from pipeline.coding.nlp import DEFAULT_SEGMENTER
from pipeline.coding.rules import CODER
from pipeline.errors import DshiftError
from pipeline.review.decisions import current
from pipeline.review.select import Candidate, select
from pipeline.review.sheets import About, SheetProblem, SheetRow, build_sheet, read_sheet, text_hash
from pipeline.store import Store
from pipeline.store.review import NewDecision

CONTEXT = 160  # characters of context shown before and after a segment


def _require_coded(store: Store, codebook: Codebook) -> None:
    if codebook.version not in store.coded_versions(CODER):
        raise DshiftError(
            f"nothing is coded under the current codebook ({codebook.version})",
            "run 'dshift code' first",
        )


def candidates(
    store: Store, codebook: Codebook, model_folder: Path | None = None
) -> list[Candidate]:
    """Every segment of the current documents with its machine codes and how sure the coder
    is: the learned model's certainty (distance of its probabilities from 0.5) when a model for
    this codebook exists in ``model_folder``, else the rule confidence."""
    _require_coded(store, codebook)
    tags = store.machine_tags(CODER, codebook.version)
    certainty = _model_certainty(store, codebook, model_folder) if model_folder else {}
    out = []
    for segment_id, _, _, year, source_type, _ in store.frame_segments(DEFAULT_SEGMENTER):
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
    store: Store, segment_ids: list[str], tags: dict[str, list[tuple[str, str, float]]]
) -> list[SheetRow]:
    """The rows of a sheet, with context from the canonical text."""
    wanted = set(segment_ids)
    found: dict[str, SheetRow] = {}
    texts: dict[int, str] = {}
    documents = {d.id: d for d in store.current_documents()}
    evidence = (
        {
            r["segment_id"]: r
            for r in store.coded_segment_rows(CODER, _version(store))
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
    versions = store.coded_versions(CODER)
    return versions[-1] if versions else ""


def _evidence_text(row: dict[str, object] | None) -> str:
    if row is None:
        return ""
    import json

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
    seed: int = 20011,
    role: str = "coder",
    with_csv: bool = False,
    model_folder: Path | None = None,
) -> list[Path]:
    """Write one sheet per coder; with several coders, ``overlap`` of the rows go to all."""
    if not coders or any(not c.strip() for c in coders):
        raise DshiftError("a coder name is needed", "give --coder NAME (or --coders A,B)")
    if code is not None and code not in codebook.codes:
        raise DshiftError(f"unknown code '{code}'", "see 'dshift codebook show'")
    pool = candidates(store, codebook, model_folder if strategy == "uncertain" else None)
    tags = store.machine_tags(CODER, codebook.version)
    done = {segment for segment, coder in current(store.decisions()) if coder in coders}
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
            )
        export_id = secrets.token_hex(4)
        about = About(store.workspace_id(), coder, role, export_id, codebook.version, blind)
        rows = sheet_rows(store, chosen, tags)
        safe_name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in coder)
        path = folder / f"review-{safe_name}-{export_id}.xlsx"
        path.write_bytes(build_sheet(rows, about, codebook))
        if with_csv:
            _write_csv(path.with_suffix(".csv"), rows, blind)
        store.record_review_export(export_id, coder, str(path), strategy, blind, chosen)
        paths.append(path)
    return paths


def _write_csv(path: Path, rows: list[SheetRow], blind: bool) -> None:
    from pipeline.exports.safe import neutralise
    from pipeline.review.sheets import COLUMNS

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for r in rows:
            writer.writerow(
                [
                    neutralise(v)
                    for v in (
                        r.segment_id,
                        r.document,
                        r.source_type,
                        r.date,
                        r.before,
                        r.text,
                        r.after,
                        "" if blind else "; ".join(r.machine_codes),
                        "" if blind else r.evidence,
                        "",
                        "",
                        "",
                        text_hash(r.text),
                    )
                ]
            )


@dataclass
class ImportResult:
    """What an import did."""

    path: Path
    coder: str = ""
    applied: int = 0
    already_imported: str | None = None
    problems: list[SheetProblem] = field(default_factory=list)
    rejects: Path | None = None


def import_sheet(
    store: Store, codebook: Codebook, path: Path, *, skip_bad: bool, rejects_folder: Path
) -> ImportResult:
    """Check a filled-in sheet; apply its decisions if all rows are valid (or with skip_bad)."""
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    result = ImportResult(path)
    earlier = store.review_file(sha)
    if earlier is not None:
        result.already_imported = f"{earlier[0]} (coder {earlier[1]}, {earlier[2]})"
        return result
    texts: dict[int, str] = {}
    segments: dict[str, str] = {}
    for segment_id, doc_id, start, end, _ in store.segment_rows(DEFAULT_SEGMENTER):
        if doc_id not in texts:
            texts[doc_id] = store.document_text(doc_id)
        segments[segment_id] = text_hash(texts[doc_id][start:end])
    parsed = read_sheet(data, codebook, segments, store.workspace_id())
    result.problems = parsed.problems
    fatal = [p for p in parsed.problems if p.sheet != "review" or not p.row]
    if parsed.about is None or fatal or (parsed.problems and not skip_bad):
        return result
    tags = store.machine_tags(CODER, codebook.version)
    decisions = []
    for d in parsed.decisions:
        machine = sorted({c for c, _, _ in tags.get(d.segment_id, [])})
        codes = machine if d.action == "accept" else d.codes
        decisions.append(
            NewDecision(
                d.segment_id,
                parsed.about.coder,
                parsed.about.role,
                d.action,
                codes,
                machine,
                d.note,
                codebook.version,
                f"{path.name} row {d.row}",
            )
        )
    result.coder = parsed.about.coder
    with store.recorded_run("review import", {"file": str(path), "skip_bad": skip_bad}) as run:
        result.applied = store.add_decisions(
            decisions,
            sha256=sha,
            path=str(path),
            kind="sheet",
            coder=parsed.about.coder,
            run_id=run.id,
        )
        run.counts = {"decisions": result.applied, "rejected_rows": len(parsed.rejected_rows)}
    if parsed.problems:
        rejects_folder.mkdir(parents=True, exist_ok=True)
        result.rejects = rejects_folder / f"{path.stem}.rejects.csv"
        with result.rejects.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["sheet", "row", "column", "problem", "fix"])
            for p in parsed.problems:
                writer.writerow([p.sheet, p.row, p.column, p.what, p.fix])
    return result
