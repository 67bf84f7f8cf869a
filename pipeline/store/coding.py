"""Coding: codebooks, segments, machine tags, and the rows the indices and exports read."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from pipeline.core.records import (
    CodingCounts,
    CodingToSave,
    DocumentToCode,
    FramePartner,
    FrameSegment,
    FrameTag,
    MachineTag,
    SegmentContext,
    SegmentRow,
    SegmentSpan,
    SegmentText,
    SegmentToSave,
    TagRow,
    TagToSave,
)
from pipeline.store.backend import Backend, Connection, json_text
from pipeline.store.database import utc_now

# One encoder for every tag (json.dumps with an option builds a new one each call).
_to_json = json.JSONEncoder(ensure_ascii=False).encode

# A segment's text out of its document's (1-based, in characters; the casts because
# PostgreSQL's substr takes 32-bit integers and the offsets are 64-bit columns there).
_SEGMENT_TEXT = 'substr(d.text, CAST(s.start + 1 AS INTEGER), CAST(s."end" - s.start AS INTEGER))'

_TAG_COLUMNS = (
    "segment_id, code, top_code, confidence, partners, evidence, coder, codebook_version, run_id"
)


def _tag(row: Any) -> TagRow:
    """Turn a row of the tags table into a TagRow (its JSON columns read)."""
    values = dict(row)
    values["partners"] = json.loads(values["partners"])
    values["evidence"] = json.loads(values["evidence"])
    return TagRow(**values)


class CodingQueries:
    """The coding of a store (see :class:`.protocols.Coding`)."""

    def __init__(self, database: Backend) -> None:
        """Query and write through ``database``."""
        self.database = database
        self.db = database.db  # the shared connection, read through; written in transactions

    def _bulk(self, sql: str, params: Iterable[Any]) -> Any:
        """Run a query of many rows that come back as plain tuples, not :class:`sqlite3.Row`
        (which costs as much again per row as the named tuple made from it)."""
        cursor = self.db.cursor()
        cursor.row_factory = None
        return cursor.execute(sql, tuple(params))

    def record_codebook(
        self, version: str, name: str, path: str, content: str, run_id: str | None
    ) -> None:
        """Keep the text of every codebook version used, so old tags stay explainable."""
        with self.database.transaction() as db:
            db.execute(
                "INSERT INTO codebooks (version, name, path, content, run_id, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(version) DO NOTHING",
                (version, name, path, content, run_id, utc_now()),
            )

    def codebook_content(self, version: str) -> str | None:
        """Return the text of a recorded codebook version, or None."""
        row = self.db.execute(
            "SELECT content FROM codebooks WHERE version = ?", (version,)
        ).fetchone()
        return row[0] if row else None

    def documents_to_code(self, segmenter: str, coder: str, version: str) -> list[DocumentToCode]:
        """Return the current documents not yet coded under ``version``, by id."""
        rows = self.db.execute(
            "SELECT id, sha256 FROM documents d WHERE superseded_by IS NULL AND NOT EXISTS "
            "(SELECT 1 FROM coded c WHERE c.document_id = d.id AND c.segmenter = ? AND "
            "c.coder = ? AND c.codebook_version = ?) ORDER BY id",
            (segmenter, coder, version),
        )
        return [DocumentToCode(r[0], r[1]) for r in rows]

    def coded_by_another_model(
        self, segmenter: str, coder: str, version: str, model: str
    ) -> list[DocumentToCode]:
        """Current documents coded by ``coder`` under ``version`` whose coding run recorded a
        model other than ``model`` (the SHA-256 of the model file), by id."""
        model_of_run = json_text(self.database.dialect, "r.arguments", "coder", "model_sha256")
        rows = self.db.execute(
            "SELECT d.id, d.sha256 FROM coded c JOIN documents d ON d.id = c.document_id "
            "JOIN runs r ON r.id = c.run_id WHERE d.superseded_by IS NULL AND c.segmenter = ? "
            f"AND c.coder = ? AND c.codebook_version = ? AND COALESCE({model_of_run}, '') != ? "
            "ORDER BY d.id",
            (segmenter, coder, version, model),
        )
        return [DocumentToCode(r[0], r[1]) for r in rows]

    def save_coding(
        self,
        document_id: int,
        segmenter: str,
        coder: str,
        version: str,
        run_id: str,
        segments: list[SegmentToSave],
        tags: list[TagToSave],
        replace: bool = False,
    ) -> None:
        """Store a document's segments (if new), tags and partners in one transaction; with
        ``replace``, the coder's earlier tags of the document under ``version`` go first."""
        self.save_codings(
            [CodingToSave(document_id, segmenter, coder, version, run_id, segments, tags, replace)]
        )

    def save_codings(self, codings: Iterable[CodingToSave]) -> None:
        """Store several documents' codings in one transaction: each document is coded in
        full or not at all (if anything fails, none of them is). One transaction, and one
        statement per table for the whole batch, writes each touched page once, not once per
        document (and lets a server store take the rows in bulk)."""
        now = utc_now()
        batch = list(codings)
        with self.database.transaction() as db:
            for coding in batch:
                if coding.replace:
                    self._forget(db, coding)
            db.executemany(
                'INSERT INTO segments (id, document_id, segmenter, seq, start, "end", n_words) '
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
                [
                    (s.id, c.document_id, c.segmenter, s.seq, s.start, s.end, s.n_words)
                    for c in batch
                    for s in c.segments
                ],
            )
            db.executemany(
                "INSERT INTO segment_partners (segment_id, codebook_version, partner) "
                "VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [(s.id, c.version, p) for c in batch for s in c.segments for p in s.partners],
            )
            db.executemany(
                f"INSERT INTO tags ({_TAG_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                [
                    (
                        t.segment_id,
                        t.code,
                        t.top_code,
                        t.confidence,
                        json.dumps(t.partners) if t.partners else "[]",
                        _to_json(t.evidence),
                        c.coder,
                        c.version,
                        c.run_id,
                    )
                    for c in batch
                    for t in c.tags
                ],
            )
            db.executemany(
                "INSERT INTO coded (document_id, segmenter, coder, codebook_version, run_id, "
                "n_segments, n_tags, coded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                [
                    (
                        c.document_id,
                        c.segmenter,
                        c.coder,
                        c.version,
                        c.run_id,
                        len(c.segments),
                        len(c.tags),
                        now,
                    )
                    for c in batch
                ],
            )

    @staticmethod
    def _forget(db: Connection, coding: CodingToSave) -> None:
        """Drop the coder's earlier tags of a document under the version (a retrained model
        codes it again), inside the caller's transaction; decisions are untouched."""
        db.execute(
            "DELETE FROM tags WHERE coder = ? AND codebook_version = ? AND segment_id IN "
            "(SELECT id FROM segments WHERE document_id = ? AND segmenter = ?)",
            (coding.coder, coding.version, coding.document_id, coding.segmenter),
        )
        db.execute(
            "DELETE FROM coded WHERE document_id = ? AND segmenter = ? AND coder = ? "
            "AND codebook_version = ?",
            (coding.document_id, coding.segmenter, coding.coder, coding.version),
        )

    def segment(self, segment_id: str) -> SegmentRow | None:
        """Return the segment with this id, or None."""
        row = self.db.execute(
            'SELECT id, document_id, segmenter, seq, start, "end", n_words FROM segments '
            "WHERE id = ?",
            (segment_id,),
        ).fetchone()
        return SegmentRow(*row) if row else None

    def document_segments(self, doc_id: int, segmenter: str) -> list[SegmentRow]:
        """Return the segments of one document cut by ``segmenter``, in reading order."""
        rows = self.db.execute(
            'SELECT id, document_id, segmenter, seq, start, "end", n_words FROM segments '
            "WHERE document_id = ? AND segmenter = ? ORDER BY seq",
            (doc_id, segmenter),
        )
        return [SegmentRow(*r) for r in rows]

    def tags_of_segment(self, segment_id: str) -> list[TagRow]:
        """Return every machine tag of a segment, by codebook version and code."""
        rows = self.db.execute(
            f"SELECT {_TAG_COLUMNS} FROM tags WHERE segment_id = ? ORDER BY codebook_version, code",
            (segment_id,),
        )
        return [_tag(r) for r in rows]

    def tagged_segments(self, coder: str, version: str) -> dict[str, set[str]]:
        """Return, for each code (leaf and top-level), the ids of segments tagged with it."""
        out: dict[str, set[str]] = {}
        for segment_id, code, top in self._bulk(
            "SELECT segment_id, code, top_code FROM tags WHERE coder = ? AND codebook_version = ?",
            (coder, version),
        ):
            out.setdefault(code, set()).add(segment_id)
            out.setdefault(top, set()).add(segment_id)
        return out

    def coded_versions(self, coder: str) -> list[str]:
        """Codebook versions this coder has coded under, most recent last."""
        rows = self.db.execute(
            # rowid grows with every insert: the latest coding of a version comes last.
            "SELECT codebook_version, MAX(rowid) AS last FROM coded WHERE coder = ? "
            "GROUP BY codebook_version ORDER BY last",
            (coder,),
        )
        return [r[0] for r in rows]

    def coding_counts(self, coder: str, version: str) -> CodingCounts:
        """Return how many documents, segments and tags were coded under a version."""
        row = self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(n_segments), 0), COALESCE(SUM(n_tags), 0) FROM coded "
            "WHERE coder = ? AND codebook_version = ?",
            (coder, version),
        ).fetchone()
        return CodingCounts(int(row[0]), int(row[1]), int(row[2]))

    def segment_texts(
        self,
        segmenter: str,
        year: int | None = None,
    ) -> Iterator[SegmentText]:
        """Yield each segment of current documents with its text, year and document name."""
        query = (
            'SELECT s.id, s.document_id, s.segmenter, s.seq, s.start, s."end", s.n_words, '
            f"{_SEGMENT_TEXT}, d.year, d.name FROM segments s "
            "JOIN documents d ON d.id = s.document_id WHERE d.superseded_by IS NULL AND "
            "s.segmenter = ?"
        )
        params: list[Any] = [segmenter]
        if year is not None:
            query += " AND d.year = ?"
            params.append(year)
        for row in self._bulk(query + " ORDER BY s.document_id, s.seq", params):
            yield SegmentText(SegmentRow(*row[:7]), row[7], row[8], row[9])

    def segment_rows(self, segmenter: str) -> list[SegmentSpan]:
        """Return where each segment of current documents lies, by document and position."""
        rows = self._bulk(
            'SELECT s.id, s.document_id, s.start, s."end", d.sha256 FROM segments s '
            "JOIN documents d ON d.id = s.document_id WHERE d.superseded_by IS NULL "
            "AND s.segmenter = ? ORDER BY s.document_id, s.seq",
            (segmenter,),
        )
        return list(map(SegmentSpan._make, rows))

    def machine_tags(self, coder: str, version: str) -> dict[str, list[MachineTag]]:
        """Return the machine tags of a coder under a version, by segment id."""
        out: dict[str, list[MachineTag]] = {}
        for segment_id, code, top, confidence in self._bulk(
            "SELECT segment_id, code, top_code, confidence FROM tags "
            "WHERE coder = ? AND codebook_version = ?",
            (coder, version),
        ):
            out.setdefault(segment_id, []).append(MachineTag(code, top, float(confidence)))
        return out

    # -- the segment frame (the input of the indices) ------------------------------------

    def frame_segments(self, segmenter: str) -> list[FrameSegment]:
        """Return the segments of current documents, by document and position."""
        rows = self._bulk(
            "SELECT s.id, s.document_id, d.date, d.year, d.source_type, s.n_words, d.sha256 "
            "FROM segments s JOIN documents d ON d.id = s.document_id "
            "WHERE d.superseded_by IS NULL AND s.segmenter = ? ORDER BY s.document_id, s.seq",
            (segmenter,),
        )
        return list(map(FrameSegment._make, rows))

    def frame_tags(self, coder: str, version: str) -> list[FrameTag]:
        """Return every machine tag of a coder under a version."""
        rows = self._bulk(
            "SELECT segment_id, code, top_code FROM tags WHERE coder = ? AND codebook_version = ?",
            (coder, version),
        )
        return list(map(FrameTag._make, rows))

    def frame_partners(self, version: str) -> list[FramePartner]:
        """Return the partners found in segments under a version."""
        rows = self._bulk(
            "SELECT segment_id, partner FROM segment_partners WHERE codebook_version = ?",
            (version,),
        )
        return list(map(FramePartner._make, rows))

    # -- export tables --------------------------------------------------------------------

    def inputs_as_of(self) -> str | None:
        """When the inputs of the exports last changed: the newest document, metadata value,
        coding and decision (ISO 8601 UTC), or None for an empty store.

        Exports write this, not the clock, into the dates their formats insist on, so the same
        inputs give the same bytes.
        """
        row = self.db.execute(
            "SELECT max(t) FROM (SELECT max(created_at) AS t FROM documents "
            "UNION ALL SELECT max(recorded_at) FROM metadata "
            "UNION ALL SELECT max(coded_at) FROM coded "
            "UNION ALL SELECT max(created_at) FROM decisions) AS latest"
        ).fetchone()
        return row[0] if row else None

    def coded_segment_rows(self, coder: str, version: str) -> list[dict[str, Any]]:
        """One row per machine tag under a version, with its segment, text and document.

        ``partners`` and ``evidence`` are left as the JSON text stored.
        """
        cursor = self.db.execute(
            "SELECT t.segment_id, s.document_id, d.title, d.source_type, d.date, d.year, "
            "t.code, t.top_code, t.partners, t.evidence, t.confidence, t.coder, "
            't.codebook_version, s.start, s."end", '
            f"{_SEGMENT_TEXT} AS text "
            "FROM tags t JOIN segments s ON s.id = t.segment_id "
            "JOIN documents d ON d.id = s.document_id "
            "WHERE d.superseded_by IS NULL AND t.coder = ? AND t.codebook_version = ? "
            "ORDER BY s.document_id, s.seq, t.code",
            (coder, version),
        )
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row)) for row in cursor]

    def segment_export_rows(self, segment_ids: Iterable[str]) -> list[dict[str, Any]]:
        """One row per given segment of a current document: its document's attributes, offsets
        and text (the columns of :meth:`coded_segment_rows` that do not belong to a tag)."""
        wanted = sorted(set(segment_ids))
        out: list[dict[str, Any]] = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            cursor = self.db.execute(
                "SELECT s.id AS segment_id, s.document_id, d.title, d.source_type, d.date, "
                f'd.year, s.start, s."end", {_SEGMENT_TEXT} AS text '
                "FROM segments s JOIN documents d ON d.id = s.document_id "
                f"WHERE d.superseded_by IS NULL AND s.id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            names = [c[0] for c in cursor.description]
            out.extend(dict(zip(names, row)) for row in cursor)
        return out

    def corpus_segments(self, segmenter: str) -> list[dict[str, Any]]:
        """Return every segment of the current documents by ``segmenter``, with its text."""
        cursor = self.db.execute(
            'SELECT s.id AS segment_id, s.document_id, s.seq, s.start, s."end", s.n_words, '
            f"{_SEGMENT_TEXT} AS text FROM segments s JOIN documents d ON d.id = s.document_id "
            "WHERE d.superseded_by IS NULL AND s.segmenter = ? ORDER BY s.document_id, s.seq",
            (segmenter,),
        )
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row)) for row in cursor]

    def segment_text_map(self, segment_ids: list[str]) -> dict[str, SegmentContext]:
        """Return the text and source of a few segments, by segment id."""
        out: dict[str, SegmentContext] = {}
        for start in range(0, len(segment_ids), 500):
            chunk = segment_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._bulk(
                f"SELECT s.id, {_SEGMENT_TEXT}, d.name, "
                f"COALESCE(d.date, '') FROM segments s JOIN documents d ON d.id = s.document_id "
                f"WHERE s.id IN ({marks})",
                chunk,
            )
            out.update({r[0]: SegmentContext(r[1], r[2], r[3]) for r in rows})
        return out
