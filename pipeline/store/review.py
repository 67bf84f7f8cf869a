"""Review: coders' decisions (append-only), the files they came from, review exports."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pipeline.core.records import (
    DecisionRow,
    NewDecision,
    ReviewExport,
    ReviewFile,
    ShownRow,
)
from pipeline.errors import DshiftError
from pipeline.store.backend import Backend
from pipeline.store.database import utc_now


class ReviewQueries:
    """The review data of a store (see :class:`.protocols.Review`).

    Decisions are only ever inserted (triggers refuse an update or a delete); the current state
    is computed from them.
    """

    def __init__(self, database: Backend) -> None:
        """Query and write through ``database``."""
        self.database = database
        self.db = database.db  # the shared connection, read through; written in transactions

    def review_file(self, sha256: str) -> ReviewFile | None:
        """Return the already imported file with these bytes, or None."""
        row = self.db.execute(
            "SELECT path, coder, imported_at FROM review_files WHERE sha256 = ?", (sha256,)
        ).fetchone()
        return ReviewFile(row[0], row[1], row[2]) if row else None

    def add_decisions(
        self,
        decisions: list[NewDecision],
        *,
        sha256: str,
        path: str,
        kind: str,
        coder: str,
        run_id: str,
    ) -> int:
        """Record an imported file and its decisions in one transaction; return how many.

        The file is recorded even when ``decisions`` is empty (a re-save with nothing new), so
        that the same bytes are recognised next time.
        """
        now = utc_now()
        with self.database.transaction() as db:
            # After any other writer (one at a time): the same bytes imported meanwhile by
            # another process (a second coder, a second machine) are seen here.
            earlier = db.execute(
                "SELECT path, coder, imported_at FROM review_files WHERE sha256 = ?", (sha256,)
            ).fetchone()
            if earlier is not None:
                raise DshiftError(
                    f"{path}: the same file was imported while this import ran ({earlier[0]}, "
                    f"coder {earlier[1]}, {earlier[2]}), so nothing was recorded twice",
                    "nothing to do: its decisions are in the store once",
                    code="bad-sheet",
                )
            cursor = db.execute(
                "INSERT INTO review_files (sha256, path, kind, coder, rows, run_id, imported_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (sha256, path, kind, coder, len(decisions), run_id, now),
            )
            file_id = int(cursor.fetchone()[0])
            _insert_decisions(db, decisions, file_id, now)
        return len(decisions)

    def add_web_decisions(self, decisions: list[NewDecision]) -> list[int]:
        """Record decisions made on the review page (no file behind them), all or none; return
        their ids, in order."""
        with self.database.transaction() as db:
            return _insert_decisions(db, decisions, None, utc_now())

    def decisions_of_coder(self, coder: str) -> list[DecisionRow]:
        """Every decision event of one coder (either role), oldest first."""
        return self._decisions("WHERE coder = ? ORDER BY id", [coder])

    def decisions(self, segment_ids: Iterable[str] | None = None) -> list[DecisionRow]:
        """Every decision event, oldest first (optionally for some segments only)."""
        params: list[str] = []
        where = ""
        if segment_ids is not None:
            params = list(segment_ids)
            if not params:
                return []
            where = f"WHERE segment_id IN ({','.join('?' * len(params))}) "
        return self._decisions(where + "ORDER BY id", params)

    def _decisions(self, tail: str, params: list[str]) -> list[DecisionRow]:
        rows = self.db.execute(
            "SELECT id, segment_id, coder, role, action, codes, machine_codes, note, "
            "codebook_version, source, created_at, scope, export_id FROM decisions " + tail,
            params,
        )
        return [
            DecisionRow(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                json.loads(r[5]),
                json.loads(r[6]),
                r[7],
                r[8],
                r[9],
                r[10],
                None if r[11] is None else json.loads(r[11]),
                r[12],
            )
            for r in rows
        ]

    def record_review_export(
        self,
        export_id: str,
        coder: str,
        path: str,
        strategy: str,
        blind: bool,
        segment_ids: list[str],
        *,
        kind: str = "review",
        role: str = "coder",
        codebook_version: str = "",
        scope: list[str] | None = None,
        signature: str | None = None,
        shown: list[ShownRow] | None = None,
        tracks: dict[str, list[str]] | None = None,
    ) -> None:
        """Record a review export and, per segment, what its sheet showed."""
        with self.database.transaction() as db:
            db.execute(
                "INSERT INTO review_exports (id, coder, path, strategy, blind, segments, "
                "created_at, kind, role, codebook_version, scope, signature, tracks) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    export_id,
                    coder,
                    path,
                    strategy,
                    int(blind),
                    json.dumps(segment_ids),
                    utc_now(),
                    kind,
                    role,
                    codebook_version,
                    None if scope is None else json.dumps(sorted(scope)),
                    signature,
                    json.dumps(tracks or {}),
                ),
            )
            db.executemany(
                "INSERT INTO review_shown (export_id, segment_id, text_sha, machine_codes) "
                "VALUES (?, ?, ?, ?)",
                [
                    (export_id, r.segment_id, r.text_sha, json.dumps(sorted(r.machine_codes)))
                    for r in shown or []
                ],
            )

    def review_export(self, export_id: str) -> ReviewExport | None:
        """The review export with this id, with what each row showed; None if unknown."""
        row = self.db.execute(
            "SELECT id, kind, coder, role, path, blind, codebook_version, scope, signature, "
            "tracks, segments FROM review_exports WHERE id = ?",
            (export_id,),
        ).fetchone()
        if row is None:
            return None
        shown = [
            ShownRow(r[0], r[1], json.loads(r[2]))
            for r in self.db.execute(
                "SELECT segment_id, text_sha, machine_codes FROM review_shown "
                "WHERE export_id = ? ORDER BY segment_id",
                (export_id,),
            )
        ]
        return ReviewExport(
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            bool(row[5]),
            row[6],
            None if row[7] is None else json.loads(row[7]),
            row[8],
            shown,
            json.loads(row[9] or "{}"),
            json.loads(row[10]),
        )


_INSERT_DECISION = (
    "INSERT INTO decisions (segment_id, coder, role, action, codes, machine_codes, note, "
    "codebook_version, source, file_id, created_at, scope, export_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _insert_decisions(
    db: Any, decisions: list[NewDecision], file_id: int | None, now: str
) -> list[int]:
    """Insert decision events inside the caller's transaction; return their ids in order (a
    file's many rows go in one batch, without ids)."""
    rows = [
        (
            d.segment_id,
            d.coder,
            d.role,
            d.action,
            json.dumps(sorted(d.codes)),
            json.dumps(sorted(d.machine_codes)),
            d.note,
            d.codebook_version,
            d.source,
            file_id,
            now,
            None if d.scope is None else json.dumps(sorted(d.scope)),
            d.export_id,
        )
        for d in decisions
    ]
    if file_id is not None:
        db.executemany(_INSERT_DECISION, rows)
        return []
    return [int(db.execute(_INSERT_DECISION + " RETURNING id", row).fetchone()[0]) for row in rows]
