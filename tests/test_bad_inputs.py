"""Every kind of bad input is reported with a reason and a fix, and never stops the batch."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from pipeline.executor import LocalExecutor
from pipeline.ingest.read import ReadFailure, ReadOptions, read_file
from pipeline.ingest.run import IngestSettings, ingest
from pipeline.workspace import Workspace
from tests.conftest import SAMPLE, make_pdf


def read_problem(path: Path, **options: object) -> str:
    with pytest.raises(ReadFailure) as caught:
        read_file(path, ReadOptions(**options))
    return caught.value.problem.code


def test_zero_byte_file(tmp_path: Path) -> None:
    (tmp_path / "empty.pdf").write_bytes(b"")
    assert read_problem(tmp_path / "empty.pdf") == "empty-file"


def test_html_named_pdf_says_what_it_really_is(tmp_path: Path) -> None:
    path = tmp_path / "statement.pdf"
    path.write_text("<!DOCTYPE html><html><body><p>Press release</p></body></html>")
    with pytest.raises(ReadFailure) as caught:
        read_file(path, ReadOptions())
    assert caught.value.problem.code == "not-a-pdf"
    assert "HTML" in caught.value.problem.hint


def test_encrypted_corrupt_and_scanned_sample_files() -> None:
    assert read_problem(SAMPLE / "scan_0001.pdf") == "scanned"
    corrupt = [p for p in SAMPLE.glob("*.pdf") if p.name.lower().startswith("mou_culture")]
    assert read_problem(corrupt[0]) == "corrupt"
    encrypted = next(p for p in SAMPLE.glob("*.pdf") if b"/Encrypt" in p.read_bytes())
    assert read_problem(encrypted) == "encrypted"


def test_truncated_pdf_is_read_as_far_as_possible_and_flagged(tmp_path: Path) -> None:
    whole = make_pdf(tmp_path / "whole.pdf", ["Page one text.", "Page two text."])
    data = whole.read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(data[: data.rindex(b"startxref")])
    try:
        extraction = read_file(cut, ReadOptions())
    except ReadFailure as failure:
        assert failure.problem.code in ("corrupt", "no-text")
    else:
        assert "truncated" in [w.code for w in extraction.warnings]


def test_page_and_size_limits(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "long.pdf", [f"Page {i} text." for i in range(5)])
    assert read_problem(path, max_pages=3) == "too-many-pages"
    assert read_problem(path, max_bytes=100) == "too-large"


def _bomb(path: Path, inflated_mb: int) -> Path:
    """A one-page PDF whose content stream inflates from ~1 MB to ``inflated_mb`` MB."""
    stream = zlib.compress(b"0 0 m " * (inflated_mb * 1024 * 1024 // 6), 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))
    return path


@pytest.mark.slow
def test_decompression_bomb_costs_one_worker_not_the_batch(
    workspace: Workspace, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    _bomb(drop / "bomb.pdf", 600)
    (drop / "fine.txt").write_text("Islamabad, 3 May 2016\n\nA fine statement.\n", "utf-8")
    (drop / "fine.pdf").write_bytes((SAMPLE / "briefing-wk41.pdf").read_bytes())
    settings = IngestSettings(jobs=1, timeout=20, max_memory_mb=300)
    with workspace.open_store() as store:
        summary = ingest(store, [drop], settings)
    assert summary.new == 2  # a PDF and a text file read in workers under the same limit
    [problem] = summary.errors
    assert problem.code in ("out-of-memory", "worker-crashed", "timeout", "no-text")


def _sleep(seconds: float) -> float:
    import time

    time.sleep(seconds)
    return seconds


def _allocate(megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


def test_executor_kills_a_hanging_task_and_goes_on() -> None:
    executor = LocalExecutor(jobs=2, timeout=1.0, max_memory_mb=None)
    try:
        results = dict(executor.map_unordered(_sleep, [0.01, 30.0, 0.02]))
    finally:
        executor.close()
    assert results[0.01].value == 0.01 and results[0.02].value == 0.02
    assert results[30.0].failure is not None and results[30.0].failure.kind == "timeout"


def test_executor_memory_limit() -> None:
    executor = LocalExecutor(jobs=1, timeout=30, max_memory_mb=300)
    try:
        results = dict(executor.map_unordered(_allocate, [1, 1000]))
    finally:
        executor.close()
    assert results[1].value == 1024 * 1024
    assert results[1000].failure is not None
    assert results[1000].failure.kind in ("memory", "crashed")


def test_pdf_named_txt_and_text_named_docx_are_refused(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "x.pdf", ["Text."])
    disguised = tmp_path / "statement.txt"
    disguised.write_bytes(pdf.read_bytes())
    with pytest.raises(ReadFailure) as caught:
        read_file(disguised, ReadOptions())
    assert caught.value.problem.code == "wrong-extension"
    assert "rename it" in caught.value.problem.hint and "pdf" in caught.value.problem.hint
    fake_docx = tmp_path / "note.docx"
    fake_docx.write_text("just text")
    assert read_problem(fake_docx) == "wrong-extension"


def test_oversized_file_is_refused_without_reading_it(workspace: Workspace, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    make_pdf(drop / "big.pdf", ["Text. " * 50])
    settings = IngestSettings(read=ReadOptions(max_bytes=100))
    from pipeline.executor import SerialExecutor

    with workspace.open_store() as store:
        summary = ingest(store, [drop], settings, executor=SerialExecutor())
    assert [p.code for p in summary.problems] == ["too-large"]
