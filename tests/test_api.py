"""The library's one door, used as a notebook or the web page would: no CLI involved."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.api import IndexSettings, Project
from pipeline.errors import DshiftError
from pipeline.registry import DEFAULT_CODER
from tests.conftest import SAMPLE


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("api")
    drop = root / "drop"
    drop.mkdir()
    for path in sorted(SAMPLE.glob("*.pdf"))[:8]:
        shutil.copy(path, drop / path.name)
    made = Project.create(root / "ws")
    summary, problems_csv = made.ingest([drop])
    assert summary.files == 8 and problems_csv.exists()
    return made


def test_the_readme_example_runs_end_to_end(project: Project) -> None:
    coded = project.code()
    assert coded.summary.documents > 0 and coded.coder == coded.active == DEFAULT_CODER
    assert coded.codebook.version == project.codebook().codebook.version
    tables = project.index(IndexSettings(n_boot=20))
    assert not tables.tidy.empty and tables.coder == DEFAULT_CODER
    export, refi = project.export(IndexSettings(n_boot=20), formats=["json"], refi=True)
    assert (export.folder / "manifest.json").exists()
    assert {p.name for p in refi} == {"project.qdpx", "codebook.qdc"}
    assert "documents" in project.status()


def test_a_reopened_project_sees_the_same_workspace(project: Project) -> None:
    again = Project.open(project.root)
    assert again.root == project.root
    assert [c.name for c in again.coders() if c.active] == [DEFAULT_CODER]
    assert Project.find(project.root / "nowhere") is None


def test_errors_carry_a_code_and_a_fix(project: Project, tmp_path: Path) -> None:
    with pytest.raises(DshiftError) as missing:
        project.ingest([tmp_path / "no-such-drop"])
    assert missing.value.code == "not-found" and missing.value.hint
    with pytest.raises(DshiftError) as unknown:
        project.use_coder("rules.v9")
    assert unknown.value.code == "usage" and "rules.v1" in unknown.value.hint


def test_a_broken_codebook_does_not_stop_a_drop_from_being_read(tmp_path: Path) -> None:
    made = Project.create(tmp_path / "ws")
    made.codebook_path.write_text("codes: [unclosed\n", encoding="utf-8")
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(sorted(SAMPLE.glob("*.pdf"))[0], drop)
    summary, _ = made.ingest([drop])
    assert summary.new == 1
    with pytest.raises(DshiftError) as broken:
        made.code()
    assert broken.value.code == "codebook"
