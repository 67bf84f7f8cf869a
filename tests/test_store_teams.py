"""A store several coders and machines share: the same guarantees on SQLite and PostgreSQL.

Each test runs on both backends (``store_url``: a SQLite file, and a new database on a real
PostgreSQL server started for the session). Decisions are append-only in the database itself;
several processes importing decisions at once lose and duplicate nothing; the workspace lock
is held across processes; a store moves between backends with one copy, verified.
"""

from __future__ import annotations

import hashlib
import multiprocessing
from pathlib import Path

import pytest

from pipeline.core.records import NewDecision, SegmentToSave
from pipeline.errors import DshiftError, LockedError, StoreError
from pipeline.store import Store, connect
from pipeline.store.copy import TABLES, copy_store
from pipeline.store.migrations import MIGRATIONS
from tests.conftest import INTEGRITY, new_database
from tests.test_store import _add_document

SEGMENTS = 40


def _filled(url: str) -> list[str]:
    """Give the store at ``url`` one document with SEGMENTS segments; return their ids."""
    with connect(url) as store:
        run = store.start_run("test", {})
        text = " ".join(f"Sentence {i} of the release." for i in range(SEGMENTS))
        doc = _add_document(store, run, text)
        ids = [f"s{i:04d}" for i in range(SEGMENTS)]
        segments = [SegmentToSave(s, i, i * 10, i * 10 + 9, 5, []) for i, s in enumerate(ids)]
        store.record_codebook("cb-test", "test", "codebook.yaml", "codes: {}", run)
        store.save_coding(doc, "sentences.v1", "rules.v1", "cb-test", run, segments, [])
        store.finish_run(run, "completed", {})
        return ids


def _decisions(coder: str, segments: list[str]) -> list[NewDecision]:
    return [
        NewDecision(s, coder, "coder", "accept", ["hedging"], ["hedging"], "", "cb-test", "t")
        for s in segments
    ]


def _import(url: str, coder: str, segments: list[str], files: int) -> None:
    """One coder's process: import ``files`` sheets, each with decisions on ``segments``."""
    with connect(url) as store:
        run = store.start_run(f"review import ({coder})", {})
        for n in range(files):
            store.add_decisions(
                _decisions(coder, segments),
                sha256=hashlib.sha256(f"{coder}-{n}".encode()).hexdigest(),
                path=f"/sheets/{coder}-{n}.xlsx",
                kind="sheet",
                coder=coder,
                run_id=run,
            )
        store.finish_run(run, "completed", {})


def test_migrations_are_recorded_by_name(store_url: str) -> None:
    with connect(store_url) as store:
        names = [r[0] for r in store.db.execute("SELECT name FROM schema_migrations")]
        assert sorted(names) == sorted(m.__name__ for m in MIGRATIONS)
        assert store.schema_version == len(MIGRATIONS)
    with connect(store_url) as again:  # opening again migrates nothing
        assert again.schema_version == len(MIGRATIONS)


def test_decisions_are_append_only_in_the_database(store_url: str) -> None:
    segments = _filled(store_url)
    _import(store_url, "amina", segments[:3], 1)
    with connect(store_url) as store:
        with pytest.raises(INTEGRITY, match="append-only"):
            store.db.execute("UPDATE decisions SET codes = '[]'")
        with pytest.raises(INTEGRITY, match="append-only"):
            store.db.execute("DELETE FROM decisions")
        assert [d.codes for d in store.decisions()] == [["hedging"]] * 3


def test_the_same_file_imported_twice_is_refused_and_recorded_once(store_url: str) -> None:
    segments = _filled(store_url)
    _import(store_url, "amina", segments, 1)
    with pytest.raises(DshiftError, match="imported while this import ran"):
        _import(store_url, "amina", segments, 1)
    with connect(store_url) as store:
        assert len(store.decisions()) == SEGMENTS


def test_coders_importing_at_once_lose_and_duplicate_nothing(store_url: str) -> None:
    """Four processes, each a coder importing five sheets of 40 decisions at once."""
    segments = _filled(store_url)
    coders, files = ["amina", "bilal", "chen", "dana"], 5
    context = multiprocessing.get_context("spawn")  # no connection shared through a fork
    workers = [
        context.Process(target=_import, args=(store_url, coder, segments, files))
        for coder in coders
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    with connect(store_url) as store:
        decisions = store.decisions()
        assert len(decisions) == len(coders) * files * SEGMENTS
        assert len({d.id for d in decisions}) == len(decisions)
        for coder in coders:
            mine = [d for d in decisions if d.coder == coder]
            assert len(mine) == files * SEGMENTS
        [(files_recorded,)] = store.db.execute("SELECT count(*) FROM review_files").fetchall()
        assert files_recorded == len(coders) * files
        runs = [r for r in store.recent_runs(10) if r.command.startswith("review import")]
        assert sorted(r.status for r in runs) == ["completed"] * len(coders)


def _hold_lock(url: str, ready: object, release: object) -> None:
    with connect(url) as store, store.workspace_lock("dshift run (the other machine)"):
        ready.set()  # type: ignore[attr-defined]
        release.wait(60)  # type: ignore[attr-defined]


def test_the_workspace_lock_of_a_postgresql_store_is_held_across_processes(
    postgres: str,
) -> None:
    """(A SQLite store's lock is its workspace's lock file: tests/test_api.py.)"""
    store_url = new_database(postgres)
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock, args=(store_url, ready, release))
    holder.start()
    try:
        assert ready.wait(60)
        with (
            connect(store_url) as store,
            pytest.raises(LockedError, match="the other machine"),
            store.workspace_lock("dshift code"),
        ):
            pass
    finally:
        release.set()
        holder.join(60)
    with connect(store_url) as store, store.workspace_lock("dshift code"):
        pass  # free again once the holder is gone


def _coded_store(url: str) -> None:
    segments = _filled(url)
    _import(url, "amina", segments[:10], 2)
    with connect(url) as store:
        store.set_active_coder("learned.v1")
        store.sheet_key()
        store.add_coder_account("bilal", "adjudicator", "0" * 64)
        store.add_web_decisions(_decisions("bilal", segments[10:11]))  # no file behind it


def _content(store: Store) -> dict[str, list[tuple[object, ...]]]:
    found = {}
    for table in TABLES:
        cursor = store.db.execute(f"SELECT * FROM {table} LIMIT 0")
        columns = sorted(c[0] for c in cursor.description if c[0] != "rowid")
        rows = store.db.execute(
            f"SELECT {', '.join(chr(34) + c + chr(34) for c in columns)} FROM {table}"
        )
        found[table] = sorted((tuple(r) for r in rows), key=repr)
    return found


def test_a_store_moves_between_backends_with_everything_it_holds(
    store_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """SQLite -> PostgreSQL and PostgreSQL -> SQLite: every row, ids and keys included."""
    _coded_store(store_url)
    if store_url.startswith("postgresql://"):
        target = str(tmp_path / "moved.sqlite")
    else:
        target = new_database(request.getfixturevalue("postgres"))
    report = copy_store(store_url, target)
    assert all(t.verified for t in report.tables)
    assert {t.table: t.rows for t in report.tables}["decisions"] == 21
    assert {t.table: t.rows for t in report.tables}["coder_accounts"] == 1
    with connect(store_url) as source, connect(target) as copy:
        assert _content(copy) == _content(source)
        assert copy.workspace_id() == source.workspace_id()
        assert copy.sheet_key() == source.sheet_key()
        assert copy.active_coder() == "learned.v1"
        # New rows after the move take new ids, not ones the copy already holds.
        _import(target, "bilal", [d.segment_id for d in copy.decisions()][:1], 1)
        ids = [d.id for d in copy.decisions()]
        assert len(set(ids)) == len(ids) == 22


def test_a_copy_into_a_store_that_holds_data_is_refused(store_url: str, tmp_path: Path) -> None:
    _filled(store_url)
    other = tmp_path / "other.sqlite"
    _filled(str(other))
    with pytest.raises(StoreError, match="not empty"):
        copy_store(str(other), store_url)
    with connect(store_url) as store:
        [(documents,)] = store.db.execute("SELECT count(*) FROM documents").fetchall()
        assert documents == 1


def test_a_password_in_the_url_is_never_shown(postgres: str) -> None:
    url = postgres.replace("dshift@", "dshift:hunter2@").rsplit("/", 1)[0] + "/nosuchdb"
    with pytest.raises(StoreError) as refused:
        connect(url)
    assert "hunter2" not in str(refused.value)
    assert "***" in str(refused.value)


def test_a_large_coding_is_stored_whole_and_once(store_url: str) -> None:
    """Hundreds of rows at once (PostgreSQL takes them by COPY) with the same conflicts kept."""
    from pipeline.core.records import CodingToSave, TagToSave

    with connect(store_url) as store:
        run = store.start_run("code", {})
        text = "word " * 4000
        doc = _add_document(store, run, text)
        store.record_codebook("cb-test", "test", "codebook.yaml", "codes: {}", run)
        segments = [SegmentToSave(f"s{i:04d}", i, i * 5, i * 5 + 4, 1, ["us"]) for i in range(700)]
        tags = [
            TagToSave(s.id, "alignment.aid", "alignment", 0.25 + i / 1000, ["us"], [{"x": "é"}])
            for i, s in enumerate(segments)
        ]
        coding = CodingToSave(doc, "sentences.v1", "rules.v1", "cb-test", run, segments, tags)
        store.save_codings([coding])
        store.save_codings([coding])  # again: nothing twice (ON CONFLICT DO NOTHING)
        counts = {
            t: store.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("segments", "tags", "segment_partners", "coded")
        }
        assert counts == {"segments": 700, "tags": 700, "segment_partners": 700, "coded": 1}
        [tag] = store.tags_of_segment("s0699")
        assert (tag.confidence, tag.partners, tag.evidence) == (0.25 + 0.699, ["us"], [{"x": "é"}])
        assert store.segment("s0699") is not None
        if store.dialect == "postgresql":  # the rows went by COPY, through staging tables
            staged = "SELECT count(*) FROM pg_class WHERE relname LIKE 'dshift_stage_%'"
            assert store.db.execute(staged).fetchone()[0] >= 3


def test_a_big_sheet_keeps_its_decisions_in_order(store_url: str) -> None:
    segments = _filled(store_url)
    decisions = [
        NewDecision(segments[i % SEGMENTS], "amina", "coder", "accept", [], [], f"{i:04d}",
                    "cb-test", "t")
        for i in range(500)
    ]  # fmt: skip
    with connect(store_url) as store:
        run = store.start_run("review import", {})
        store.add_decisions(
            decisions, sha256="b" * 64, path="big.xlsx", kind="sheet", coder="amina", run_id=run
        )
        recorded = store.decisions()
    assert [d.note for d in recorded] == [f"{i:04d}" for i in range(500)]
    assert [d.id for d in recorded] == sorted(d.id for d in recorded)


def test_a_role_that_may_only_read_reads_and_is_told_why_it_cannot_write(postgres: str) -> None:
    import psycopg

    url = new_database(postgres)
    _filled(url)
    database = url.rsplit("/", 1)[1]
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("CREATE ROLE reader LOGIN")
        db.execute(f'GRANT CONNECT ON DATABASE "{database}" TO reader')
        db.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader")
    reader = url.replace("postgresql://dshift@", "postgresql://reader@")
    with connect(reader) as store:
        assert len(store.frame_segments("sentences.v1")) == SEGMENTS
        with pytest.raises(StoreError, match="this role may not write") as refused:
            store.start_run("code", {})
        assert "grant this role INSERT, UPDATE and DELETE" in str(refused.value)  # the fix
        assert store.recent_runs(1)[0].command == "test"  # nothing of the write was kept


def test_a_table_the_copy_does_not_know_stops_it_before_anything_is_written(
    store_url: str, tmp_path: Path
) -> None:
    with connect(store_url) as store:
        store.db.execute("CREATE TABLE added_later (n INTEGER)")
    with pytest.raises(StoreError, match="cannot copy: added_later"):
        copy_store(store_url, str(tmp_path / "copy.sqlite"))
    with connect(tmp_path / "copy.sqlite") as target:
        assert target.db.execute("SELECT count(*) FROM runs").fetchone()[0] == 0


def test_review_page_accounts_and_decisions_on_either_backend(store_url: str) -> None:
    segments = _filled(store_url)
    with connect(store_url) as store:
        made = store.add_coder_account("amina", "coder", "a" * 64)
        assert made.role == "coder" and made.disabled_at is None
        with pytest.raises(DshiftError, match="already"):
            store.add_coder_account("amina", "adjudicator", "b" * 64)
        assert store.coder_by_token("a" * 64) == made
        store.replace_coder_token("amina", "c" * 64)
        assert store.coder_by_token("a" * 64) is None  # the old token stops working
        assert store.coder_by_token("c" * 64).name == "amina"  # type: ignore[union-attr]
        with pytest.raises(DshiftError, match="no coder account"):
            store.replace_coder_token("nobody", "d" * 64)
        with pytest.raises(INTEGRITY):
            store.add_coder_account("omar", "editor", "e" * 64)  # not a role
        ids = store.add_web_decisions(_decisions("amina", segments[:3]))
        assert len(ids) == 3 and ids == sorted(ids)
        ids += store.add_web_decisions(_decisions("bilal", segments[:1]))
        mine = store.decisions_of_coder("amina")
        assert [d.id for d in mine] == ids[:3] and {d.coder for d in mine} == {"amina"}
        rows = store.db.execute("SELECT count(*) FROM decisions WHERE file_id IS NULL")
        assert rows.fetchone()[0] == 4
        doc = store.segment(segments[0]).document_id  # type: ignore[union-attr]
        assert [s.id for s in store.document_segments(doc, "sentences.v1")] == segments
        with pytest.raises(INTEGRITY):
            store.db.execute("DELETE FROM decisions WHERE coder = 'amina'")
