"""The steps of ingest one by one: scan, then a change to the file, then its hashing or reading.

Each step refuses a file that is not the one the scan saw (review findings 1 and 2).
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.ingest.drop import DropFile, FileChanged, scan
from pipeline.ingest.options import ReadOptions
from pipeline.ingest.read import ReadFailure, read_scanned
from pipeline.ingest.run import IngestSummary, hash_files, sha256_of
from pipeline.workspace import Workspace
from tests.conftest import ROOT
from tests.test_ingest_races import SWAPS, make_drop


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    return make_drop(tmp_path)


def scanned(drop: Path, name: str) -> DropFile:
    (item,) = [f for f in scan([drop]).files if f.name == name]
    return item


# -- finding 1: a file that vanished is one problem, not the end of the batch ----------------


def test_a_file_removed_after_the_scan_is_reported_and_the_others_hashed(
    workspace: Workspace, drop: Path
) -> None:
    files = scan([drop]).files
    (drop / "b-trade.txt").unlink()  # a sync tool removes it between the scan and the hashing
    with workspace.open_store() as store, store.recorded_run("ingest", {}) as run:
        summary = IngestSummary(run.id)
        hashes = hash_files(store, summary, files)
    assert sorted(p.name for p in hashes) == ["a-china.txt", "c-note.txt"]
    (problem,) = summary.problems
    assert (problem.code, problem.path) == ("file-changed", str(drop / "b-trade.txt"))
    assert "it was removed or renamed" in problem.reason


@pytest.mark.parametrize("swap", list(SWAPS))
def test_hashing_refuses_what_was_put_in_place_of_the_scanned_file(drop: Path, swap: str) -> None:
    item = scanned(drop, "c-note.txt")
    change, detail = SWAPS[swap]
    change(item.path)
    # In a subprocess: before the fix, hashing a FIFO blocked for ever.
    script = (
        "import sys, pickle\n"
        "from pipeline.ingest.drop import FileChanged\n"
        "from pipeline.ingest.run import sha256_of\n"
        "try:\n"
        "    print('hashed', sha256_of(pickle.loads(bytes.fromhex(sys.argv[1]))))\n"
        "except FileChanged as exc:\n"
        "    print(exc.problem.code, '|', exc.problem.reason)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, pickle.dumps(item).hex()],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("file-changed |"), result.stdout
    assert detail in result.stdout


@pytest.mark.parametrize("swap", list(SWAPS))
def test_the_worker_refuses_what_was_put_in_place_after_hashing(drop: Path, swap: str) -> None:
    item = scanned(drop, "c-note.txt")
    sha256_of(item)  # the main process hashed the scanned file
    change, detail = SWAPS[swap]
    change(item.path)
    with pytest.raises(ReadFailure) as caught:
        read_scanned(item, ReadOptions())
    assert caught.value.problem.code == "file-changed"
    assert detail in caught.value.problem.reason


def test_the_worker_reads_the_scanned_file_and_a_link_the_scan_accepted(drop: Path) -> None:
    (drop / "d-inside.txt").symlink_to(drop / "a-china.txt")
    for name in ("a-china.txt", "d-inside.txt"):
        assert "strategic partnership" in read_scanned(scanned(drop, name), ReadOptions()).text
    linked = scanned(drop, "d-inside.txt")
    assert linked.follow and not scanned(drop, "a-china.txt").follow
    (drop / "d-inside.txt").unlink()  # the accepted link, re-pointed out of the drop
    (drop / "d-inside.txt").symlink_to(drop.parent / "secret.txt")
    with pytest.raises(FileChanged, match="another file was put in its place"):
        sha256_of(linked)
