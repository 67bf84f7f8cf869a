"""A full disk: the write is undone, the message says to free space, and a re-run resumes.

The workspace lives on a real small file system (a tmpfs of a few megabytes mounted for the
test), filled with a file of zeros. Mounting needs root; without it the tests skip and say so.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.errors import Problem, StoreError, SystemFailure
from pipeline.status import export_problems
from pipeline.store import connect
from pipeline.store.migrations import MIGRATIONS
from pipeline.workspace import Workspace, init_workspace
from tests.conftest import ROOT

WORDS = (
    "Pakistan China strategic partnership troops operation terrorists United States aid "
    "dialogue cleared area the and of in with for relations cooperation economic corridor"
).split()
N_DOCUMENTS = 12


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of 8 MB at tmp_path/disk, unmounted afterwards."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)


def free_bytes(folder: Path) -> int:
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize


def fill(disk: Path, leave: int) -> Path:
    """Fill ``disk`` with zeros until at most ``leave`` bytes are free; return the filler."""
    filler = disk / "filler"
    with filler.open("ab", buffering=0) as handle:
        while (room := free_bytes(disk) - leave) > 0:
            try:
                handle.write(b"\0" * min(room, 1 << 20))
            except OSError:
                break
    return filler


def make_drop(folder: Path) -> Path:
    folder.mkdir()
    rng = random.Random(20011)
    for n in range(N_DOCUMENTS):
        year = 2005 + n
        sentences = [
            " ".join(rng.choice(WORDS) for _ in range(15)).capitalize() + "." for _ in range(250)
        ]
        text = f"Islamabad, 20 April {year}\n\n" + " ".join(sentences) + "\n"
        (folder / f"{year}-04-20_mofa_statement-{n}.txt").write_text(text, encoding="utf-8")
    return folder


def dshift(workspace: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "--workspace", str(workspace.root), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )


def check_whole(workspace: Workspace) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Assert that the store is intact and every document in it complete; return the
    (sha256, name) of its documents and the (command, status) of its runs."""
    uri = workspace.store_path.resolve().as_uri() + "?mode=ro"
    db = sqlite3.connect(uri, uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        for doc_id, n_chars, n_pages, text in db.execute(
            "SELECT id, n_chars, n_pages, text FROM documents"
        ).fetchall():
            assert len(text) == n_chars
            pages = db.execute("SELECT count(*) FROM pages WHERE document_id = ?", (doc_id,))
            assert pages.fetchone()[0] == n_pages
            files = db.execute(
                "SELECT count(*) FROM document_files WHERE document_id = ?", (doc_id,)
            )
            assert files.fetchone()[0] >= 1
        for doc_id, n_segments in db.execute(
            "SELECT c.document_id, count(s.id) FROM coded c LEFT JOIN segments s "
            "ON s.document_id = c.document_id AND s.segmenter = c.segmenter GROUP BY c.rowid"
        ).fetchall():
            assert n_segments > 0, f"document {doc_id} is marked coded but has no segments"
        documents = db.execute("SELECT sha256, name FROM documents ORDER BY id").fetchall()
        runs = db.execute("SELECT command, status FROM runs ORDER BY rowid").fetchall()
    finally:
        db.close()
    return documents, runs


def assert_says_disk_full(result: subprocess.CompletedProcess[str], path: Path) -> None:
    assert "Traceback" not in result.stderr
    assert result.returncode in (4, 9), result.stderr
    assert "is full" in result.stderr and str(path) in result.stderr
    assert "fix: free space on that disk" in result.stderr
    assert "run the same command again: it resumes" in result.stderr


def test_ingest_and_code_on_a_full_disk_stop_cleanly_and_resume(
    small_disk: Path, tmp_path: Path
) -> None:
    workspace = init_workspace(small_disk / "ws")
    drop = make_drop(tmp_path / "drop")
    filler = fill(small_disk, leave=400 * 1024)

    result = dshift(workspace, "ingest", str(drop), "--jobs", "1")
    assert_says_disk_full(result, workspace.store_path)
    stored, _ = check_whole(workspace)
    assert 1 <= len(stored) < N_DOCUMENTS, "the disk filled in the middle of the drop"

    status = dshift(workspace, "status")  # reading still works on the full disk
    assert status.returncode == 0, status.stderr
    assert f"documents: {len(stored)} current" in status.stdout

    filler.unlink()
    result = dshift(workspace, "ingest", str(drop), "--jobs", "1")
    assert result.returncode == 0, result.stderr
    documents, runs = check_whole(workspace)
    assert len(documents) == N_DOCUMENTS == len({sha for sha, _ in documents})
    assert documents[: len(stored)] == stored, "documents stored before the failure are kept"
    assert [status for _, status in runs if status == "running"] == []
    assert runs[-1] == ("ingest", "completed")

    filler = fill(small_disk, leave=400 * 1024)
    result = dshift(workspace, "code")
    assert_says_disk_full(result, workspace.store_path)
    check_whole(workspace)  # each document is coded whole or not at all
    with connect(workspace.store_path, read_only=True) as store:
        [(coded,)] = store.db.execute("SELECT count(DISTINCT document_id) FROM coded")
    assert coded < N_DOCUMENTS
    filler.unlink()
    result = dshift(workspace, "code")
    assert result.returncode == 0, result.stderr
    with connect(workspace.store_path, read_only=True) as store:
        [(coded,)] = store.db.execute("SELECT count(DISTINCT document_id) FROM coded")
    assert coded == N_DOCUMENTS, "the re-run coded what the failed run had not"
    assert check_whole(workspace)[1][-1] == ("code", "completed")


def test_the_lock_and_the_problems_list_on_a_full_disk_say_so(
    small_disk: Path, tmp_path: Path
) -> None:
    workspace = init_workspace(small_disk / "ws")
    listing = workspace.outputs / "problems.csv"
    with connect(tmp_path / "elsewhere.sqlite") as store:
        run = store.start_run("test", {})
        store.add_problem(run, "ingest", Problem("empty-file", "/drop/a.txt"))
        export_problems(store, listing)
        before = listing.read_bytes()
        store.add_problem(run, "ingest", Problem("empty-file", "/drop/b.txt"))
        fill(small_disk, leave=0)
        with pytest.raises(SystemFailure, match="is full") as caught:
            export_problems(store, listing)
    assert str(listing) in caught.value.message and "free space" in caught.value.hint
    assert listing.read_bytes() == before, "the old list is kept whole"
    assert not listing.with_suffix(".tmp").exists()
    assert not (workspace.corpus / ".dshift.lock").exists()
    with pytest.raises(SystemFailure, match="full") as caught, workspace.lock("test"):
        pass
    assert ".dshift.lock" in caught.value.message and "free space" in caught.value.hint


def test_reading_works_on_a_disk_too_full_to_open_the_store_for_writing(
    small_disk: Path,
) -> None:
    workspace = init_workspace(small_disk / "ws")
    filler = fill(small_disk, leave=0)
    status = dshift(workspace, "status")
    assert status.returncode == 0, status.stderr
    assert "read-only here" in status.stdout and "documents: 0 current" in status.stdout
    with connect(workspace.store_path) as store:
        assert store.read_only
        with pytest.raises(StoreError, match="is full") as caught:
            store.start_run("test", {})
        assert "free space" in caught.value.hint
    filler.unlink()
    with connect(workspace.store_path) as store:
        assert (
            not store.read_only and store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        )
        store.start_run("test", {})


SHIPPED_CODEBOOK = ROOT / "pipeline" / "resources" / "codebook.yaml"


def test_init_on_a_full_disk_leaves_no_partial_file_and_a_rerun_completes_it(
    small_disk: Path,
) -> None:
    shipped = SHIPPED_CODEBOOK.read_bytes()
    assert len(shipped) > 24 * 1024
    filler = fill(small_disk, leave=16 * 1024)  # less than the codebook needs
    codebook = small_disk / "ws" / "codebook" / "codebook.yaml"

    with pytest.raises(SystemFailure) as caught:
        init_workspace(small_disk / "ws")
    assert f"the disk holding {codebook} is full" in caught.value.message
    assert "resources" not in caught.value.message, "the copy is named, not its source"
    assert "free space" in caught.value.hint
    assert not codebook.exists(), "no truncated codebook is left"
    assert list(codebook.parent.iterdir()) == [], "nor a temporary file"

    filler.unlink()
    workspace = init_workspace(small_disk / "ws")
    assert codebook.read_bytes() == shipped
    assert (
        (workspace.outputs / "README.txt").read_text(encoding="utf-8").endswith("back that up.\n")
    )
    assert sorted(p.name for p in codebook.parent.iterdir()) == ["codebook.yaml"]
    result = dshift(workspace, "codebook", "check")
    assert result.returncode == 0, result.stderr


def test_init_completes_a_copy_cut_short_and_keeps_a_codebook_the_user_changed(
    tmp_path: Path,
) -> None:
    shipped = SHIPPED_CODEBOOK.read_bytes()
    workspace = init_workspace(tmp_path / "ws")
    codebook = workspace.codebook / "codebook.yaml"
    codebook.write_bytes(shipped[: 24 * 1024])  # what an older dshift left on a full disk
    readme = workspace.outputs / "README.txt"
    readme.write_bytes(b"")
    stale = codebook.with_name(".codebook.yaml.k1l2m3.tmp")  # a killed write's leftover
    stale.write_bytes(shipped[:100])

    init_workspace(workspace.root)
    assert codebook.read_bytes() == shipped
    assert readme.read_text(encoding="utf-8").startswith("Everything in outputs/")
    assert not stale.exists()

    edited = shipped.replace(b"codes:", b"# our local edit\ncodes:", 1)
    assert edited != shipped
    codebook.write_bytes(edited)
    init_workspace(workspace.root)
    assert codebook.read_bytes() == edited, "a codebook the user changed is left alone"
    codebook.write_bytes(shipped[:-200])  # even one the user cut short by hand is a prefix:
    init_workspace(workspace.root)  # nothing they wrote is lost by completing it
    assert codebook.read_bytes() == shipped


def test_init_on_a_disk_filling_at_any_point_says_so_and_a_rerun_completes_it(
    small_disk: Path,
) -> None:
    shipped = SHIPPED_CODEBOOK.read_bytes()
    outcomes = set()
    for n, leave in enumerate(range(8 * 1024, 240 * 1024, 8 * 1024)):
        root = small_disk / f"ws{n}"
        filler = fill(small_disk, leave=leave)
        try:
            init_workspace(root)
            outcomes.add("made")
        except (SystemFailure, StoreError) as exc:  # never a raw OSError or sqlite3 error
            assert "is full" in exc.message and "free space" in exc.hint, exc
            outcomes.add(type(exc).__name__)
        finally:
            filler.unlink()
        workspace = init_workspace(root)
        assert (workspace.codebook / "codebook.yaml").read_bytes() == shipped
        with connect(workspace.store_path) as store:
            assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert store.schema_version == len(MIGRATIONS)
        shutil.rmtree(root)
    assert {"SystemFailure", "StoreError"} <= outcomes, "the disk filled at each stage of init"
