"""Documents: their canonical text, pages, the files they were seen as, and their metadata."""

from __future__ import annotations

import json
from typing import Any

from pipeline.core.records import CoverageRow, DocumentRow, MetadataRecord, PageSpan
from pipeline.models import Extraction, MetaValue, Resolved, Sighting
from pipeline.store.backend import Backend
from pipeline.store.database import utc_now

_DOC_COLUMNS = (
    "id, sha256, kind, name, n_chars, n_pages, source_type, issuer, date, year, title, language, "
    "provenance, supersedes, superseded_by, extractor, created_at"
)


def _document(row: Any) -> DocumentRow:
    """Turn a row of the documents table into a DocumentRow (provenance read)."""
    values = dict(row)
    values["provenance"] = json.loads(values["provenance"])
    return DocumentRow(**values)


class DocumentQueries:
    """The documents of a store (see :class:`~pipeline.store.protocols.Documents`)."""

    def __init__(self, database: Backend) -> None:
        """Query and write through ``database``."""
        self.database = database
        self.db = database.db  # the shared connection, read through; written in transactions

    def document_ids_by_sha256(self) -> dict[str, int]:
        """Return the id of every stored document by the sha256 of its bytes."""
        return {r[0]: r[1] for r in self.db.execute("SELECT sha256, id FROM documents")}

    def sighted_paths(self) -> set[tuple[int, str]]:
        """Return every (document id, path) a document was seen at."""
        return {
            (r[0], r[1]) for r in self.db.execute("SELECT document_id, path FROM document_files")
        }

    def current_document_named(self, name: str) -> DocumentRow | None:
        """Return the current (not superseded) document last seen under file name ``name``."""
        row = self.db.execute(
            f"SELECT {_DOC_COLUMNS} FROM documents WHERE superseded_by IS NULL AND id IN "
            "(SELECT document_id FROM document_files WHERE name = ?) ORDER BY id DESC LIMIT 1",
            (name,),
        ).fetchone()
        return _document(row) if row else None

    def add_document(
        self,
        *,
        sha256: str,
        text_sha256: str,
        extraction: Extraction,
        sighting: Sighting,
        metadata: list[MetaValue],
        resolved: Resolved,
        run_id: str,
        supersedes: int | None,
    ) -> int:
        """Insert a document with its pages, metadata and first sighting, all or nothing."""
        now = utc_now()
        with self.database.transaction() as db:
            cursor = db.execute(
                "INSERT INTO documents (sha256, kind, text, text_sha256, n_chars, n_pages, "
                "size_bytes, extractor, file_info, name, supersedes, run_id, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    sha256,
                    extraction.kind,
                    extraction.text,
                    text_sha256,
                    len(extraction.text),
                    len(extraction.pages),
                    sighting.size,
                    extraction.extractor,
                    json.dumps(extraction.info, sort_keys=True),
                    sighting.name,
                    supersedes,
                    run_id,
                    now,
                ),
            )
            doc_id = int(cursor.fetchone()[0])
            db.executemany(
                'INSERT INTO pages (document_id, page, start, "end") VALUES (?, ?, ?, ?)',
                [(doc_id, n, s, e) for n, (s, e) in enumerate(extraction.pages, start=1)],
            )
            if supersedes is not None:
                db.execute(
                    "UPDATE documents SET superseded_by = ? WHERE id = ?", (doc_id, supersedes)
                )
            self._insert_sighting(doc_id, sighting, run_id, now)
            self._insert_metadata(doc_id, metadata, run_id, now)
            self._write_resolved(doc_id, resolved)
        return doc_id

    def add_sighting(self, doc_id: int, sighting: Sighting, run_id: str) -> None:
        """Record that a known document was seen again (possibly under another name)."""
        with self.database.transaction():
            self._insert_sighting(doc_id, sighting, run_id, utc_now())

    def _insert_sighting(self, doc_id: int, s: Sighting, run_id: str, now: str) -> None:
        """Record a sighting inside the caller's transaction."""
        self.db.execute(
            "INSERT INTO document_files (document_id, path, name, size_bytes, mtime_ns, run_id, "
            "seen_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (document_id, path) DO UPDATE SET "
            "size_bytes = excluded.size_bytes, mtime_ns = excluded.mtime_ns",
            (doc_id, s.path, s.name, s.size, s.mtime_ns, run_id, now),
        )

    def document(self, doc_id: int) -> DocumentRow | None:
        """Return the document with id ``doc_id``, or None."""
        row = self.db.execute(
            f"SELECT {_DOC_COLUMNS} FROM documents WHERE id = ?", (doc_id,)
        ).fetchone()
        return _document(row) if row else None

    def find_documents(self, ref: str) -> list[DocumentRow]:
        """Find documents by id, sha256 prefix (at least 6 characters) or file name."""
        if ref.isdigit():
            rows = self.db.execute(
                f"SELECT {_DOC_COLUMNS} FROM documents WHERE id = ?", (int(ref),)
            )
        else:
            rows = self.db.execute(
                f"SELECT {_DOC_COLUMNS} FROM documents "
                "WHERE (length(?) >= 6 AND sha256 LIKE ? || '%')"
                " OR id IN (SELECT document_id FROM document_files WHERE name = ? OR path = ?) "
                "ORDER BY id",
                (ref, ref.lower(), ref, ref),
            )
        return [_document(r) for r in rows]

    def document_text(self, doc_id: int) -> str:
        """Return a document's canonical text."""
        return str(
            self.db.execute("SELECT text FROM documents WHERE id = ?", (doc_id,)).fetchone()[0]
        )

    def pages(self, doc_id: int) -> list[PageSpan]:
        """Return where each page of a document lies in its text, first page first."""
        rows = self.db.execute(
            'SELECT start, "end" FROM pages WHERE document_id = ? ORDER BY page', (doc_id,)
        )
        return [PageSpan(r[0], r[1]) for r in rows]

    def current_documents(self) -> list[DocumentRow]:
        """Return the documents not superseded, by id."""
        rows = self.db.execute(
            f"SELECT {_DOC_COLUMNS} FROM documents WHERE superseded_by IS NULL ORDER BY id"
        )
        return [_document(r) for r in rows]

    def corpus_documents(self) -> list[dict[str, Any]]:
        """Return every current document with its canonical text and file names, by id."""
        names: dict[int, list[str]] = {}
        for doc_id, name in self.db.execute(
            "SELECT DISTINCT document_id, name FROM document_files ORDER BY document_id, name"
        ):
            names.setdefault(doc_id, []).append(name)
        cursor = self.db.execute(
            "SELECT id, sha256, kind, name, n_chars, n_pages, source_type, issuer, date, year, "
            "title, language, extractor, text FROM documents WHERE superseded_by IS NULL "
            "ORDER BY id"
        )
        columns = [c[0] for c in cursor.description]
        rows = [dict(zip(columns, row)) for row in cursor]
        return [dict(row, file_names=names.get(row["id"], [])) for row in rows]

    def file_names(self, doc_id: int) -> list[str]:
        """Return the file names a document was seen under, sorted."""
        rows = self.db.execute(
            "SELECT DISTINCT name FROM document_files WHERE document_id = ? ORDER BY name",
            (doc_id,),
        )
        return [r[0] for r in rows]

    def add_metadata(self, doc_id: int, values: list[MetaValue], run_id: str | None) -> None:
        """Record proposed metadata values of a document (a value already known is kept)."""
        with self.database.transaction():
            self._insert_metadata(doc_id, values, run_id, utc_now())

    def _insert_metadata(
        self, doc_id: int, values: list[MetaValue], run_id: str | None, now: str
    ) -> None:
        """Record proposed values inside the caller's transaction (known ones kept)."""
        self.db.executemany(
            "INSERT INTO metadata (document_id, field, value, source, detail, run_id, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(doc_id, v.field, v.value, v.source, v.detail, run_id, now) for v in values],
        )

    def metadata(self, doc_id: int) -> list[MetadataRecord]:
        """Return every value ever proposed for a document, oldest first, with its time."""
        rows = self.db.execute(
            "SELECT field, value, source, detail, recorded_at FROM metadata WHERE document_id = ? "
            "ORDER BY id",
            (doc_id,),
        )
        return [MetadataRecord(MetaValue(r[0], r[1], r[2], r[3]), r[4]) for r in rows]

    def set_resolved(self, doc_id: int, resolved: Resolved) -> None:
        """Store the metadata chosen for a document."""
        with self.database.transaction():
            self._write_resolved(doc_id, resolved)

    def _write_resolved(self, doc_id: int, r: Resolved) -> None:
        """Store the chosen metadata inside the caller's transaction."""
        self.db.execute(
            "UPDATE documents SET source_type = ?, issuer = ?, date = ?, year = ?, title = ?, "
            "language = ?, provenance = ? WHERE id = ?",
            (
                r.source_type,
                r.issuer,
                r.date,
                r.year,
                r.title,
                r.language,
                json.dumps(r.provenance, sort_keys=True),
                doc_id,
            ),
        )

    def coverage(self) -> list[CoverageRow]:
        """Return documents and pages of current documents per year and source type."""
        rows = self.db.execute(
            "SELECT year, source_type, COUNT(*), SUM(n_pages) FROM documents "
            "WHERE superseded_by IS NULL GROUP BY year, source_type ORDER BY year, source_type"
        )
        return [CoverageRow(r[0], r[1], r[2], r[3]) for r in rows]
