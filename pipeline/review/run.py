"""Review stage I/O: write sheets for coders, read them back into decisions."""

from __future__ import annotations

import csv
import hashlib
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.archives import SHEET_LIMITS, check_zip
from pipeline.codebook.model import Codebook
from pipeline.coding.nlp import DEFAULT_SEGMENTER
from pipeline.coding.rules import CODER as LEGACY_CODER  # what sheets before signing showed
from pipeline.core.records import MachineTag
from pipeline.errors import DshiftError
from pipeline.review.agreement import disagreements
from pipeline.review.decisions import judgements, read_decisions
from pipeline.review.select import Candidate, select
from pipeline.review.sheets import (
    ACCEPT,
    AS_MARKED,
    NO_CODE,
    About,
    ParsedSheet,
    RawSheet,
    SheetProblem,
    SheetRow,
    Track,
    build_sheet,
    check_legacy_sheet,
    check_sheet,
    columns_of,
    describe,
    open_sheet,
    sign,
    text_hash,
    tracks_of,
)
from pipeline.store import Store
from pipeline.store.review import DecisionRow, NewDecision, ReviewExport, ShownRow

CONTEXT = 160  # characters of context shown before and after a segment


def _require_coded(store: Store, codebook: Codebook) -> None:
    coder = store.active_coder()
    if codebook.version not in store.coded_versions(coder):
        raise DshiftError(
            f"nothing is coded by {coder} under the current codebook ({codebook.version})",
            "run 'dshift code' first",
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


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)


def _new_export_id(store: Store, folder: Path, prefix: str, coder: str) -> tuple[str, Path]:
    """A fresh export id and the sheet's path; never an existing file or export."""
    while True:
        export_id = secrets.token_hex(4)
        path = folder / f"{prefix}-{_safe(coder)}-{export_id}.xlsx"
        if not path.exists() and store.review_export(export_id) is None:
            return export_id, path


def _issue(
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
    seed: int = 20011,
    role: str = "coder",
    with_csv: bool = False,
    model_folder: Path | None = None,
) -> list[Path]:
    """Write one sheet per coder; with several coders, ``overlap`` of the rows go to all.

    A sheet made with ``code`` asks only about that code's track. Segments a coder has already
    judged on every code the sheet asks about are not sent to them again.
    """
    if not coders or any(not c.strip() for c in coders):
        raise DshiftError("a coder name is needed", "give --coder NAME (or --coders A,B)")
    if code is not None and code not in codebook.codes:
        raise DshiftError(f"unknown code '{code}'", "see 'dshift codebook show'")
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
            )
        export_id, path = _new_export_id(store, folder, "review", coder)
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
        _issue(store, codebook, path, rows, about, strategy)
        if with_csv:
            _write_csv(path.with_suffix(".csv"), rows, about)
        paths.append(path)
    return paths


def adjudication_sheet(store: Store, codebook: Codebook, folder: Path, coder: str) -> Path | None:
    """Write a sheet of the segments coders still disagree on, for ``coder`` to settle.

    Each row shows, side by side, how every coder and the machine coded the segment. Segments
    an adjudicator has settled are left out; every call writes a new file (None: nothing to do).
    """
    if not coder.strip():
        raise DshiftError("an adjudicator's name is needed", "give --coder NAME")
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
    export_id, path = _new_export_id(store, folder, "adjudicate", coder)
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
    _issue(store, codebook, path, rows, about, "disagreements")
    return path


def _write_csv(path: Path, rows: list[SheetRow], about: About) -> None:
    from pipeline.exports.safe import neutralise

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


def _current_hashes(store: Store) -> dict[str, str]:
    texts: dict[int, str] = {}
    segments: dict[str, str] = {}
    for segment_id, doc_id, start, end, _ in store.segment_rows(DEFAULT_SEGMENTER):
        if doc_id not in texts:
            texts[doc_id] = store.document_text(doc_id)
        segments[segment_id] = text_hash(texts[doc_id][start:end])
    return segments


def _import_legacy(
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
    parsed = check_legacy_sheet(raw, about, shown, _current_hashes(store), codebook)
    result.problems = parsed.problems
    fatal = [p for p in parsed.problems if p.sheet != "review" or not p.row]
    if parsed.about is None or fatal or (parsed.problems and not skip_bad):
        return result
    return _record(store, codebook, path, parsed, result, skip_bad, sha, rejects_folder)


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
        return _import_legacy(
            store, codebook, path, raw, export, result, skip_bad, sha, rejects_folder
        )
    about = _about_of(store, export) if export is not None else None
    segments = _current_hashes(store)
    shown = {r.segment_id: (r.text_sha, r.machine_codes) for r in export.rows} if export else {}
    parsed = check_sheet(raw, about, store.sheet_key(), shown, segments, store.workspace_id())
    result.problems = parsed.problems
    fatal = [p for p in parsed.problems if p.sheet != "review" or not p.row]
    if parsed.about is None or fatal or (parsed.problems and not skip_bad):
        return result
    return _record(store, codebook, path, parsed, result, skip_bad, sha, rejects_folder)


def _record(
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
