"""Files that vanish, turn unreadable or are swapped between the scan of a drop and their reading.

The scan, the hashing and the worker's read are called one after the other, with the change made
in between, so each race is played out the same way every time (review findings 1, 2 and 11).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.executor import Outcome, SerialExecutor
from pipeline.ingest.drop import DropFile, FileChanged, scan
from pipeline.ingest.options import ReadOptions
from pipeline.ingest.read import ReadFailure, read_scanned
from pipeline.ingest.run import IngestSettings, IngestSummary, hash_files, ingest, sha256_of
from pipeline.workspace import Workspace
from tests.conftest import ROOT
from tests.test_ingest_faults import _pdf

STATEMENTS = {
    "a-china.txt": "Pakistan and China reaffirmed their strategic partnership on 20 April 2015.\n",
    "b-trade.txt": "The ministers discussed trade, energy and the settlement of disputes.\n",
    "c-note.txt": "Troops cleared the area in an operation against terrorists in March 2016.\n",
}
SECRET = "root:x:0:0:root:/root:/bin/bash\n"


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir()
    for name, text in STATEMENTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    (tmp_path / "secret.txt").write_text(SECRET, encoding="utf-8")
    return folder


def scanned(drop: Path, name: str) -> DropFile:
    (item,) = [f for f in scan([drop]).files if f.name == name]
    return item


def to_link_outside(path: Path) -> None:
    path.unlink()
    path.symlink_to(path.parent.parent / "secret.txt")


def to_fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def to_other_file(path: Path) -> None:
    other = path.with_name("other.tmp")
    other.write_text(SECRET, encoding="utf-8")
    os.replace(other, path)  # a new inode under the old name


def appended(path: Path) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write("A sentence added by a sync tool still writing the file.\n")


SWAPS: dict[str, tuple[Callable[[Path], None], str]] = {
    "link-outside": (to_link_outside, "it is now a symbolic link"),
    "fifo": (to_fifo, "it is now a FIFO (named pipe)"),
    "replaced": (to_other_file, "another file was put in its place"),
    "appended": (appended, "it was modified"),
}


# -- finding 1: a file that vanished or cannot be read is one problem, not the end of the batch --


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
    assert (problem.code, problem.path) == ("unreadable", str(drop / "b-trade.txt"))
    assert "No such file or directory" in problem.reason
    assert "permissions" in problem.hint


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


class SwapBeforeReading:
    """Runs tasks in this process, after swapping one file: the race, played out every time."""

    def __init__(self, path: Path, change: Callable[[Path], None]) -> None:
        self.path, self.change, self.serial = path, change, SerialExecutor()

    def map_unordered(
        self, fn: Callable[[Any], Any], items: Iterable[Any]
    ) -> Iterator[tuple[Any, Outcome[Any]]]:
        self.change(self.path)
        return self.serial.map_unordered(fn, items)

    def close(self) -> None:
        pass


def test_a_swap_after_hashing_stores_nothing_from_outside_and_the_next_run_reads_it(
    workspace: Workspace, drop: Path
) -> None:
    target = drop / "c-note.txt"
    with workspace.open_store() as store:
        swapper = SwapBeforeReading(target, to_link_outside)
        summary = ingest(store, [drop], IngestSettings(), executor=swapper)
        texts = [store.document_text(d.id) for d in store.current_documents()]
    assert summary.new == 2 and not any("root:x" in t for t in texts)
    (problem,) = summary.errors
    assert (problem.code, problem.path) == ("file-changed", str(target))
    target.unlink()
    target.write_text(STATEMENTS["c-note.txt"], encoding="utf-8")
    with workspace.open_store() as store:
        summary = ingest(store, [drop], IngestSettings(), executor=SerialExecutor())
        assert summary.new == 1 and summary.skipped_known_problems == 0
        assert not [p for p in store.open_problems() if p.code == "file-changed"]


# -- finding 11: the PDF libraries' own warnings do not reach the terminal ----------------------


def damaged_pdf(path: Path) -> Path:
    """A one-page PDF with a garbled xref entry and a font without a descriptor (pdfminer warns)."""
    content = b"BT /F1 12 Tf 72 720 Td (Pakistan and China reaffirmed their partnership) Tj ET"
    data = _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )
    last = data.rindex(b" 00000 n \n")
    path.write_bytes(data[: last - 10] + b"00000(0x01" + data[last:])
    return path


def test_pdfminer_warnings_stay_off_the_terminal(workspace: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "pdfs"
    folder.mkdir()
    damaged_pdf(folder / "2015-04-20_mofa_china.pdf")
    command = [sys.executable, "-m", "pipeline", "-w", str(workspace.root), "ingest"]
    result = subprocess.run(
        [*command, str(folder), "--engine", "pdfplumber", "--jobs", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "new 1" in result.stderr
    assert "Not adding object" not in result.stderr
    assert "FontBBox" not in result.stderr
