"""Coding in worker processes stores exactly what coding in one process stores."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.api import Project
from pipeline.coding.run import CodedDocument, code_task
from pipeline.coding.tasks import CoderSpec, CodingTask, TaskDocument
from pipeline.executor import SerialExecutor
from tests.conftest import ROOT, SAMPLE


def _workspace(root: Path) -> Project:
    drop = root / "drop"
    drop.mkdir(parents=True)
    for path in sorted(SAMPLE.glob("*.pdf"))[:10]:
        shutil.copy(path, drop / path.name)
    project = Project.create(root / "ws")
    project.ingest([drop])
    return project


def _stored(project: Project) -> tuple[set[tuple[object, ...]], set[tuple[object, ...]]]:
    book = project.codebook().codebook
    with project.workspace.open_store() as store:
        # Document ids are given in the order files were read: compare by content instead.
        segments = {
            (s.segment_id, s.start, s.end, s.document_sha256)
            for s in store.segment_rows("sentences.v1")
        }
        tags = {
            (segment, tag.code, tag.top_code, round(tag.confidence, 9))
            for segment, found in store.machine_tags("rules.v1", book.version).items()
            for tag in found
        }
    return segments, tags


def test_two_workers_store_what_one_process_stores(tmp_path: Path) -> None:
    alone, pooled = _workspace(tmp_path / "a"), _workspace(tmp_path / "b")
    one = alone.code()
    two = pooled.code(jobs=2)
    assert one.summary.documents == two.summary.documents == 10
    assert (one.summary.segments, one.summary.tags) == (two.summary.segments, two.summary.tags)
    assert one.summary.per_code == two.summary.per_code
    assert _stored(alone) == _stored(pooled)
    assert pooled.code(jobs=2).summary.documents == 0  # nothing left to code


def test_a_worker_builds_its_coder_once(tmp_path: Path) -> None:
    from pipeline.codebook.load import load_codebook
    from pipeline.coding import run

    book = load_codebook(ROOT / "codebook" / "codebook.yaml")
    spec = CoderSpec("rules.v1", book, tmp_path / "models")
    documents = tuple(
        TaskDocument(n, f"{n:064x}", "Troops secured the border with China.") for n in range(3)
    )
    tasks = [CodingTask(spec, documents[:1], "sentences.v1", "sentence")]
    tasks.append(CodingTask(spec, documents[1:], "sentences.v1", "sentence"))
    run._built.clear()
    outcomes = list(SerialExecutor().map_unordered(code_task, tasks))
    assert len(run._built) == 1
    coded = [c for _, outcome in outcomes for c in outcome.value or []]
    assert len(coded) == 3
    assert all(isinstance(c, CodedDocument) and c.tags for c in coded)
