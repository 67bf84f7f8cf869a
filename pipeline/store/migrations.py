"""Schema migrations: plain named functions, applied in order, recorded in the store.

Add a migration by appending a function to :data:`MIGRATIONS`; never edit one that has shipped.
"""

from __future__ import annotations

from collections.abc import Callable


def m001_initial() -> str:
    """Runs, documents with their files, pages and metadata, problems, and the stat cache."""
    return """
        CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            command TEXT NOT NULL,
            arguments TEXT NOT NULL,          -- JSON
            pipeline_version TEXT NOT NULL,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            status TEXT NOT NULL CHECK (status IN
                ('running', 'completed', 'completed-with-problems', 'failed', 'interrupted')),
            pid INTEGER,
            counts TEXT NOT NULL DEFAULT '{}' -- JSON
        );

        CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL UNIQUE,      -- of the file's bytes: a document's identity
            kind TEXT NOT NULL,               -- pdf, txt, html, docx
            text TEXT NOT NULL,               -- canonical text; never updated
            text_sha256 TEXT NOT NULL,
            n_chars INTEGER NOT NULL,
            n_pages INTEGER NOT NULL,
            size_bytes INTEGER NOT NULL,
            extractor TEXT NOT NULL,
            file_info TEXT NOT NULL DEFAULT '{}',   -- JSON, the format's own metadata
            name TEXT NOT NULL,               -- file name when first seen
            supersedes INTEGER REFERENCES documents(id),
            superseded_by INTEGER REFERENCES documents(id),
            run_id TEXT NOT NULL REFERENCES runs(id),
            created_at TEXT NOT NULL,
            -- Resolved metadata: derived from the metadata table, kept here for querying.
            source_type TEXT NOT NULL DEFAULT 'other',
            issuer TEXT,
            date TEXT,                        -- ISO date, or YYYY-MM or YYYY if that is all
            year INTEGER,
            title TEXT,
            language TEXT,
            provenance TEXT NOT NULL DEFAULT '{}'   -- JSON: field -> source
        );
        CREATE INDEX documents_year ON documents(year);
        CREATE INDEX documents_name ON documents(name);

        CREATE TRIGGER documents_text_is_fixed BEFORE UPDATE OF text, sha256 ON documents
        BEGIN
            SELECT RAISE(ABORT, 'canonical text and identity of a document never change');
        END;

        CREATE TABLE document_files (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id),
            path TEXT NOT NULL,
            name TEXT NOT NULL,
            size_bytes INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            run_id TEXT NOT NULL REFERENCES runs(id),
            seen_at TEXT NOT NULL,
            UNIQUE (document_id, path)
        );
        CREATE INDEX document_files_name ON document_files(name);

        CREATE TABLE pages (
            document_id INTEGER NOT NULL REFERENCES documents(id),
            page INTEGER NOT NULL,            -- 1-based
            start INTEGER NOT NULL,           -- code-point offsets into documents.text
            "end" INTEGER NOT NULL,
            PRIMARY KEY (document_id, page)
        );

        CREATE TABLE metadata (               -- append-only: every value ever proposed
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id),
            field TEXT NOT NULL,
            value TEXT NOT NULL,
            source TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            run_id TEXT REFERENCES runs(id),
            recorded_at TEXT NOT NULL,
            UNIQUE (document_id, field, value, source, detail)
        );

        CREATE TABLE problems (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs(id),
            path TEXT NOT NULL,
            sha256 TEXT,
            document_id INTEGER REFERENCES documents(id),
            stage TEXT NOT NULL,
            code TEXT NOT NULL,
            severity TEXT NOT NULL,
            reason TEXT NOT NULL,
            hint TEXT NOT NULL,
            place TEXT NOT NULL DEFAULT '',
            pipeline_version TEXT NOT NULL,
            created_at TEXT NOT NULL,
            resolved_at TEXT,
            resolved_by_run TEXT
        );
        CREATE INDEX problems_open ON problems(resolved_at, sha256);

        CREATE TABLE file_cache (             -- avoids re-hashing unchanged files on a re-run
            path TEXT PRIMARY KEY,
            size_bytes INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            sha256 TEXT NOT NULL
        );
        """


def m002_coding() -> str:
    """Codebooks, segments, machine tags and the record of what was coded under which version."""
    return """
        CREATE TABLE codebooks (              -- every codebook version ever used, with its text
            version TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            path TEXT NOT NULL,
            content TEXT NOT NULL,
            run_id TEXT REFERENCES runs(id),
            recorded_at TEXT NOT NULL
        );

        CREATE TABLE segments (               -- fixed once per document and segmenter
            id TEXT PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id),
            segmenter TEXT NOT NULL,
            seq INTEGER NOT NULL,
            start INTEGER NOT NULL,           -- code-point offsets into documents.text
            "end" INTEGER NOT NULL,
            n_words INTEGER NOT NULL,
            UNIQUE (document_id, segmenter, seq)
        );
        CREATE INDEX segments_document ON segments(document_id, segmenter);

        CREATE TABLE tags (                   -- machine codes; old versions kept for comparison
            id INTEGER PRIMARY KEY,
            segment_id TEXT NOT NULL REFERENCES segments(id),
            code TEXT NOT NULL,
            top_code TEXT NOT NULL,
            confidence REAL NOT NULL,
            partners TEXT NOT NULL,           -- JSON list of partner ids
            evidence TEXT NOT NULL,           -- JSON list of {code, pattern, start, end, text}
            coder TEXT NOT NULL,
            codebook_version TEXT NOT NULL REFERENCES codebooks(version),
            run_id TEXT NOT NULL REFERENCES runs(id),
            UNIQUE (segment_id, code, coder, codebook_version)
        );
        CREATE INDEX tags_version ON tags(coder, codebook_version, top_code);

        CREATE TABLE segment_partners (       -- who each segment speaks about, per codebook
            segment_id TEXT NOT NULL REFERENCES segments(id),
            codebook_version TEXT NOT NULL,
            partner TEXT NOT NULL,
            PRIMARY KEY (segment_id, codebook_version, partner)
        );

        CREATE TABLE coded (                  -- a document fully coded under a version
            document_id INTEGER NOT NULL REFERENCES documents(id),
            segmenter TEXT NOT NULL,
            coder TEXT NOT NULL,
            codebook_version TEXT NOT NULL,
            run_id TEXT NOT NULL REFERENCES runs(id),
            n_segments INTEGER NOT NULL,
            n_tags INTEGER NOT NULL,
            coded_at TEXT NOT NULL,
            PRIMARY KEY (document_id, segmenter, coder, codebook_version)
        );
        """


def m003_review() -> str:
    """Coders' decisions (append-only events), the files they came from, and review exports."""
    return """
        CREATE TABLE workspace_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO workspace_info (key, value) VALUES ('workspace_id', lower(hex(randomblob(8))));

        CREATE TABLE review_files (           -- every file decisions were imported from
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL UNIQUE,      -- importing the same bytes twice changes nothing
            path TEXT NOT NULL,
            kind TEXT NOT NULL,               -- sheet, refi
            coder TEXT NOT NULL,
            rows INTEGER NOT NULL,
            run_id TEXT REFERENCES runs(id),
            imported_at TEXT NOT NULL
        );

        CREATE TABLE decisions (              -- append-only: the current state is a query
            id INTEGER PRIMARY KEY,
            segment_id TEXT NOT NULL REFERENCES segments(id),
            coder TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('coder', 'adjudicator')),
            action TEXT NOT NULL CHECK (action IN ('accept', 'reject', 'relabel', 'undo')),
            codes TEXT NOT NULL,              -- JSON: the codes the coder gives the segment
            machine_codes TEXT NOT NULL,      -- JSON: what the machine said at the time
            note TEXT NOT NULL DEFAULT '',
            codebook_version TEXT NOT NULL,
            source TEXT NOT NULL,             -- file and row it came from
            file_id INTEGER REFERENCES review_files(id),
            created_at TEXT NOT NULL
        );
        CREATE INDEX decisions_segment ON decisions(segment_id, coder);
        CREATE TRIGGER decisions_are_never_changed BEFORE UPDATE ON decisions
        BEGIN
            SELECT RAISE(ABORT, 'decisions are append-only: record a new decision (or an undo)');
        END;
        CREATE TRIGGER decisions_are_never_deleted BEFORE DELETE ON decisions
        BEGIN
            SELECT RAISE(ABORT, 'decisions are append-only: record an undo instead');
        END;

        CREATE TABLE review_exports (         -- what was sent to whom
            id TEXT PRIMARY KEY,
            coder TEXT NOT NULL,
            path TEXT NOT NULL,
            strategy TEXT NOT NULL,
            blind INTEGER NOT NULL,
            segments TEXT NOT NULL,           -- JSON list of segment ids
            created_at TEXT NOT NULL
        );
        """


def m004_per_code_review() -> str:
    """What each review sheet showed, the codes each decision judged, and the sheet key."""
    return """
        -- The codes a decision judged (JSON list); NULL: every code of the codebook.
        ALTER TABLE decisions ADD COLUMN scope TEXT;
        -- The review export a decision was filled in on (NULL for CAQDAS projects).
        ALTER TABLE decisions ADD COLUMN export_id TEXT;
        CREATE INDEX decisions_export ON decisions(export_id, segment_id, coder);

        ALTER TABLE review_exports ADD COLUMN kind TEXT NOT NULL DEFAULT 'review';
        ALTER TABLE review_exports ADD COLUMN role TEXT NOT NULL DEFAULT 'coder';
        ALTER TABLE review_exports ADD COLUMN codebook_version TEXT NOT NULL DEFAULT '';
        ALTER TABLE review_exports ADD COLUMN scope TEXT;      -- JSON list; NULL: every code
        ALTER TABLE review_exports ADD COLUMN tracks TEXT;     -- JSON {track: [its codes]}
        ALTER TABLE review_exports ADD COLUMN signature TEXT;  -- NULL: made before signing
        CREATE TABLE review_shown (           -- per export and segment: what the sheet showed
            export_id TEXT NOT NULL REFERENCES review_exports(id),
            segment_id TEXT NOT NULL REFERENCES segments(id),
            text_sha TEXT NOT NULL,           -- hash of the segment's text on the sheet
            machine_codes TEXT NOT NULL,      -- JSON: machine codes shown (empty when blind)
            PRIMARY KEY (export_id, segment_id)
        );
        """


def m005_problems_by_sha256() -> str:
    """An index to find the problems of one file's bytes (linking them to its document)."""
    return """
        CREATE INDEX problems_sha256 ON problems(sha256);
        """


# Each returns the SQL of one step; the store runs it and records the version atomically.
# Append new steps; never edit a shipped one (stores in the field have already run it).
MIGRATIONS: list[Callable[[], str]] = [
    m001_initial,
    m002_coding,
    m003_review,
    m004_per_code_review,
    m005_problems_by_sha256,
]
