"""Runs and the file cache: what ran when and how it ended, and hashes of files already read."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta, timezone
from typing import Any

from pipeline import __version__
from pipeline.core import UNLOCKED_COMMANDS
from pipeline.core.records import RunRecord, RunRow
from pipeline.errors import StoreError
from pipeline.store.backend import Backend
from pipeline.store.database import utc_now

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


class RunQueries:
    """The runs and file cache of a store (see :class:`.protocols.RunLog`)."""

    def __init__(self, database: Backend) -> None:
        """Query and write through ``database``."""
        self.database = database
        self.db = database.db  # the shared connection, read through; written in transactions

    def start_run(self, command: str, arguments: dict[str, Any]) -> str:
        """Record the start of a run and return its id."""
        run_id = new_run_id()
        with self.database.transaction() as db:
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
        with self.database.transaction() as db:
            db.execute(
                "UPDATE runs SET status = ?, ended_at = ?, counts = ? WHERE id = ?",
                (status, utc_now(), json.dumps(counts, sort_keys=True), run_id),
            )

    def mark_interrupted_runs(self) -> list[str]:
        """Mark runs left 'running' by a killed process as interrupted; return their ids.

        Only call this while holding the workspace lock: then no other run of a command that
        takes it can be alive. Runs of :data:`~pipeline.core.UNLOCKED_COMMANDS` are left alone.
        """
        unlocked = ", ".join("?" for _ in UNLOCKED_COMMANDS)
        where = f"status = 'running' AND command NOT IN ({unlocked})"
        with self.database.transaction() as db:
            ids = [
                r[0] for r in db.execute(f"SELECT id FROM runs WHERE {where}", UNLOCKED_COMMANDS)
            ]
            db.execute(
                "UPDATE runs SET status = 'interrupted', ended_at = COALESCE(ended_at, ?) "
                f"WHERE {where}",
                (utc_now(), *UNLOCKED_COMMANDS),
            )
        return ids

    def recent_runs(self, limit: int = 5) -> list[RunRow]:
        """Return the last ``limit`` runs, the latest first."""
        rows = self.db.execute(
            "SELECT id, command, started_at, ended_at, status, counts, pipeline_version, pid "
            "FROM runs ORDER BY rowid DESC LIMIT ?",  # insertion order: started_at has only seconds
            (limit,),
        )
        return [RunRow(**{**dict(r), "counts": json.loads(r["counts"])}) for r in rows]

    def cached_sha256(self, path: str, size: int, mtime_ns: int) -> str | None:
        """Return the hash recorded for a file if its size and mtime are unchanged."""
        row = self.db.execute(
            "SELECT sha256 FROM file_cache WHERE path = ? AND size_bytes = ? AND mtime_ns = ?",
            (path, size, mtime_ns),
        ).fetchone()
        return row[0] if row else None

    def remember_files(self, entries: Iterable[tuple[str, int, int, str]]) -> None:
        """Record (path, size, mtime_ns, sha256) of files just hashed."""
        with self.database.transaction() as db:
            db.executemany(
                "INSERT INTO file_cache (path, size_bytes, mtime_ns, sha256) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(path) DO UPDATE SET size_bytes = excluded.size_bytes, "
                "mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256",
                list(entries),
            )
