"""Operations on single stored documents (look-up, manual metadata)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.errors import DshiftError
from pipeline.ingest import metadata as meta
from pipeline.models import MetaValue
from pipeline.store import DocumentRow, Store

_DATE = re.compile(r"^(?:19|20)\d\d(?:-(0[1-9]|1[0-2])(?:-(0[1-9]|[12]\d|3[01]))?)?$")


def find_document(store: Store, ref: str) -> DocumentRow:
    """Return the one document that ``ref`` (id, sha256 prefix, file name or path) names."""
    found = store.find_documents(ref)
    if not found:
        raise DshiftError(
            f"no document matches '{ref}'",
            "use a document id from 'dshift status' or 'dshift problems', a file "
            "name, or at least 6 characters of its sha256",
            code="not-found",
        )
    current = [d for d in found if d.superseded_by is None]
    if len(current) > 1:
        listed = ", ".join(f"#{d.id} ({d.name})" for d in current[:6])
        raise DshiftError(
            f"'{ref}' matches several documents: {listed}",
            "give the document id instead",
            code="usage",
        )
    return (current or found)[-1]


def set_date(store: Store, ref: str, value: str, note: str = "") -> DocumentRow:
    """Date a document by hand; the manual value beats every other source from now on."""
    if not _DATE.match(value):
        raise DshiftError(
            f"'{value}' is not a date", "write it as YYYY-MM-DD (or YYYY-MM, YYYY)", code="usage"
        )
    document = find_document(store, ref)
    with store.recorded_run("doc set-date", {"document": document.id, "date": value}) as run:
        detail = f"set by hand{': ' + note if note else ''}"
        store.add_metadata(document.id, [MetaValue("date", value, "manual", detail)], run.id)
        store.set_resolved(
            document.id, meta.resolve((m.value, m.recorded_at) for m in store.metadata(document.id))
        )
        store.resolve_problems(run.id, codes=["undated", "date-conflict"], document_id=document.id)
        run.counts = {"documents": 1}
    updated = store.document(document.id)
    assert updated is not None
    return updated


@dataclass(frozen=True)
class DocumentListing:
    """One current document as ``dshift doc list`` shows it."""

    id: int
    name: str
    title: str
    date: str  # '' when undated
    year: int | None
    source_type: str
    pages: int
    characters: int
    problems: tuple[str, ...]  # codes of its open problems, sorted


def list_documents(
    store: Store,
    *,
    year: int | None = None,
    source_type: str | None = None,
    undated: bool = False,
    with_problems: bool = False,
) -> list[DocumentListing]:
    """The current documents (not superseded by a newer version), by id, filtered."""
    problems: dict[int, set[str]] = {}
    for problem in store.open_problems():
        if problem.document_id is not None:
            problems.setdefault(problem.document_id, set()).add(problem.code)
    out = []
    for d in store.current_documents():
        listing = DocumentListing(
            d.id,
            d.name,
            d.title or "",
            d.date or "",
            d.year,
            d.source_type,
            d.n_pages,
            d.n_chars,
            tuple(sorted(problems.get(d.id, ()))),
        )
        if year is not None and d.year != year:
            continue
        if source_type is not None and d.source_type != source_type:
            continue
        if undated and d.date:
            continue
        if with_problems and not listing.problems:
            continue
        out.append(listing)
    return sorted(out, key=lambda listing: listing.id)
