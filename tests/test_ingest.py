"""The ingest stage end to end on real files: the sample drop, re-runs, versions, metadata."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.documents import set_date
from pipeline.executor import SerialExecutor
from pipeline.ingest.run import IngestSettings, ingest
from pipeline.status import format_summary
from pipeline.workspace import Workspace, init_workspace
from tests.conftest import BACKENDS, SAMPLE, manifest, new_database


def run(workspace: Workspace, *drops: Path, **settings: object):
    with workspace.open_store() as store:
        return ingest(store, list(drops), IngestSettings(**settings), executor=SerialExecutor())


def _store_for(backend: str, request: pytest.FixtureRequest) -> str | None:
    """None for the workspace's own SQLite file, else a new database on the PostgreSQL server."""
    return new_database(request.getfixturevalue("postgres")) if backend == "postgresql" else None


@pytest.fixture(scope="module", params=BACKENDS)
def sample_store(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    """The whole sample drop ingested, into each backend's store."""
    root = tmp_path_factory.mktemp("sample") / "ws"
    workspace = init_workspace(root, _store_for(request.param, request))
    summary = run(workspace, SAMPLE)
    return workspace, summary


@pytest.fixture(params=BACKENDS)
def workspace(tmp_path: Path, request: pytest.FixtureRequest) -> Workspace:
    """A new workspace, its store on each backend."""
    return init_workspace(tmp_path / "ws", _store_for(request.param, request))


def test_sample_drop_is_ingested_with_every_problem_reported(sample_store) -> None:
    _workspace, summary = sample_store
    rows = manifest()
    expected_docs = sum(1 for r in rows if r["expected"] in ("ingest", "warning:scanned-page"))
    assert summary.new == expected_docs
    assert summary.duplicate == sum(1 for r in rows if r["expected"] == "duplicate")
    codes = {(Path(p.path).name, p.code) for p in summary.problems}
    for row in rows:
        kind = row["expected"].partition(":")[2]
        if row["expected"].startswith("problem:"):
            assert (row["file"], kind) in codes
        if row["expected"] == "warning:scanned-page":
            assert (row["file"], "scanned-pages") in codes
    for problem in summary.problems:
        assert problem.hint and problem.reason


def test_metadata_is_inferred_with_provenance(sample_store) -> None:
    workspace, _ = sample_store
    rows = {r["file"]: r for r in manifest()}
    with workspace.open_store() as store:
        documents = store.current_documents()
        dated = right = typed = 0
        for document in documents:
            row = rows.get(document.name)
            if not row or not row["date"]:
                continue
            dated += 1
            right += document.date == row["date"]
            typed += document.source_type == row["source_type"]
            assert document.provenance["date"] in ("sidecar", "text", "filename")
        assert dated >= 45
        assert right / dated >= 0.95
        assert typed / dated >= 0.85
        undated = [d.name for d in documents if d.date is None]
    assert sorted(undated) == sorted(
        r["file"] for r in manifest() if r["expected"] == "ingest" and not r["date"]
    )


def test_rerun_adds_nothing(sample_store) -> None:
    workspace, first = sample_store
    again = run(workspace, SAMPLE)
    assert again.new == again.changed == again.duplicate == 0
    assert again.unchanged == first.new + first.duplicate
    assert again.skipped_known_problems == len(first.errors)


def test_changed_bytes_are_a_new_version(workspace: Workspace, tmp_path: Path) -> None:
    drop1, drop2 = tmp_path / "d1", tmp_path / "d2"
    drop1.mkdir(), drop2.mkdir()
    (drop1 / "note.txt").write_text("Islamabad, 3 May 2016\n\nFirst version.\n", encoding="utf-8")
    (drop2 / "note.txt").write_text("Islamabad, 3 May 2016\n\nCorrected.\n", encoding="utf-8")
    run(workspace, drop1)
    summary = run(workspace, drop2)
    assert summary.changed == 1 and summary.new == 0
    with workspace.open_store() as store:
        current = store.current_documents()
        assert len(current) == 1 and current[0].supersedes is not None
        assert "Corrected." in store.document_text(current[0].id)


def test_same_bytes_under_another_name_are_a_duplicate(
    workspace: Workspace, tmp_path: Path
) -> None:
    drop = tmp_path / "d"
    drop.mkdir()
    shutil.copy(SAMPLE / "ispr_pr_447.pdf", drop / "a.pdf")
    shutil.copy(SAMPLE / "ispr_pr_447.pdf", drop / "b.pdf")
    summary = run(workspace, drop)
    assert (summary.new, summary.duplicate) == (1, 1)
    with workspace.open_store() as store:
        [document] = store.current_documents()
        assert store.file_names(document.id) == ["a.pdf", "b.pdf"]
    # the run summary names the duplicate and what it repeats
    assert summary.duplicate_of == [("b.pdf", f"#{document.id} a.pdf")]
    assert f"b.pdf = #{document.id} a.pdf" in format_summary(summary)


def test_undated_document_is_dated_by_a_later_sidecar_then_by_hand(
    workspace: Workspace, tmp_path: Path
) -> None:
    drop1, drop2 = tmp_path / "d1", tmp_path / "d2"
    drop1.mkdir(), drop2.mkdir()
    (drop1 / "circular.txt").write_text("A consular circular.\n\nNo date here.\n", "utf-8")
    first = run(workspace, drop1)
    assert [p.code for p in first.problems] == ["undated"]
    (drop2 / "metadata.csv").write_text(
        "file,date,source_type\ncircular.txt,2012-03-01,mofa\n", "utf-8"
    )
    second = run(workspace, drop2)
    assert second.metadata_updates == 1
    with workspace.open_store() as store:
        [document] = store.current_documents()
        assert (document.date, document.year, document.source_type) == ("2012-03-01", 2012, "mofa")
        assert document.provenance["date"] == "sidecar"
        assert not [p for p in store.open_problems() if p.code == "undated"]
        updated = set_date(store, "circular.txt", "2012-04-02", note="archive register")
        assert (updated.date, updated.provenance["date"]) == ("2012-04-02", "manual")


def test_bad_sidecar_rows_are_reported_with_line_and_column(
    workspace: Workspace, tmp_path: Path
) -> None:
    drop = tmp_path / "d"
    drop.mkdir()
    (drop / "a.txt").write_text("Islamabad, 3 May 2016\n\nText.\n", "utf-8")
    (drop / "metadata.csv").write_text(
        "file,date,source_type\na.txt,03/05/2016,press\nmissing.txt,2016-01-01,mofa\n", "utf-8"
    )
    summary = run(workspace, drop)
    places = sorted(p.place for p in summary.problems if p.code == "sidecar")
    assert places == ["line 2, column date", "line 2, column source_type", "line 3, column file"]
