"""Bad input and faults at ingest: kills, repeated bad bytes, links and special files, damaged
PDFs. Each test reproduces a failure found in an audit (issue 9, section 4)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.executor import SerialExecutor
from pipeline.ingest import pdf
from pipeline.ingest.options import ReadOptions
from pipeline.ingest.read import ReadFailure, read_file
from pipeline.ingest.run import IngestSettings, ingest
from pipeline.workspace import Workspace
from tests.conftest import ROOT

UNDATED = "A statement on cooperation, trade and the peaceful settlement of disputes, number {}."


def run(workspace: Workspace, *drops: Path, **settings: object):
    with workspace.open_store() as store:
        return ingest(store, list(drops), IngestSettings(**settings), executor=SerialExecutor())


def open_problems(workspace: Workspace) -> list:
    with workspace.open_store() as store:
        return store.open_problems()


# -- 1. flags are derived from the store, so a run after a kill restores them ------------------

_KILL_AFTER = """
import os, signal, sys
from pathlib import Path
from pipeline.executor import SerialExecutor
from pipeline.ingest.run import IngestSettings, ingest
from pipeline.workspace import find_workspace

done = 0
def progress(n):
    global done
    done += n
    if done == int(sys.argv[3]):
        os.kill(os.getpid(), signal.SIGKILL)

with find_workspace(sys.argv[1]).open_store() as store:
    ingest(store, [Path(sys.argv[2])], IngestSettings(), executor=SerialExecutor(),
           progress=progress)
"""


def _undated_drop(folder: Path, count: int) -> Path:
    folder.mkdir()
    for i in range(count):
        (folder / f"note-{chr(97 + i)}.txt").write_text(UNDATED.format(i), encoding="utf-8")
    return folder


def test_undated_flags_of_documents_stored_by_a_killed_run_come_back(
    workspace: Workspace, tmp_path: Path
) -> None:
    drop = _undated_drop(tmp_path / "drop", 6)
    killed = subprocess.run(
        [sys.executable, "-c", _KILL_AFTER, str(workspace.root), str(drop), "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with workspace.open_store() as store:
        stored = {d.id for d in store.current_documents()}
    assert len(stored) == 3  # killed after the third document, before the end of the run

    run(workspace, drop)
    with workspace.open_store() as store:
        documents = store.current_documents()
        undated = [p for p in store.open_problems() if p.code == "undated"]
        assert [r.status for r in reversed(store.recent_runs())] == [
            "interrupted",
            "completed-with-problems",  # the undated warnings
        ]
    assert len(documents) == 6 and all(d.date is None for d in documents)
    assert sorted(p.document_id for p in undated) == sorted(d.id for d in documents)
    assert stored <= {p.document_id for p in undated}

    run(workspace, drop)  # a further run adds no second flag
    assert len([p for p in open_problems(workspace) if p.code == "undated"]) == 6


def test_sidecar_values_recorded_by_a_killed_run_are_filed_by_the_next(
    workspace: Workspace, tmp_path: Path
) -> None:
    from pipeline.models import MetaValue

    drop = _undated_drop(tmp_path / "drop", 1)
    run(workspace, drop)
    (drop / "metadata.csv").write_text("file,date\nnote-a.txt,2012-03-01\n", encoding="utf-8")
    # What a run killed between recording the sidecar's values and filing the document leaves.
    with workspace.open_store() as store, store.recorded_run("ingest", {}) as killed:
        (document,) = store.current_documents()
        value = MetaValue("date", "2012-03-01", "sidecar", "metadata.csv line 2")
        store.add_metadata(document.id, [value], killed.id)
    run(workspace, drop)
    with workspace.open_store() as store:
        (document,) = store.current_documents()
        assert (document.date, document.provenance["date"]) == ("2012-03-01", "sidecar")
        assert not [p for p in store.open_problems() if p.code == "undated"]


def test_a_dismissed_undated_flag_stays_dismissed(workspace: Workspace, tmp_path: Path) -> None:
    drop = _undated_drop(tmp_path / "drop", 2)
    run(workspace, drop)
    first = [p for p in open_problems(workspace) if p.code == "undated"]
    with workspace.open_store() as store, store.recorded_run("dismiss", {}) as record:
        store.dismiss_problems([first[0].id], record.id)
    (drop / "note-z.txt").write_text(UNDATED.format(99), encoding="utf-8")
    run(workspace, drop)
    again = [p for p in open_problems(workspace) if p.code == "undated"]
    assert len(again) == 2 and first[0].document_id not in {p.document_id for p in again}


def test_warnings_written_before_their_document_are_linked_to_it(
    workspace: Workspace, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "2011-05-02_note.txt").write_bytes(
        "Le ministère des affaires étrangères.".encode("cp1252")
    )
    run(workspace, drop)
    with workspace.open_store() as store:
        (document,) = store.current_documents()
        (warning,) = store.open_problems()
    assert warning.code == "bad-encoding" and warning.document_id == document.id


# -- 2. every bad file is reported under its own path -----------------------------------------


def test_bad_files_with_the_same_bytes_are_each_reported(
    workspace: Workspace, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    for name, data in [("a", b"not a pdf at all"), ("b", b"<html>a web page</html>")]:
        for copy in (1, 2):
            (drop / f"{name}{copy}.pdf").write_bytes(data)
    (drop / "x.pdf").write_bytes(b"\x00\x01 binary junk")
    (drop / "x-copy.pdf").write_bytes(b"\x00\x01 binary junk")
    (drop / "empty1.txt").write_bytes(b"")
    (drop / "empty2.pdf").write_bytes(b"")
    summary = run(workspace, drop)
    expected = {
        *((f"{n}{c}.pdf", "not-a-pdf") for n in "ab" for c in (1, 2)),
        ("x.pdf", "not-a-pdf"),
        ("x-copy.pdf", "not-a-pdf"),
        ("empty1.txt", "empty-file"),
        ("empty2.pdf", "empty-file"),
    }
    assert {(Path(p.path).name, p.code) for p in summary.problems} == expected
    stored = {(Path(p.path).name, p.code) for p in open_problems(workspace)}
    assert stored == expected and len(open_problems(workspace)) == 8

    # The same bad bytes under a new path in a later run: that path is reported too, once.
    later = tmp_path / "later"
    later.mkdir()
    (later / "a3.pdf").write_bytes(b"not a pdf at all")
    for _ in range(2):
        summary = run(workspace, drop, later)
        assert summary.skipped_known_problems == 7  # the empty files are not even hashed
        names = [Path(p.path).name for p in open_problems(workspace)]
        assert sorted(names) == sorted([name for name, _ in expected] + ["a3.pdf"])


# -- 3. links are not followed out of the drop; only regular files are opened -----------------


def test_links_out_of_the_drop_are_reported_not_followed(
    workspace: Workspace, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("root:x:0:0:root:/root:/bin/bash", encoding="utf-8")
    (outside / "more.txt").write_text(UNDATED.format(7), encoding="utf-8")
    drop = _undated_drop(tmp_path / "drop", 1)
    (drop / "secret.txt").symlink_to(outside / "secret.txt")
    (drop / "folder").symlink_to(outside, target_is_directory=True)
    (drop / "inside.txt").symlink_to(drop / "note-a.txt")  # points inside: followed
    (drop / "gone.txt").symlink_to(tmp_path / "no-such-file.txt")
    summary = run(workspace, drop)
    codes = {(Path(p.path).name, p.code) for p in summary.problems if p.severity == "error"}
    assert codes == {
        ("secret.txt", "link-outside"),
        ("folder", "link-outside"),
        ("gone.txt", "broken-link"),
    }
    hints = {p.hint for p in summary.problems if p.code == "link-outside"}
    assert all("--follow-links" in hint for hint in hints)
    with workspace.open_store() as store:
        texts = [store.document_text(d.id) for d in store.current_documents()]
    assert len(texts) == 1 and not any("root:x" in t for t in texts)
    assert summary.new == 1 and summary.duplicate == 1  # inside.txt is note-a.txt again

    summary = run(workspace, drop, follow_links=True)
    assert summary.new == 2  # secret.txt and folder/more.txt (folder/secret.txt: same bytes)
    open_codes = {p.code for p in open_problems(workspace) if p.severity == "error"}
    assert open_codes == {"broken-link"}  # the links now followed closed their problems


def test_follow_links_flag_of_the_cli(workspace: Workspace, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text(UNDATED.format(3), encoding="utf-8")
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "linked.txt").symlink_to(outside)
    args = ["--workspace", str(workspace.root), "ingest", str(drop)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0 and "--follow-links" in result.output
    result = CliRunner().invoke(cli, [*args, "--follow-links"])
    assert result.exit_code == 0, result.output
    assert "new 1" in result.output


def test_fifo_socket_and_device_are_skipped_without_opening_them(
    workspace: Workspace, tmp_path: Path
) -> None:
    import socket

    drop = _undated_drop(tmp_path / "drop", 1)
    os.mkfifo(drop / "pipe.txt")
    os.mkfifo(drop / "metadata.csv")  # even a sidecar that is a FIFO is never opened
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(drop / "s.txt"))
    try:
        # In a subprocess: before the fix, ingest blocked for ever opening the FIFO.
        process = subprocess.run(
            [sys.executable, "-m", "pipeline", "-w", str(workspace.root), "ingest", str(drop)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.close()
    assert process.returncode == 0, process.stderr
    assert "new 1" in process.stderr
    (drop / "null.txt").symlink_to("/dev/null")  # a device, reached through a followed link
    run(workspace, drop, follow_links=True)
    problems = {(Path(p.path).name, p.code): p.reason for p in open_problems(workspace)}
    skipped = {name for name, code in problems if code == "not-a-file"}
    assert skipped == {"pipe.txt", "metadata.csv", "s.txt", "null.txt"}
    reasons = " ".join(problems.values())
    assert "FIFO" in reasons and "socket" in reasons and "device" in reasons


# -- 5. a PDF whose parsers give up is a damaged PDF, not a bug --------------------------------


def _pdf(objects: list[bytes]) -> bytes:
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out


def page_tree_loop(path: Path) -> Path:
    """A PDF whose page tree contains itself (its /Pages node is one of its own kids)."""
    content = b"BT /F1 12 Tf 72 720 Td (Hello loop) Tj ET"
    path.write_bytes(
        _pdf(
            [
                b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
                b"/Resources << /Font << /F1 5 0 R >> >> >>",
                b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
                b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            ]
        )
    )
    return path


def test_a_page_tree_loop_is_a_damaged_pdf_with_a_fix(tmp_path: Path) -> None:
    path = page_tree_loop(tmp_path / "page-tree-loop.pdf")
    with pytest.raises(ReadFailure) as caught:
        read_file(path, ReadOptions())
    problem = caught.value.problem
    assert problem.code == "corrupt", problem.reason
    assert "page 2" in problem.detail and "qpdf" in problem.hint


@pytest.mark.parametrize(
    "error",
    [
        RecursionError("maximum recursion depth exceeded"),
        pdf.pdfium.PdfiumError("Failed to load page."),
    ],
    ids=["recursion", "pdfium"],
)
def test_parser_give_ups_are_damage_not_bugs(error: Exception) -> None:
    from pdfminer.pdfparser import PDFSyntaxError

    assert pdf.damage(error)
    assert pdf.damage(PDFSyntaxError("No /Root object!"))
    assert pdf.damage(ValueError("our own mistake")) is None


WILD_LOOP = ROOT.parent / "shared" / "data" / "pdfs-wild" / "page-tree-loop.pdf"


@pytest.mark.skipif(not WILD_LOOP.exists(), reason="shared/ has no page-tree-loop.pdf")
def test_the_wild_page_tree_loop_is_a_damaged_pdf(workspace: Workspace) -> None:
    summary = run(workspace, WILD_LOOP)
    assert [p.code for p in summary.errors] == ["corrupt"]
