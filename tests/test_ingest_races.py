"""Whole ingest runs in which a file vanishes or is swapped between the scan and its reading.

The change is made at a fixed step of the run (right after the real scan, or right before the
real reading), so each race is played out the same way every time (review findings 1, 2, 11).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

import pipeline.ingest.run as ingest_run
from pipeline.executor import Outcome, SerialExecutor
from pipeline.ingest.drop import Drop
from pipeline.ingest.run import IngestSettings, ingest
from pipeline.workspace import Workspace
from tests.conftest import ROOT
from tests.test_ingest_faults import _pdf

STATEMENTS = {
    "a-china.txt": "Pakistan and China reaffirmed their strategic partnership on 20 April 2015.\n",
    "b-trade.txt": "The ministers discussed trade, energy and the settlement of disputes.\n",
    "c-note.txt": "Troops cleared the area in an operation against terrorists in March 2016.\n",
}
SECRET = "root:x:0:0:root:/root:/bin/bash\n"


def make_drop(tmp_path: Path) -> Path:
    """Three statements in ``tmp_path/drop``, and a secret beside the drop."""
    folder = tmp_path / "drop"
    folder.mkdir()
    for name, text in STATEMENTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    (tmp_path / "secret.txt").write_text(SECRET, encoding="utf-8")
    return folder


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    return make_drop(tmp_path)


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
    "removed": (Path.unlink, "it was removed or renamed"),
    "link-outside": (to_link_outside, "it is now a symbolic link"),
    "fifo": (to_fifo, "it is now a FIFO (named pipe)"),
    "replaced": (to_other_file, "another file was put in its place"),
    "appended": (appended, "it was modified"),
}


def change_after_scan(
    monkeypatch: pytest.MonkeyPatch, path: Path, change: Callable[[Path], None]
) -> None:
    """Make ``change`` to ``path`` right after the ingest's real scan of the drop."""
    real_scan = ingest_run.scan

    def scan_then_change(drops: list[Path], *, follow_links: bool = False) -> Drop:
        found = real_scan(drops, follow_links=follow_links)
        change(path)
        return found

    monkeypatch.setattr(ingest_run, "scan", scan_then_change)


def stored_texts(workspace: Workspace) -> list[str]:
    with workspace.open_store() as store:
        return [store.document_text(d.id) for d in store.current_documents()]


# -- finding 1: a file that vanished after the scan is one problem, not the end of the batch ---


def test_a_file_removed_after_the_scan_is_reported_and_the_batch_goes_on(
    workspace: Workspace, drop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = drop / "b-trade.txt"
    change_after_scan(monkeypatch, target, Path.unlink)
    with workspace.open_store() as store:
        summary = ingest(store, [drop], IngestSettings(), executor=SerialExecutor())
    assert summary.new == 2
    (problem,) = summary.errors
    assert (problem.code, problem.path) == ("file-changed", str(target))
    assert problem.reason.endswith("it was not ingested: it was removed or renamed")
    assert problem.hint.startswith("run the ingest again once nothing is writing, moving")


# -- finding 2: what is put in the scanned file's place is never read -------------------------


@pytest.mark.parametrize("swap", ["link-outside", "replaced", "appended"])
def test_a_swap_after_the_scan_stores_nothing_of_what_was_swapped_in(
    workspace: Workspace, drop: Path, monkeypatch: pytest.MonkeyPatch, swap: str
) -> None:
    target = drop / "c-note.txt"
    change, detail = SWAPS[swap]
    change_after_scan(monkeypatch, target, change)
    with workspace.open_store() as store:
        summary = ingest(store, [drop], IngestSettings(), executor=SerialExecutor())
    assert summary.new == 2
    assert not any("root:x" in t or "sync tool" in t for t in stored_texts(workspace))
    (problem,) = summary.errors
    assert (problem.code, problem.path) == ("file-changed", str(target))
    assert detail in problem.reason


_FIFO_AFTER_SCAN = """
import os, sys
from pathlib import Path
import pipeline.ingest.run as ingest_run
from pipeline.executor import SerialExecutor
from pipeline.workspace import find_workspace

real_scan, target = ingest_run.scan, Path(sys.argv[2]) / "c-note.txt"
def scan_then_fifo(drops, *, follow_links=False):
    found = real_scan(drops, follow_links=follow_links)
    target.unlink()
    os.mkfifo(target)
    return found
ingest_run.scan = scan_then_fifo
with find_workspace(sys.argv[1]).open_store() as store:
    summary = ingest_run.ingest(store, [Path(sys.argv[2])], ingest_run.IngestSettings(),
                                executor=SerialExecutor())
print(summary.new, [(p.code, Path(p.path).name) for p in summary.errors])
"""


def test_a_fifo_swapped_in_after_the_scan_does_not_block_the_run(
    workspace: Workspace, drop: Path
) -> None:
    # In a subprocess: before the fix, hashing the FIFO blocked for ever.
    result = subprocess.run(
        [sys.executable, "-c", _FIFO_AFTER_SCAN, str(workspace.root), str(drop)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2 [('file-changed', 'c-note.txt')]"


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


@pytest.mark.parametrize("swap", ["link-outside", "replaced"])
def test_a_swap_after_hashing_stores_nothing_from_outside_and_the_next_run_reads_it(
    workspace: Workspace, drop: Path, swap: str
) -> None:
    target = drop / "c-note.txt"
    with workspace.open_store() as store:
        swapper = SwapBeforeReading(target, SWAPS[swap][0])
        summary = ingest(store, [drop], IngestSettings(), executor=swapper)
    assert summary.new == 2 and not any("root:x" in t for t in stored_texts(workspace))
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
