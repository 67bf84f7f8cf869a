"""The store: migrations, fixed canonical text, problems that are not duplicated."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from pipeline.core.records import PageSpan
from pipeline.errors import Problem, StoreError
from pipeline.ingest.metadata import resolve
from pipeline.models import Extraction, Sighting
from pipeline.store import Store, connect
from pipeline.store.migrations import MIGRATIONS
from tests.conftest import INTEGRITY


def test_new_store_is_migrated_in_wal_mode(tmp_path: Path) -> None:
    with connect(tmp_path / "c.sqlite") as store:
        assert store.schema_version == len(MIGRATIONS)
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with connect(f"sqlite:///{tmp_path / 'c.sqlite'}") as store:
        assert store.schema_version == len(MIGRATIONS)


def test_unknown_scheme_and_newer_schema_are_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"(?s)unsupported store URL scheme 'mysql'.*postgresql"):
        connect("mysql://user:secret@localhost/corpus")
    with pytest.raises(StoreError) as refused:
        connect("mysql://user:secret@localhost/corpus")
    assert "secret" not in str(refused.value)
    db = sqlite3.connect(tmp_path / "new.sqlite")
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(StoreError, match="upgrade dshift"):
        connect(tmp_path / "new.sqlite")


def test_canonical_text_can_never_be_updated(store_url: str) -> None:
    with connect(store_url) as store:
        run = store.start_run("test", {})
        doc = store.add_document(
            sha256="ab" * 32,
            text_sha256="cd" * 32,
            extraction=Extraction("txt", "Text.", [(0, 5)], {}, "text.v1"),
            sighting=Sighting("/drop/a.txt", "a.txt", 5, 0),
            metadata=[],
            resolved=resolve([]),
            run_id=run,
            supersedes=None,
        )
        with pytest.raises(INTEGRITY, match="never change"):
            store.db.execute("UPDATE documents SET text = 'changed' WHERE id = ?", (doc,))
        assert store.document_text(doc) == "Text."


def test_an_open_problem_is_recorded_once(store_url: str) -> None:
    with connect(store_url) as store:
        run = store.start_run("test", {})
        problem = Problem("encrypted", "/drop/x.pdf")
        store.add_problem(run, "ingest", problem, sha256="ef" * 32)
        store.add_problem(run, "ingest", problem, sha256="ef" * 32)
        assert len(store.open_problems()) == 1
        assert store.resolve_problems(run, codes=["encrypted"], path="/drop/x.pdf") == 1
        assert store.open_problems() == []


def test_runs_started_in_one_second_keep_their_order(store_url: str) -> None:
    with connect(store_url) as store:
        ids = [store.start_run(f"run {i}", {}) for i in range(30)]
        assert [r.command for r in store.recent_runs(30)] == [
            f"run {i}" for i in reversed(range(30))
        ]
        assert sorted(ids) == ids


def test_the_lock_holder_marks_only_dead_batch_runs_interrupted(store_url: str) -> None:
    with connect(store_url) as store:
        batch = store.start_run("code", {})
        review = store.start_run("review import", {})  # may be alive: it takes no lock
        assert store.mark_interrupted_runs() == [batch]
        status = {r.id: r.status for r in store.recent_runs(5)}
        assert status == {batch: "interrupted", review: "running"}


def test_a_run_that_raises_is_recorded_as_failed(store_url: str) -> None:
    with connect(store_url) as store:
        with pytest.raises(RuntimeError), store.recorded_run("test", {}) as run:
            run.counts = {"done": 1}
            raise RuntimeError("boom")
        [row] = store.recent_runs(1)
        assert (row.status, row.counts) == ("failed", {"done": 1})
        with store.recorded_run("test", {}) as run:
            run.status = "completed-with-problems"
        assert store.recent_runs(1)[0].status == "completed-with-problems"


def _add_document(store: Store, run: str, text: str) -> int:
    return store.add_document(
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        text_sha256="cd" * 32,
        extraction=Extraction("txt", text, [(0, len(text))], {}, "text.v1"),
        sighting=Sighting("/drop/a.txt", "a.txt", len(text), 0),
        metadata=[],
        resolved=resolve([]),
        run_id=run,
        supersedes=None,
    )


def test_a_full_store_undoes_the_write_and_says_to_free_space(tmp_path: Path) -> None:
    # PRAGMA max_page_count makes SQLite fail with SQLITE_FULL exactly as a full disk does.
    with connect(tmp_path / "c.sqlite") as store:
        run = store.start_run("ingest", {})
        pages = store.db.execute("PRAGMA page_count").fetchone()[0]
        store.db.execute(f"PRAGMA max_page_count = {pages + 2}")
        with pytest.raises(StoreError, match="is full") as caught:
            _add_document(store, run, "Pakistan and China. " * 5000)
        assert str(tmp_path / "c.sqlite") in caught.value.message
        assert "free space" in caught.value.hint and "run the same command again" in (
            caught.value.hint
        )
        assert not store.db.in_transaction
        assert store.db.execute("SELECT count(*) FROM documents").fetchone()[0] == 0
        assert store.db.execute("SELECT count(*) FROM pages").fetchone()[0] == 0
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        store.db.execute("PRAGMA max_page_count = 1073741823")
        doc = _add_document(store, run, "Pakistan and China. " * 5000)
        assert store.pages(doc) == [PageSpan(0, 100000)]


def test_a_run_that_fails_on_a_full_store_is_recorded_as_failed(tmp_path: Path) -> None:
    with connect(tmp_path / "c.sqlite") as store:
        pages = store.db.execute("PRAGMA page_count").fetchone()[0]
        with pytest.raises(StoreError, match="is full"), store.recorded_run("ingest", {}) as run:
            store.db.execute(f"PRAGMA max_page_count = {pages + 1}")
            _add_document(store, run.id, "Troops cleared the area. " * 5000)
        assert [r.status for r in store.recent_runs()] == ["failed"]


def test_a_run_whose_end_cannot_be_recorded_raises_its_own_error(tmp_path: Path) -> None:
    with connect(tmp_path / "c.sqlite") as store:
        with pytest.raises(RuntimeError, match="the block's own"), store.recorded_run("x", {}):
            store.database.read_only = True  # from here on every write is refused, finish_run's too
            raise RuntimeError("the block's own error")
        store.database.read_only = False
        assert [r.status for r in store.recent_runs()] == ["running"]
        store.mark_interrupted_runs()  # what the next run under the lock does
        assert [r.status for r in store.recent_runs()] == ["interrupted"]


def test_other_database_errors_are_raised_as_they_are(tmp_path: Path) -> None:
    with connect(tmp_path / "c.sqlite") as store:
        with pytest.raises(sqlite3.IntegrityError), store.transaction() as db:
            db.execute('INSERT INTO pages (document_id, page, start, "end") VALUES (99, 1, 0, 1)')
        assert not store.db.in_transaction


def test_a_transaction_interrupted_before_it_could_undo_itself_is_undone_by_the_next(
    tmp_path: Path,
) -> None:
    """Ctrl-C or SIGTERM can land between a transaction's BEGIN and the block that rolls it
    back on failure. The next write (marking the run interrupted) must not fail with
    'cannot start a transaction within a transaction', and nothing of the stray may stay."""
    store = connect(tmp_path / "corpus.sqlite")
    run_id = store.start_run("test", {})
    database = store.runs.database  # type: ignore[attr-defined]
    database.db.execute("BEGIN IMMEDIATE")  # as if interrupted right after BEGIN
    database.db.execute(
        "INSERT INTO runs (id, command, arguments, pipeline_version, started_at, status) "
        "VALUES ('stray', 'x', '{}', '0', '2026-01-01T00:00:00Z', 'running')"
    )
    store.finish_run(run_id, "interrupted", {})
    runs = store.recent_runs(10)
    assert [r.status for r in runs if r.id == run_id] == ["interrupted"]
    assert all(r.id != "stray" for r in runs)
    store.close()
