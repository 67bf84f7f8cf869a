"""Schema migrations: plain named functions, applied in order, recorded in the store by name.

Add a migration by appending a function to :data:`MIGRATIONS`; never edit, rename or reorder one
that has shipped. :func:`migrate` applies the ones a store lacks, each in its own all-or-nothing
transaction that also records it:

* ``PRAGMA user_version`` counts the migrations applied (a dshift from before names were
  recorded reads only this, so it still refuses a store a newer dshift has upgraded);
* the ``schema_migrations`` table names each applied migration, when it was applied and by which
  dshift. Stores made before the table existed get it, filled in from their version (with no
  time: applied before names were recorded), the first time they are opened for writing; read
  only, they are read as they are.

A store whose version or names this dshift does not know was written by a newer (or another)
dshift and is refused rather than guessed at.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime, timezone
from pathlib import Path

from pipeline import __version__
from pipeline.errors import StoreError
from pipeline.store.access import write_failure


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


def m006_derived_results() -> str:
    """Results derived from the store (topic tables), with the provenance exports report."""
    return """
        CREATE TABLE derived_results (
            name TEXT PRIMARY KEY,            -- e.g. topics; a new result replaces the old
            run_id TEXT NOT NULL REFERENCES runs(id),
            codebook_version TEXT NOT NULL,
            inputs_as_of TEXT,                -- the store's inputs_as_of() when it was made
            parameters TEXT NOT NULL,         -- JSON
            created_at TEXT NOT NULL
        );
        CREATE TABLE derived_tables (
            name TEXT NOT NULL REFERENCES derived_results(name) ON DELETE CASCADE,
            table_name TEXT NOT NULL,
            content BLOB NOT NULL,            -- Parquet
            PRIMARY KEY (name, table_name)
        );
        """


def m007_web_review() -> str:
    """Coder accounts for the review page, and an index to find one coder's decisions."""
    return """
        CREATE TABLE coder_accounts (         -- people who log in to the review page
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL CHECK (role IN ('coder', 'adjudicator')),
            token_hash TEXT NOT NULL UNIQUE,  -- SHA-256 of the login token (never the token)
            created_at TEXT NOT NULL,
            disabled_at TEXT                  -- set when the token is replaced or revoked
        );
        CREATE INDEX decisions_coder ON decisions(coder, id);
        """


# Each returns the SQL of one step; the store runs it and records the version atomically.
# Append new steps; never edit a shipped one (stores in the field have already run it).
MIGRATIONS: list[Callable[[], str]] = [
    m001_initial,
    m002_coding,
    m003_review,
    m004_per_code_review,
    m005_problems_by_sha256,
    m006_derived_results,
    m007_web_review,
]


LEDGER = "schema_migrations"
_LEDGER_SQL = f"""
    CREATE TABLE IF NOT EXISTS {LEDGER} (
        name TEXT PRIMARY KEY,            -- the migration function's name, e.g. m001_initial
        applied_at TEXT,                  -- ISO UTC; NULL: applied before names were recorded
        pipeline_version TEXT             -- the dshift that applied it (NULL: likewise)
    )"""


def schema_version(db: sqlite3.Connection) -> int:
    """Return how many migrations the store on ``db`` has applied."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def recorded_migrations(db: sqlite3.Connection) -> list[str] | None:
    """Return the names of the migrations recorded in the store, in the order applied.

    Returns None for a store made before migrations were recorded by name.
    """
    found = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (LEDGER,)
    ).fetchone()
    if found is None:
        return None
    return [r[0] for r in db.execute(f"SELECT name FROM {LEDGER} ORDER BY rowid")]


def migrate(
    db: sqlite3.Connection, path: Path, *, writable: bool, refusal: StoreError | None = None
) -> None:
    """Bring the schema of the store ``path`` (open on ``db``) up to this dshift's.

    Args:
        db: an autocommit connection (``isolation_level=None``) to the store.
        path: the store file, for messages.
        writable: False for a store opened for reading only: nothing is written, and a store
            that lacks a migration is refused.
        refusal: why writes are refused, if the store could not be opened for writing (raised
            if a migration is needed).

    Raises:
        StoreError: if the store was written by a newer dshift, needs a migration it cannot
            get (read-only), or a migration fails (nothing of it is kept).
    """
    known = [m.__name__ for m in MIGRATIONS]
    current = schema_version(db)
    recorded = recorded_migrations(db)
    unknown = [name for name in recorded or [] if name not in known]
    if current > len(MIGRATIONS) or unknown:
        what = f"migrations {', '.join(unknown)}" if unknown else f"schema version {current}"
        raise StoreError(
            f"{path} has {what}, newer than this dshift ({__version__}) knows "
            f"({len(MIGRATIONS)} migrations, up to {known[-1]})",
            "upgrade dshift (pip install -U discourse-shift) before using this workspace",
        )
    pending = MIGRATIONS[current:]
    if pending and refusal is not None:
        raise refusal
    if pending and not writable:
        raise StoreError(
            f"the corpus store {path} has schema version {current}, this dshift "
            f"({__version__}) needs {len(MIGRATIONS)}, and the store is read-only here so "
            "it cannot be upgraded",
            "run any dshift command once where the workspace can be written (it upgrades "
            "the store), or copy the workspace to a folder you can write",
        )
    if not writable:
        return
    unnamed = [name for name in known[:current] if name not in (recorded or [])]
    if recorded is None or unnamed:
        try:
            _run(db, path, current, _LEDGER_SQL, _record(unnamed, None, None))
        except StoreError:
            if pending:
                raise
            return  # a full disk, say: the names can be recorded at a later open
    for number, migration in enumerate(pending, start=current + 1):
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        _run(db, path, number, migration(), _record([migration.__name__], stamp, __version__))


def _record(names: list[str], applied_at: str | None, version: str | None) -> str:
    """Return the SQL that records ``names`` as applied (replacing an earlier record)."""

    def literal(value: str | None) -> str:
        return "NULL" if value is None else "'" + value.replace("'", "''") + "'"

    return "".join(
        f"INSERT INTO {LEDGER} (name, applied_at, pipeline_version) VALUES "
        f"({literal(name)}, {literal(applied_at)}, {literal(version)}) ON CONFLICT (name) DO "
        "UPDATE SET applied_at = excluded.applied_at, pipeline_version = excluded.pipeline_version;"
        for name in names
    )


def _run(db: sqlite3.Connection, path: Path, number: int, sql: str, record: str) -> None:
    """Run one migration step and its record in one transaction, setting the version."""
    try:
        db.executescript(
            f"BEGIN IMMEDIATE;\n{sql};\n{_LEDGER_SQL};\n{record}\n"
            f"PRAGMA user_version = {number};\nCOMMIT;"
        )
    except sqlite3.Error as exc:
        if db.in_transaction:
            with suppress(sqlite3.Error):
                db.execute("ROLLBACK")
        raise (
            write_failure(path, exc)
            or StoreError(
                f"migrating {path} to schema {number} failed: {exc}",
                "restore the store from a backup and report this",
            )
        ) from exc
