"""Problems: what went wrong with which file or document, open until resolved or dismissed."""

from __future__ import annotations

from collections.abc import Iterable

from pipeline import __version__
from pipeline.core.records import ProblemRow, UndatedDocument
from pipeline.errors import Problem
from pipeline.store.backend import Backend
from pipeline.store.database import utc_now


class ProblemQueries:
    """The problem log of a store (see :class:`~pipeline.store.protocols.Problems`)."""

    def __init__(self, database: Backend) -> None:
        """Query and write through ``database``."""
        self.database = database
        self.db = database.db  # the shared connection, read through; written in transactions

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
        with self.database.transaction() as db:
            same_bytes = "sha256 IS NULL" if sha256 is None else "sha256 = ?"
            exists = db.execute(
                "SELECT 1 FROM problems WHERE resolved_at IS NULL AND code = ? AND place = ? AND "
                f"(({same_bytes} AND path = ?) OR document_id = ?)",
                (
                    problem.code,
                    problem.place,
                    *([] if sha256 is None else [sha256]),
                    problem.path,
                    document_id,
                ),
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
        with self.database.transaction() as db:
            cursor = db.execute(
                "UPDATE problems SET resolved_at = ?, resolved_by_run = ? "
                f"WHERE resolved_at IS NULL"
                f" AND code IN ({marks}) AND (sha256 = ? OR document_id = ? OR path = ?)",
                (utc_now(), run_id, *codes, sha256, document_id, path),
            )
        return cursor.rowcount

    def copy_open_errors(self, sha256: str, path: str, run_id: str) -> int:
        """Give ``path`` the open ingest errors of the same bytes seen under other paths."""
        with self.database.transaction() as db:
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
        with self.database.transaction() as db:
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
        with self.database.transaction() as db:
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

    def undated_documents_never_flagged(self) -> list[UndatedDocument]:
        """Return current documents without a date and without any 'undated' problem, open or
        closed (a dismissed one stays dismissed), each with the first path it was seen at."""
        rows = self.db.execute(
            "SELECT d.id, COALESCE((SELECT path FROM document_files f WHERE f.document_id = d.id "
            "ORDER BY f.id LIMIT 1), d.name) FROM documents d "
            "WHERE d.superseded_by IS NULL AND d.date IS NULL AND NOT EXISTS "
            "(SELECT 1 FROM problems p WHERE p.document_id = d.id AND p.code = 'undated') "
            "ORDER BY d.id"
        )
        return [UndatedDocument(r[0], r[1]) for r in rows]

    def resolve_problems_of_dated(self, run_id: str) -> int:
        """Close the open 'undated' problems of documents that now have a date."""
        with self.database.transaction() as db:
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
        with self.database.transaction() as db:
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
        """Return the problems not resolved or dismissed, oldest first."""
        rows = self.db.execute(
            "SELECT id, run_id, path, sha256, document_id, stage, code, severity, reason, hint, "
            "place, created_at FROM problems WHERE resolved_at IS NULL ORDER BY id"
        )
        return [ProblemRow(**dict(r)) for r in rows]
