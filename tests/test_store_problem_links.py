"""Linking a stored file's problems to its document reads only that file's problems.

The work is measured in SQLite virtual-machine steps (a progress handler called every 100
steps), which is deterministic, rather than in seconds, which are not.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipeline.errors import Problem
from pipeline.ingest.metadata import resolve
from pipeline.models import Extraction, Sighting
from pipeline.store import Store, connect
from pipeline.store.migrations import MIGRATIONS

N_OTHER_PROBLEMS = 20_000


def sha(n: int) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


def add_document(store: Store, run: str, sha256: str) -> int:
    return store.add_document(
        sha256=sha256,
        text_sha256=sha256,
        extraction=Extraction("txt", "Text.", [(0, 5)], {}, "text.v1"),
        sighting=Sighting(f"/drop/{sha256[:8]}.txt", f"{sha256[:8]}.txt", 5, 0),
        metadata=[],
        resolved=resolve([]),
        run_id=run,
        supersedes=None,
    )


def steps(store: Store, sha256: str | None) -> int:
    """Link problems for ``sha256``; return the hundreds of VM steps it took."""
    count = 0

    def tick() -> int:
        nonlocal count
        count += 1
        return 0

    store.db.set_progress_handler(tick, 100)
    try:
        store.link_problems_to_documents(sha256)
    finally:
        store.db.set_progress_handler(None, 100)
    return count


def test_linking_one_file_does_not_scan_every_problem(tmp_path: Path) -> None:
    with connect(tmp_path / "c.sqlite") as store:
        run = store.start_run("test", {})
        with store.transaction() as db:  # problems of files whose documents are not stored
            db.executemany(
                "INSERT INTO problems (run_id, path, sha256, stage, code, severity, reason, "
                "hint, pipeline_version, created_at) VALUES "
                "(?, ?, ?, 'ingest', 'encrypted', 'error', 'r', 'h', 'test', 'now')",
                [(run, f"/drop/{n}.pdf", sha(n)) for n in range(N_OTHER_PROBLEMS)],
            )
        mine, other = sha(-1), sha(-2)
        store.add_problem(run, "ingest", Problem("truncated", "/drop/mine.pdf"), sha256=mine)
        store.add_problem(run, "ingest", Problem("truncated", "/drop/other.pdf"), sha256=other)
        doc = add_document(store, run, mine)
        later = add_document(store, run, other)

        assert steps(store, mine) < 50, "only the problems of this file are read"
        rows = {p.path: p.document_id for p in store.open_problems()}
        assert rows["/drop/mine.pdf"] == doc and rows["/drop/other.pdf"] is None
        assert rows["/drop/0.pdf"] is None

        store.link_problems_to_documents()  # every stored file at once, at the end of a run
        rows = {p.path: p.document_id for p in store.open_problems()}
        assert rows["/drop/other.pdf"] == later and rows["/drop/0.pdf"] is None


def test_problems_are_indexed_by_sha256_after_the_migration(tmp_path: Path) -> None:
    with connect(tmp_path / "c.sqlite") as store:
        assert "m005_problems_by_sha256" in [m.__name__ for m in MIGRATIONS]
        indexes = store.db.execute("PRAGMA index_list(problems)").fetchall()
        columns = {
            row[1]: [c[2] for c in store.db.execute(f"PRAGMA index_info({row[1]})")]
            for row in indexes
        }
        assert ["sha256"] in columns.values()
