"""Recording what was read: new documents, new sightings of known ones, sidecars, flags.

Each document is written in one transaction, its flags first (keyed by its bytes), so that a run
killed at any point leaves whole documents only; :func:`reconcile_flags` derives the per-document
flags from what the store holds at the end of every run, so the run after a kill restores them.
"""

from __future__ import annotations

import hashlib
import shlex

from pipeline.errors import Problem
from pipeline.ingest import metadata as meta
from pipeline.ingest.drop import DropFile, SidecarRow
from pipeline.ingest.summary import INGEST_ERRORS, IngestSummary, report
from pipeline.models import Extraction, MetaValue, Resolved, Sighting
from pipeline.store import DocumentRow, Store


def _sighting(item: DropFile) -> Sighting:
    return Sighting(str(item.path), item.name, item.size, item.mtime_ns)


def see_again(
    store: Store, summary: IngestSummary, doc_id: int, item: DropFile, sighted: set[tuple[int, str]]
) -> None:
    if (doc_id, str(item.path)) in sighted:
        summary.unchanged += 1
        return
    names = store.file_names(doc_id)
    store.add_sighting(doc_id, _sighting(item), summary.run_id)
    sighted.add((doc_id, str(item.path)))
    if item.name in names:
        summary.unchanged += 1
    else:
        summary.duplicate += 1
        summary.duplicate_of.append((item.name, f"#{doc_id} {names[0]}" if names else f"#{doc_id}"))


def store_new(
    store: Store,
    summary: IngestSummary,
    item: DropFile,
    sha: str,
    extraction: Extraction,
    sidecar_values: list[MetaValue],
) -> int:
    candidates = [
        *meta.from_text(extraction.text, extraction.furniture),
        *meta.from_filename(item.name),
        *meta.from_file_info(extraction.info),
        *sidecar_values,
    ]
    resolved = meta.resolve((value, "") for value in candidates)
    previous = store.current_document_named(item.name)
    supersedes = previous.id if previous and previous.sha256 != sha else None
    # Flags first, keyed by the bytes, then the document: a kill between the two leaves flags
    # that the next run links to the document (reconcile_flags), never a document without them.
    for warning in extraction.warnings:
        report(store, summary, warning, sha256=sha)
    conflict = meta.date_conflict(candidates)
    if conflict and resolved.provenance.get("date") not in ("sidecar", "manual"):
        ref = {"doc": shlex.quote(item.name)}
        report(
            store,
            summary,
            Problem("date-conflict", str(item.path), conflict, params=ref),
            sha256=sha,
        )
    store.resolve_problems(summary.run_id, codes=INGEST_ERRORS, sha256=sha, path=str(item.path))
    doc_id = store.add_document(
        sha256=sha,
        text_sha256=hashlib.sha256(extraction.text.encode("utf-8")).hexdigest(),
        extraction=extraction,
        sighting=_sighting(item),
        metadata=candidates,
        resolved=resolved,
        run_id=summary.run_id,
        supersedes=supersedes,
    )
    if supersedes is None:
        summary.new += 1
    else:
        summary.changed += 1
        summary.changed_names.append(item.name)
    summary.pages += len(extraction.pages)
    if extraction.warnings or conflict:
        store.link_problems_to_documents(sha)
    return doc_id


def apply_sidecars(
    store: Store,
    summary: IngestSummary,
    sidecar: dict[str, list[SidecarRow]],
    stored: set[int],
    in_drop: set[str],
) -> int:
    """Apply sidecar rows to stored documents (matched by file name); return how many changed."""
    updated = 0
    for name, rows in sidecar.items():
        document = store.current_document_named(name)
        if document is None:
            if name in in_drop:
                continue  # the file is here but could not be read: its own problem says why
            report(
                store,
                summary,
                Problem(
                    "sidecar",
                    str(rows[0].sidecar),
                    place=f"line {rows[0].line}, column file",
                    detail=f"no file named '{name}' in this drop or in the corpus",
                ),
            )
            continue
        values = [v for row in rows for v in row.values]
        metadata = store.metadata(document.id)
        known = {(m.value.field, m.value.value, m.value.source, m.value.detail) for m in metadata}
        new = [v for v in values if (v.field, v.value, v.source, v.detail) not in known]
        if new:
            store.add_metadata(document.id, new, summary.run_id)
            store.set_resolved(
                document.id,
                meta.resolve((m.value, m.recorded_at) for m in store.metadata(document.id)),
            )
            updated += 1
            stored.add(document.id)
            continue
        # Stored by this run: resolve again with the real timestamps of the sidecar values. Or
        # a run was killed between recording the values and resolving them: resolve now.
        resolved = meta.resolve((m.value, m.recorded_at) for m in metadata)
        if document.id in stored or not _filed_under(document, resolved):
            store.set_resolved(document.id, resolved)
    return updated


def _filed_under(document: DocumentRow, resolved: Resolved) -> bool:
    """True if the stored document is filed under ``resolved`` already."""
    return (
        document.source_type,
        document.issuer,
        document.date,
        document.year,
        document.title,
        document.language,
        document.provenance,
    ) == (
        resolved.source_type,
        resolved.issuer,
        resolved.date,
        resolved.year,
        resolved.title,
        resolved.language,
        resolved.provenance,
    )


def reconcile_flags(store: Store, summary: IngestSummary) -> None:
    """Derive the per-document flags from what the store holds, whatever earlier runs did.

    A run killed after storing documents but before its end leaves them unflagged; the next run
    (this function runs at the end of every run) flags them. A document that never had an
    'undated' problem and has no date gets one; open ones of documents now dated close. Problems
    written before their document (keyed by its bytes) are linked to it.
    """
    store.link_problems_to_documents()
    for undated in store.undated_documents_never_flagged():
        doc_id, path = undated.document_id, undated.path
        problem = Problem("undated", path, params={"doc": str(doc_id)})
        report(store, summary, problem, document_id=doc_id)
    store.resolve_problems_of_dated(summary.run_id)
