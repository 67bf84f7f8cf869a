"""SQLite implementation of the corpus store (WAL mode, one writer, many readers)."""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NoReturn

from pipeline import __version__
from pipeline.errors import Problem, StoreError, damaged_store, is_damaged
from pipeline.models import Extraction, MetaValue, Resolved, Sighting
from pipeline.store.access import (
    can_read,
    can_write,
    open_read_only,
    read_only_error,
    unreadable_error,
    write_failure,
)
from pipeline.store.coding import CodingQueries, ExportQueries, FrameQueries
from pipeline.store.migrations import MIGRATIONS
from pipeline.store.review import ReviewQueries


def utc_now() -> str:
    """Return the current UTC time as an ISO 8601 string with seconds."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


_last_stamp = ""


def new_run_id() -> str:
    """Return a unique run id such as ``20261129T201530.123456Z-3f2a9c``.

    Ids sort in the order runs started: the stamp has microseconds and never repeats or goes
    back within a process (two runs in one microsecond, or a clock stepped back, get the next
    microsecond), so runs started in the same second are not ordered by their random suffix.
    """
    global _last_stamp
    now = datetime.now(timezone.utc)
    stamp = now.strftime("%Y%m%dT%H%M%S.%fZ")
    while stamp <= _last_stamp:
        now += timedelta(microseconds=1)
        stamp = now.strftime("%Y%m%dT%H%M%S.%fZ")
    _last_stamp = stamp
    return f"{stamp}-{secrets.token_hex(3)}"


def connect(url: str | os.PathLike[str], *, read_only: bool | None = None) -> Store:
    """Open (creating and migrating if needed) the store at ``url``.

    Args:
        url: ``sqlite:///absolute/path.sqlite``, ``sqlite:relative.sqlite`` or a plain path.
        read_only: ``True`` opens the store for reading only (no migration, no journal files
            written, no write allowed); ``False`` insists on writing; ``None`` (the default)
            opens it for reading only when the store or its folder cannot be written (a
            read-only disk, permissions), so that commands that only read work there and a
            command that writes gets a :class:`StoreError` at its first write.

    Raises:
        StoreError: for an unsupported scheme, a store written by a newer dshift, a store that
            cannot be read, or one that must be written (created, migrated, ``read_only=False``)
            but cannot be.
    """
    text = os.fspath(url)
    if "://" in text and not text.startswith("sqlite://"):
        scheme = text.split("://", 1)[0]
        raise StoreError(
            f"unsupported store URL scheme '{scheme}' in {text}",
            "use a SQLite path such as corpus/corpus.sqlite (no server databases yet)",
        )
    path = Path(text.removeprefix("sqlite:///").removeprefix("sqlite:"))
    if text.startswith("sqlite:///"):
        path = Path("/" + text.removeprefix("sqlite:///"))
    return Store(path, read_only=read_only)


@dataclass
class RunRecord:
    """A run in progress: its id, and the counts and status to record when it ends."""

    id: str
    counts: dict[str, Any] = field(default_factory=dict)
    status: str = "completed"


@dataclass(frozen=True)
class RunRow:
    id: str
    command: str
    started_at: str
    ended_at: str | None
    status: str
    counts: dict[str, Any]
    pipeline_version: str
    pid: int | None = None  # of the process that ran it (on whichever machine ran it)


@dataclass(frozen=True)
class ProblemRow:
    id: int
    run_id: str
    path: str
    sha256: str | None
    document_id: int | None
    stage: str
    code: str
    severity: str
    reason: str
    hint: str
    place: str
    created_at: str


@dataclass(frozen=True)
class DocumentRow:
    id: int
    sha256: str
    kind: str
    name: str
    n_chars: int
    n_pages: int
    source_type: str
    issuer: str | None
    date: str | None
    year: int | None
    title: str | None
    language: str | None
    provenance: dict[str, str]
    supersedes: int | None
    superseded_by: int | None
    extractor: str
    created_at: str


_DOC_COLUMNS = (
    "id, sha256, kind, name, n_chars, n_pages, source_type, issuer, date, year, title, language, "
    "provenance, supersedes, superseded_by, extractor, created_at"
)


def _document(row: sqlite3.Row) -> DocumentRow:
    values = dict(row)
    values["provenance"] = json.loads(values["provenance"])
    return DocumentRow(**values)


class Store(CodingQueries, FrameQueries, ExportQueries, ReviewQueries):
    """A corpus store on a SQLite file. Create with :func:`connect`.

    Attributes:
        path: the SQLite file.
        read_only: True if the store was opened for reading only (asked for, or the store
            cannot be written here, or its disk is too full to open it for writing): every
            write raises :class:`StoreError`, saying why, before touching the file.
    """

    def __init__(self, path: Path, *, read_only: bool | None = None) -> None:
        """Open the store file ``path``; see :func:`connect` for ``read_only``."""
        self.path = path
        try:
            exists = path.exists()
        except OSError as exc:  # a folder on the way that this user may not enter
            raise StoreError(
                f"cannot reach the corpus store {path}: {exc.strerror}",
                f"ask the owner of {path.parent} for access (e.g. chmod a+rx {path.parent}); "
                "reading the store needs it, writing needs write access too",
            ) from exc
        if exists and not can_read(path):
            raise unreadable_error(path)
        writable = can_write(path)
        automatic = read_only is None
        if read_only is None:
            read_only = exists and not writable
        if not read_only and not writable:
            raise StoreError(
                f"the corpus store {path} cannot be "
                + ("written" if exists else "created")
                + f": it or its folder {path.parent} is read-only here",
                read_only_error(path).hint,
            )
        self.read_only = read_only
        self._refusal: StoreError | None = None  # why writes are refused, if not read_only_error
        if read_only:
            self.db = open_read_only(path)
        else:
            try:
                self.db = self._open_for_writing()
            except StoreError as failure:
                if not (automatic and exists):
                    raise
                try:  # a full disk: what is stored can still be read
                    self.db = open_read_only(path)
                except StoreError:
                    raise failure from None
                self.read_only, self._refusal = True, failure
        self.db.row_factory = sqlite3.Row
        try:
            self.db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except BaseException as exc:
            self.db.close()
            refused = write_failure(path, exc) if isinstance(exc, sqlite3.Error) else None
            if refused is not None:  # a damaged file, a disk that filled while opening it
                raise refused from exc
            raise

    def _open_for_writing(self) -> sqlite3.Connection:
        """Connect to the store file (creating it and its folder) in WAL mode."""
        path = self.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the folder of the corpus store {path.parent}: {exc.strerror}",
                "check the workspace path and that you may write there",
            ) from exc
        db: sqlite3.Connection | None = None
        try:
            db = sqlite3.connect(path, isolation_level=None, timeout=30)
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            if db is not None:
                db.close()
            raise (
                write_failure(path, exc)
                or StoreError(
                    f"cannot open the corpus store {path}: {exc}",
                    "check that it is the corpus.sqlite dshift made and that its folder is "
                    "writable; restore it from a backup if it is damaged",
                )
            ) from exc
        return db

    def close(self) -> None:
        """Close the connection; committed work is already on disk."""
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: object, exc: BaseException | None, trace: object) -> None:
        """Close the store; a damaged file met by a query in the block is named as such
        (:class:`StoreError`, exit status 4) rather than left as a raw SQLite error."""
        self.close()
        if exc is not None and is_damaged(exc):
            raise damaged_store(str(self.path), exc) from exc

    # -- schema -----------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        """The number of migrations applied to this store."""
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        """Bring the schema up to this dshift's, one all-or-nothing migration at a time."""
        current = self.schema_version
        if current > len(MIGRATIONS):
            raise StoreError(
                f"{self.path} has schema version {current}, newer than this dshift "
                f"({__version__}) knows ({len(MIGRATIONS)})",
                "upgrade dshift (pip install -U discourse-shift) before using this workspace",
            )
        if current < len(MIGRATIONS) and self._refusal is not None:
            raise self._refusal
        if current < len(MIGRATIONS) and self.read_only:
            raise StoreError(
                f"the corpus store {self.path} has schema version {current}, this dshift "
                f"({__version__}) needs {len(MIGRATIONS)}, and the store is read-only here so "
                "it cannot be upgraded",
                "run any dshift command once where the workspace can be written (it upgrades "
                "the store), or copy the workspace to a folder you can write",
            )
        for number, migration in enumerate(MIGRATIONS[current:], start=current + 1):
            try:
                self.db.executescript(
                    f"BEGIN IMMEDIATE;\n{migration()};\nPRAGMA user_version = {number};\nCOMMIT;"
                )
            except sqlite3.Error as exc:
                self._rollback()
                raise (
                    write_failure(self.path, exc)
                    or StoreError(
                        f"migrating {self.path} to schema {number} failed: {exc}",
                        "restore the store from a backup and report this",
                    )
                ) from exc

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a block as one all-or-nothing write transaction.

        If the block raises, nothing it wrote is kept. A failure of the disk or of access
        (disk full, read-only, disk error) is raised as :class:`StoreError` that says how to go
        on; other exceptions are raised unchanged.

        Raises:
            StoreError: if the store is read-only or the write could not be completed.
        """
        if self.read_only:
            raise self._refusal or read_only_error(self.path)
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self._raise_write_failure(exc)
        try:
            yield self.db
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            self._raise_write_failure(exc)
        except BaseException:
            self._rollback()
            raise

    def _raise_write_failure(self, exc: sqlite3.Error) -> NoReturn:
        """Raise ``exc`` as the :class:`StoreError` a user can act on, or as it is."""
        failure = write_failure(self.path, exc)
        if failure is None:
            raise exc
        raise failure from exc

    def _rollback(self) -> None:
        """Undo the open transaction, if SQLite has not already undone it (as after a full
        disk). A rollback that fails leaves nothing behind either: SQLite ignores an
        uncommitted tail of the journal when it next opens the store."""
        if self.db.in_transaction:
            with suppress(sqlite3.Error):
                self.db.execute("ROLLBACK")

    def integrity_ok(self) -> bool:
        """Return whether SQLite finds the store file whole (``PRAGMA integrity_check``)."""
        return self.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    # -- runs -------------------------------------------------------------------------------

    def start_run(self, command: str, arguments: dict[str, Any]) -> str:
        """Record the start of a run and return its id."""
        run_id = new_run_id()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO runs (id, command, arguments, pipeline_version, started_at, status, "
                "pid) "
                "VALUES (?, ?, ?, ?, ?, 'running', ?)",
                (
                    run_id,
                    command,
                    json.dumps(arguments, sort_keys=True, default=str),
                    __version__,
                    utc_now(),
                    os.getpid(),
                ),
            )
        return run_id

    @contextmanager
    def recorded_run(self, command: str, arguments: dict[str, Any]) -> Iterator[RunRecord]:
        """Record a run around a block: 'failed' or 'interrupted' if the block raises, else the
        record's status (default 'completed'), with its counts either way.

        If the block raises and the run cannot be marked (the disk is full), the block's own
        error is raised and the run stays 'running' until the next run under the workspace lock
        marks it interrupted (:meth:`mark_interrupted_runs`).
        """
        record = RunRecord(self.start_run(command, arguments))
        try:
            yield record
        except BaseException as exc:
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            with suppress(StoreError):
                self.finish_run(record.id, status, record.counts)
            raise
        self.finish_run(record.id, record.status, record.counts)

    def finish_run(self, run_id: str, status: str, counts: dict[str, Any]) -> None:
        """Record the end of run ``run_id`` with its status and counts."""
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET status = ?, ended_at = ?, counts = ? WHERE id = ?",
                (status, utc_now(), json.dumps(counts, sort_keys=True), run_id),
            )

    def mark_interrupted_runs(self) -> list[str]:
        """Mark runs left 'running' by a killed process as interrupted; return their ids.

        Only call this while holding the workspace lock: then no other run can be alive.
        """
        with self.transaction() as db:
            ids = [r[0] for r in db.execute("SELECT id FROM runs WHERE status = 'running'")]
            db.execute(
                "UPDATE runs SET status = 'interrupted', ended_at = COALESCE(ended_at, ?) "
                "WHERE status = 'running'",
                (utc_now(),),
            )
        return ids

    def recent_runs(self, limit: int = 5) -> list[RunRow]:
        rows = self.db.execute(
            "SELECT id, command, started_at, ended_at, status, counts, pipeline_version, pid "
            "FROM runs ORDER BY rowid DESC LIMIT ?",  # insertion order: started_at has only seconds
            (limit,),
        )
        return [RunRow(**{**dict(r), "counts": json.loads(r["counts"])}) for r in rows]

    # -- files and documents ----------------------------------------------------------------

    def cached_sha256(self, path: str, size: int, mtime_ns: int) -> str | None:
        """Return the hash recorded for a file if its size and mtime are unchanged."""
        row = self.db.execute(
            "SELECT sha256 FROM file_cache WHERE path = ? AND size_bytes = ? AND mtime_ns = ?",
            (path, size, mtime_ns),
        ).fetchone()
        return row[0] if row else None

    def remember_files(self, entries: Iterable[tuple[str, int, int, str]]) -> None:
        """Record (path, size, mtime_ns, sha256) of files just hashed."""
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO file_cache (path, size_bytes, mtime_ns, sha256) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(path) DO UPDATE SET size_bytes = excluded.size_bytes, "
                "mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256",
                list(entries),
            )

    def document_ids_by_sha256(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self.db.execute("SELECT sha256, id FROM documents")}

    def sighted_paths(self) -> set[tuple[int, str]]:
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
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO documents (sha256, kind, text, text_sha256, n_chars, n_pages, "
                "size_bytes, extractor, file_info, name, supersedes, run_id, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            doc_id = int(cursor.lastrowid or 0)
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
        with self.transaction():
            self._insert_sighting(doc_id, sighting, run_id, utc_now())

    def _insert_sighting(self, doc_id: int, s: Sighting, run_id: str, now: str) -> None:
        self.db.execute(
            "INSERT INTO document_files (document_id, path, name, size_bytes, mtime_ns, run_id, "
            "seen_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (document_id, path) DO UPDATE SET "
            "size_bytes = excluded.size_bytes, mtime_ns = excluded.mtime_ns",
            (doc_id, s.path, s.name, s.size, s.mtime_ns, run_id, now),
        )

    def document(self, doc_id: int) -> DocumentRow | None:
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
        return str(
            self.db.execute("SELECT text FROM documents WHERE id = ?", (doc_id,)).fetchone()[0]
        )

    def pages(self, doc_id: int) -> list[tuple[int, int]]:
        rows = self.db.execute(
            'SELECT start, "end" FROM pages WHERE document_id = ? ORDER BY page', (doc_id,)
        )
        return [(r[0], r[1]) for r in rows]

    def current_documents(self) -> list[DocumentRow]:
        rows = self.db.execute(
            f"SELECT {_DOC_COLUMNS} FROM documents WHERE superseded_by IS NULL ORDER BY id"
        )
        return [_document(r) for r in rows]

    def file_names(self, doc_id: int) -> list[str]:
        rows = self.db.execute(
            "SELECT DISTINCT name FROM document_files WHERE document_id = ? ORDER BY name",
            (doc_id,),
        )
        return [r[0] for r in rows]

    # -- metadata ---------------------------------------------------------------------------

    def add_metadata(self, doc_id: int, values: list[MetaValue], run_id: str | None) -> None:
        with self.transaction():
            self._insert_metadata(doc_id, values, run_id, utc_now())

    def _insert_metadata(
        self, doc_id: int, values: list[MetaValue], run_id: str | None, now: str
    ) -> None:
        self.db.executemany(
            "INSERT INTO metadata (document_id, field, value, source, detail, run_id, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(doc_id, v.field, v.value, v.source, v.detail, run_id, now) for v in values],
        )

    def metadata(self, doc_id: int) -> list[tuple[MetaValue, str]]:
        """Return every value ever proposed for a document, oldest first, with its time."""
        rows = self.db.execute(
            "SELECT field, value, source, detail, recorded_at FROM metadata WHERE document_id = ? "
            "ORDER BY id",
            (doc_id,),
        )
        return [(MetaValue(r[0], r[1], r[2], r[3]), r[4]) for r in rows]

    def set_resolved(self, doc_id: int, resolved: Resolved) -> None:
        with self.transaction():
            self._write_resolved(doc_id, resolved)

    def _write_resolved(self, doc_id: int, r: Resolved) -> None:
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

    # -- problems ---------------------------------------------------------------------------

    def add_problem(
        self,
        run_id: str,
        stage: str,
        problem: Problem,
        *,
        sha256: str | None = None,
        document_id: int | None = None,
    ) -> None:
        """Record a problem unless the same one (path, code, place) is already open.

        A problem about bytes (``sha256``) is kept per path: two files with the same bytes are
        two files for the user to deal with.
        """
        with self.transaction() as db:
            exists = db.execute(
                "SELECT 1 FROM problems WHERE resolved_at IS NULL AND code = ? AND place = ? AND "
                "((sha256 IS ? AND path = ?) OR document_id = ?)",
                (problem.code, problem.place, sha256, problem.path, document_id),
            ).fetchone()
            if exists:
                return
            db.execute(
                "INSERT INTO problems (run_id, path, sha256, document_id, stage, code, severity, "
                "reason, hint, place, pipeline_version, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    problem.path,
                    sha256,
                    document_id,
                    stage,
                    problem.code,
                    problem.severity,
                    problem.reason,
                    problem.hint,
                    problem.place,
                    __version__,
                    utc_now(),
                ),
            )

    def resolve_problems(
        self,
        run_id: str,
        *,
        codes: Iterable[str],
        sha256: str | None = None,
        document_id: int | None = None,
        path: str | None = None,
    ) -> int:
        """Close open problems of the given codes about one file or document."""
        codes = list(codes)
        marks = ",".join("?" * len(codes))
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE problems SET resolved_at = ?, resolved_by_run = ? "
                f"WHERE resolved_at IS NULL"
                f" AND code IN ({marks}) AND (sha256 = ? OR document_id = ? OR path = ?)",
                (utc_now(), run_id, *codes, sha256, document_id, path),
            )
        return cursor.rowcount

    def copy_open_errors(self, sha256: str, path: str, run_id: str) -> int:
        """Give ``path`` the open ingest errors of the same bytes seen under other paths."""
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO problems (run_id, path, sha256, document_id, stage, code, severity, "
                "reason, hint, place, pipeline_version, created_at) "
                "SELECT ?, ?, sha256, document_id, stage, code, severity, reason, hint, place, "
                "pipeline_version, ? FROM problems p WHERE resolved_at IS NULL AND sha256 = ? "
                "AND stage = 'ingest' AND severity = 'error' AND id = (SELECT MIN(id) FROM "
                "problems q WHERE q.resolved_at IS NULL AND q.sha256 = p.sha256 AND q.code = p.code"
                " AND q.place = p.place) AND NOT EXISTS (SELECT 1 FROM problems o WHERE "
                "o.resolved_at IS NULL AND o.sha256 = p.sha256 AND o.code = p.code AND "
                "o.place = p.place AND o.path = ?)",
                (run_id, path, utc_now(), sha256, path),
            )
        return cursor.rowcount

    def resolve_problems_under(
        self, run_id: str, *, codes: Iterable[str], folder: str, keep: Iterable[str]
    ) -> int:
        """Close open problems of ``codes`` about paths in ``folder`` except those in ``keep``."""
        codes, kept = list(codes), set(keep)
        marks = ",".join("?" * len(codes))
        prefix = folder.rstrip("/") + "/"
        rows = self.db.execute(
            f"SELECT id, path FROM problems WHERE resolved_at IS NULL AND code IN ({marks}) "
            "AND (path = ? OR substr(path, 1, ?) = ?)",
            (*codes, folder, len(prefix), prefix),
        ).fetchall()
        ids = [r[0] for r in rows if r[1] not in kept]
        with self.transaction() as db:
            db.executemany(
                "UPDATE problems SET resolved_at = ?, resolved_by_run = ? WHERE id = ?",
                [(utc_now(), run_id, i) for i in ids],
            )
        return len(ids)

    def link_problems_to_documents(self, sha256: str | None = None) -> None:
        """Set the document of problems recorded by bytes before their document was stored.

        Args:
            sha256: the bytes of the one file just stored (reads only its problems, through
                the ``problems_sha256`` index); None links every stored file's problems.
        """
        with self.transaction() as db:
            if sha256 is None:
                db.execute(
                    "UPDATE problems SET document_id = "
                    "(SELECT id FROM documents d WHERE d.sha256 = problems.sha256) "
                    "WHERE document_id IS NULL AND sha256 IN (SELECT sha256 FROM documents)"
                )
                return
            db.execute(
                "UPDATE problems SET document_id = (SELECT id FROM documents WHERE sha256 = ?) "
                "WHERE sha256 = ? AND document_id IS NULL "
                "AND EXISTS (SELECT 1 FROM documents WHERE sha256 = ?)",
                (sha256, sha256, sha256),
            )

    def undated_documents_never_flagged(self) -> list[tuple[int, str]]:
        """Return (id, first path) of current documents without a date and without any
        'undated' problem, open or closed (a dismissed one stays dismissed)."""
        rows = self.db.execute(
            "SELECT d.id, COALESCE((SELECT path FROM document_files f WHERE f.document_id = d.id "
            "ORDER BY f.id LIMIT 1), d.name) FROM documents d "
            "WHERE d.superseded_by IS NULL AND d.date IS NULL AND NOT EXISTS "
            "(SELECT 1 FROM problems p WHERE p.document_id = d.id AND p.code = 'undated') "
            "ORDER BY d.id"
        )
        return [(r[0], r[1]) for r in rows]

    def resolve_problems_of_dated(self, run_id: str) -> int:
        """Close the open 'undated' problems of documents that now have a date."""
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE problems SET resolved_at = ?, resolved_by_run = ? "
                "WHERE resolved_at IS NULL AND code = 'undated' AND document_id IN "
                "(SELECT id FROM documents WHERE date IS NOT NULL)",
                (utc_now(), run_id),
            )
        return cursor.rowcount

    def dismiss_problems(self, ids: Iterable[int], run_id: str) -> int:
        """Close open problems by id (a user has dealt with them); return how many closed."""
        ids = list(ids)
        marks = ",".join("?" * len(ids))
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE problems SET resolved_at = ?, resolved_by_run = ? "
                f"WHERE resolved_at IS NULL AND id IN ({marks})",
                (utc_now(), run_id, *ids),
            )
        return cursor.rowcount

    def has_open_error(self, sha256: str, pipeline_version: str) -> bool:
        """True if this dshift version already failed on these bytes (no point retrying)."""
        return (
            self.db.execute(
                "SELECT 1 FROM problems WHERE resolved_at IS NULL AND severity = 'error' AND "
                "sha256 = ? AND pipeline_version = ? AND stage = 'ingest'",
                (sha256, pipeline_version),
            ).fetchone()
            is not None
        )

    def open_problems(self) -> list[ProblemRow]:
        rows = self.db.execute(
            "SELECT id, run_id, path, sha256, document_id, stage, code, severity, reason, hint, "
            "place, created_at FROM problems WHERE resolved_at IS NULL ORDER BY id"
        )
        return [ProblemRow(**dict(r)) for r in rows]

    def problems_of_run(self, run_id: str) -> list[ProblemRow]:
        rows = self.db.execute(
            "SELECT id, run_id, path, sha256, document_id, stage, code, severity, reason, hint, "
            "place, created_at FROM problems WHERE run_id = ? ORDER BY id",
            (run_id,),
        )
        return [ProblemRow(**dict(r)) for r in rows]

    # -- summaries --------------------------------------------------------------------------

    def coverage(self) -> list[tuple[int | None, str, int, int]]:
        """Return (year, source_type, documents, pages) over current documents."""
        rows = self.db.execute(
            "SELECT year, source_type, COUNT(*), SUM(n_pages) FROM documents "
            "WHERE superseded_by IS NULL GROUP BY year, source_type ORDER BY year, source_type"
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]
