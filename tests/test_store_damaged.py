"""A damaged corpus store is named as such (exit status 4), with how to check and restore it.

The store is a real ``corpus.sqlite`` made by ingesting two files; its pages are then
overwritten on disk, as a failing disk or a bad copy would, and the CLI is run as a user runs
it. Nothing is promised about what was kept: the coders' decisions are in that file.
"""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.errors import StoreError
from pipeline.store import connect
from pipeline.workspace import Workspace, init_workspace
from tests.conftest import ROOT

WORDS = "Pakistan China strategic partnership troops operation the and of in with".split()


def dshift(workspace: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "--workspace", str(workspace.root), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


@pytest.fixture
def ingested(tmp_path: Path) -> Workspace:
    """A workspace whose store holds two ingested documents, closed (no -wal left)."""
    workspace = init_workspace(tmp_path / "ws")
    drop = tmp_path / "drop"
    drop.mkdir()
    rng = random.Random(606)
    for year in (2001, 2002):
        sentences = (" ".join(rng.choice(WORDS) for _ in range(15)) + "." for _ in range(300))
        text = f"Islamabad, 20 April {year}\n\n" + " ".join(sentences) + "\n"
        (drop / f"{year}-04-20_mofa_statement.txt").write_text(text, encoding="utf-8")
    result = dshift(workspace, "ingest", str(drop))
    assert result.returncode == 0, result.stderr
    assert not workspace.store_path.with_name("corpus.sqlite-wal").exists()
    return workspace


def overwrite_page_of(store: Path, table: str) -> None:
    """Overwrite the root page of ``table`` (a page in the middle of the file) with junk."""
    db = sqlite3.connect(store)
    try:
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        n_pages = db.execute("PRAGMA page_count").fetchone()[0]
        [(root,)] = db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,))
    finally:
        db.close()
    assert 1 < root < n_pages
    with store.open("r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(bytes(random.Random(root).randrange(256) for _ in range(page_size)))


def assert_says_damaged(result: subprocess.CompletedProcess[str], store: Path) -> None:
    assert "Traceback" not in result.stderr
    assert result.returncode == 4, result.stderr
    assert f"error [store]: the corpus store {store} is damaged" in result.stderr
    assert f"sqlite3 {store} 'PRAGMA integrity_check'" in result.stderr
    assert "backup" in result.stderr and "coder's decision" in result.stderr
    assert "bug" not in result.stderr and "nothing stored was lost" not in result.stderr


def test_a_store_damaged_in_the_middle_is_named_at_query_time(ingested: Workspace) -> None:
    store = ingested.store_path
    overwrite_page_of(store, "documents")  # the schema is whole: the store opens

    assert_says_damaged(dshift(ingested, "status"), store)
    assert_says_damaged(dshift(ingested, "ingest", str(ingested.root.parent / "drop")), store)
    for read_only in (True, None):
        with (
            pytest.raises(StoreError, match="is damaged"),
            connect(store, read_only=read_only) as s,
        ):
            s.current_documents()


def test_a_store_whose_schema_or_header_is_damaged_is_named_at_open_time(
    ingested: Workspace,
) -> None:
    store = ingested.store_path
    with store.open("r+b") as handle:  # page 1 after its 100-byte header: the schema
        handle.seek(100)
        handle.write(b"\xa5" * 3000)
    assert_says_damaged(dshift(ingested, "status"), store)
    for read_only in (True, None):
        with pytest.raises(StoreError, match="is damaged"):
            connect(store, read_only=read_only)

    with store.open("r+b") as handle:  # the header: SQLite no longer sees a database
        handle.write(b"not a database at all")
    assert_says_damaged(dshift(ingested, "status"), store)
    for read_only in (True, None):
        with pytest.raises(StoreError, match="is damaged"):
            connect(store, read_only=read_only)


def test_a_damage_error_that_escaped_the_store_is_still_named() -> None:
    from pipeline.errors import system_failure

    failure = system_failure(sqlite3.DatabaseError("database disk image is malformed"), "/w")
    assert isinstance(failure, StoreError) and failure.exit_code == 4
    assert "/w/corpus/corpus.sqlite is damaged" in failure.message
    assert "PRAGMA integrity_check" in failure.hint and "backup" in failure.hint
    assert system_failure(sqlite3.IntegrityError("UNIQUE constraint failed")) is None
