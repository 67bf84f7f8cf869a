"""Store queries of the review stage: decisions, their source files, review exports."""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass


def _now() -> str:
    from pipeline.store.sqlite import utc_now

    return utc_now()


@dataclass(frozen=True)
class DecisionRow:
    id: int
    segment_id: str
    coder: str
    role: str
    action: str
    codes: list[str]
    machine_codes: list[str]
    note: str
    codebook_version: str
    source: str
    created_at: str
    scope: list[str] | None = None
    """The codes the decision judged; None: every code of the codebook."""
    export_id: str | None = None
    """The review export (sheet) it was filled in on, if any."""


@dataclass(frozen=True)
class NewDecision:
    segment_id: str
    coder: str
    role: str
    action: str
    codes: list[str]
    machine_codes: list[str]
    note: str
    codebook_version: str
    source: str
    scope: list[str] | None = None
    export_id: str | None = None


@dataclass(frozen=True)
class ShownRow:
    """One segment as a review export showed it."""

    segment_id: str
    text_sha: str
    machine_codes: list[str]


@dataclass(frozen=True)
class ReviewExport:
    """What a review export sent, to whom, as what, and what each of its rows showed.

    ``signature`` is None for exports made before sheets were signed (``rows`` is then empty).
    """

    id: str
    kind: str
    coder: str
    role: str
    path: str
    blind: bool
    codebook_version: str
    scope: list[str] | None
    signature: str | None
    rows: list[ShownRow]
    tracks: dict[str, list[str]]
    segment_ids: list[str]


class ReviewQueries:
    """Decisions are only ever inserted; the current state is computed from them."""

    db: sqlite3.Connection

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def workspace_id(self) -> str:
        row = self.db.execute("SELECT value FROM workspace_info WHERE key = 'workspace_id'")
        return str(row.fetchone()[0])

    def active_coder(self) -> str:
        """The machine coder whose tags the workspace reads downstream of coding (set with
        :meth:`set_active_coder`; ``rules.v1`` until then)."""
        from pipeline.coders import DEFAULT_CODER

        row = self.db.execute(
            "SELECT value FROM workspace_info WHERE key = 'active_coder'"
        ).fetchone()
        return str(row[0]) if row else DEFAULT_CODER

    def set_active_coder(self, name: str) -> None:
        """Make ``name`` the machine coder every downstream stage reads."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO workspace_info (key, value) VALUES ('active_coder', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (name,),
            )

    def review_file(self, sha256: str) -> tuple[str, str, str] | None:
        """(path, coder, imported_at) of an already imported file, if any."""
        row = self.db.execute(
            "SELECT path, coder, imported_at FROM review_files WHERE sha256 = ?", (sha256,)
        ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def sheet_key(self) -> bytes:
        """This workspace's key for signing review sheets, made once and kept in the store."""
        with self.transaction() as db:
            row = db.execute("SELECT value FROM workspace_info WHERE key = 'sheet_key'").fetchone()
            if row is None:
                value = secrets.token_hex(32)
                db.execute(
                    "INSERT INTO workspace_info (key, value) VALUES ('sheet_key', ?)", (value,)
                )
            else:
                value = row[0]
        return bytes.fromhex(value)

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
        now = _now()
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO review_files (sha256, path, kind, coder, rows, run_id, imported_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (sha256, path, kind, coder, len(decisions), run_id, now),
            )
            file_id = cursor.lastrowid
            db.executemany(
                "INSERT INTO decisions (segment_id, coder, role, action, codes, machine_codes, "
                "note, codebook_version, source, file_id, created_at, scope, export_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
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
                ],
            )
        return len(decisions)

    def decisions(self, segment_ids: Iterable[str] | None = None) -> list[DecisionRow]:
        """Every decision event, oldest first (optionally for some segments only)."""
        query = (
            "SELECT id, segment_id, coder, role, action, codes, machine_codes, note, "
            "codebook_version, source, created_at, scope, export_id FROM decisions"
        )
        params: list[str] = []
        if segment_ids is not None:
            params = list(segment_ids)
            if not params:
                return []
            query += f" WHERE segment_id IN ({','.join('?' * len(params))})"
        rows = self.db.execute(query + " ORDER BY id", params)
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
        with self.transaction() as db:
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
                    _now(),
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

    def segment_rows(self, segmenter: str) -> list[tuple[str, int, int, int, str]]:
        """(segment id, document id, start, end, document sha256) of current documents."""
        rows = self.db.execute(
            'SELECT s.id, s.document_id, s.start, s."end", d.sha256 FROM segments s '
            "JOIN documents d ON d.id = s.document_id WHERE d.superseded_by IS NULL "
            "AND s.segmenter = ? ORDER BY s.document_id, s.seq",
            (segmenter,),
        )
        return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def machine_tags(self, coder: str, version: str) -> dict[str, list[tuple[str, str, float]]]:
        """segment id -> [(code, top-level code, confidence)] of the machine's tags."""
        out: dict[str, list[tuple[str, str, float]]] = {}
        for segment_id, code, top, confidence in self.db.execute(
            "SELECT segment_id, code, top_code, confidence FROM tags "
            "WHERE coder = ? AND codebook_version = ?",
            (coder, version),
        ):
            out.setdefault(segment_id, []).append((code, top, float(confidence)))
        return out
