"""The same documents give the same numbers and samples, whatever order they were read in.

Document ids follow the order files were stored (parallel workers finish in any order; drops
come in any order; a store is copied). Intervals and review samples must not depend on it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.codebook.load import load_codebook
from pipeline.indices.settings import IndexSettings
from pipeline.indices.stage import compute_tables
from pipeline.review.select import select
from pipeline.review.sheet_rows import candidates
from pipeline.workspace import Workspace, init_workspace
from tests.conftest import SAMPLE

DOCS = [
    "2006-03-04_joint-statement_us.pdf",
    "2015-04-20_treaty_pak-china-joint-statement.pdf",
    "2014-06-15_ispr_zarb-e-azb.pdf",
    "2001-09-14_mofa_press-release.pdf",
    "2002-05-25_ispr_hatf-v-test.pdf",
]


def _ingested_in_order(root: Path, names: list[str]) -> Workspace:
    workspace = init_workspace(root)
    for n, name in enumerate(names):  # one drop per file: stored in exactly this order
        drop = root / f"drop{n}"
        drop.mkdir()
        shutil.copy(SAMPLE / name, drop / name)
        for args in (["ingest", str(drop), "--jobs", "1"], ["code"]):
            result = CliRunner().invoke(cli, ["--workspace", str(root), *args])
            assert result.exit_code == 0, result.output
    return workspace


def _numbers(workspace: Workspace) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    book = load_codebook(workspace.codebook / "codebook.yaml")
    with workspace.open_store() as store:
        tables = compute_tables(store, book, IndexSettings(n_boot=200), with_change_points=False)
        pool = candidates(store, book, None)
    sample = select(pool, strategy="random", size=8, seed=7)
    return tables.tidy, tables.composites, sample


def test_intervals_and_samples_do_not_depend_on_the_order_documents_were_read(
    tmp_path: Path,
) -> None:
    first = _numbers(_ingested_in_order(tmp_path / "a", DOCS))
    second = _numbers(_ingested_in_order(tmp_path / "b", DOCS[::-1]))
    for ours, theirs in zip(first[:2], second[:2]):
        pd.testing.assert_frame_equal(ours.reset_index(drop=True), theirs.reset_index(drop=True))
    assert first[1]["low"].notna().any()
    assert first[2] == second[2] and len(first[2]) == 8
