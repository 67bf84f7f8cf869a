"""Migrations are recorded by name; stores made before that upgrade with nothing lost."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from pipeline import __version__
from pipeline.errors import StoreError
from pipeline.store import connect
from pipeline.store.migrations import LEDGER, MIGRATIONS, recorded_migrations

NAMES = [m.__name__ for m in MIGRATIONS]


def _old_store(path: Path, applied: int) -> None:
    """Make a store as a dshift from before migration names were recorded left it."""
    db = sqlite3.connect(path, isolation_level=None)
    for number, migration in enumerate(MIGRATIONS[:applied], start=1):
        db.executescript(f"BEGIN;\n{migration()};\nPRAGMA user_version = {number};\nCOMMIT;")
    db.execute(
        "INSERT INTO runs (id, command, arguments, pipeline_version, started_at, status) "
        "VALUES ('r1', 'ingest', '{}', '0.0.9', '2026-01-01T00:00:00+00:00', 'completed')"
    )
    db.execute(
        "INSERT INTO documents (sha256, kind, text, text_sha256, n_chars, n_pages, size_bytes, "
        "extractor, name, run_id, created_at) VALUES ('ab', 'txt', 'Pakistan and China.', "
        "'cd', 19, 1, 19, 'plain', 'a.txt', 'r1', '2026-01-01T00:00:00+00:00')"
    )
    db.close()


def _ledger(path: Path) -> list[tuple[str, str | None, str | None]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(
            f"SELECT name, applied_at, pipeline_version FROM {LEDGER} ORDER BY rowid"
        ).fetchall()
    finally:
        db.close()


def test_a_new_store_records_every_migration_by_name_with_when_and_by_which_dshift(
    tmp_path: Path,
) -> None:
    with connect(tmp_path / "c.sqlite") as store:
        assert store.schema_version == len(MIGRATIONS)
        assert recorded_migrations(store.db) == NAMES
    rows = _ledger(tmp_path / "c.sqlite")
    assert [r[0] for r in rows] == NAMES
    assert all(r[1] and r[1].endswith("+00:00") and r[2] == __version__ for r in rows)


def test_an_old_store_is_upgraded_by_name_with_nothing_lost(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    _old_store(path, applied=3)
    with connect(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        assert [d.name for d in store.current_documents()] == ["a.txt"]
        assert store.document_text(1) == "Pakistan and China."
        assert [r.id for r in store.recent_runs()] == ["r1"]
        assert store.review_export("none") is None  # m004's tables are there
    rows = _ledger(path)
    assert [r[0] for r in rows] == NAMES
    # Applied before names were recorded: no time, no version; the rest: both.
    assert [r[1:] for r in rows[:3]] == [(None, None)] * 3
    assert all(r[1] and r[2] == __version__ for r in rows[3:])
    with connect(path) as store:  # opening again applies nothing and records nothing new
        assert recorded_migrations(store.db) == NAMES
    assert _ledger(path) == rows


def test_an_old_current_store_read_only_is_read_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    _old_store(path, applied=len(MIGRATIONS))
    before = path.read_bytes()
    with connect(path, read_only=True) as store:
        assert store.schema_version == len(MIGRATIONS)
        assert [d.name for d in store.current_documents()] == ["a.txt"]
        assert recorded_migrations(store.db) is None
    assert path.read_bytes() == before
    with connect(path) as store:  # the first writable open records the names
        assert recorded_migrations(store.db) == NAMES
    assert [r[1] for r in _ledger(path)] == [None] * len(MIGRATIONS)


def test_a_store_with_a_migration_this_dshift_does_not_know_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    with connect(path):
        pass
    db = sqlite3.connect(path)
    db.execute(f"INSERT INTO {LEDGER} (name) VALUES ('m999_from_a_fork')")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="m999_from_a_fork") as caught:
        connect(path)
    assert "upgrade dshift" in caught.value.hint


def test_a_failing_migration_keeps_neither_its_changes_nor_its_name(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    _old_store(path, applied=len(MIGRATIONS) - 1)
    # Make the last migration fail: the first thing it creates exists already.
    made = re.search(r"CREATE (?:TABLE|INDEX) (\w+)", MIGRATIONS[-1]())
    assert made is not None
    db = sqlite3.connect(path)
    db.execute(f"CREATE TABLE {made.group(1)} (x)")
    db.close()
    with pytest.raises(StoreError, match=f"schema {len(MIGRATIONS)} failed"):
        connect(path)
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) - 1
        names = [r[0] for r in db.execute(f"SELECT name FROM {LEDGER}")]
        assert names == NAMES[:-1]  # the names before it were recorded, in their own step
    finally:
        db.close()
