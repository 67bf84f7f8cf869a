"""The index stage end to end: index, export (all formats, byte-identical), report, correlate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.errors import DshiftError
from pipeline.indices.correlate import read_covariates
from pipeline.workspace import Workspace, init_workspace
from tests.conftest import BACKENDS, SAMPLE, new_database

DOCS = [
    "2001-09-14_mofa_press-release.pdf",
    "briefing-wk41.pdf",
    "ispr_0347.pdf",
    "2002-05-25_ispr_hatf-v-test.pdf",
    "2006-03-04_joint-statement_us.pdf",
    "2015-04-20_treaty_pak-china-joint-statement.pdf",
    "ispr_pr_447.pdf",
    "2014-06-15_ispr_zarb-e-azb.pdf",
    "consular_circular.pdf",
]


@pytest.fixture(scope="module", params=BACKENDS)
def indexed(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Workspace:
    """The sample documents ingested and coded, on each backend."""
    server = request.getfixturevalue("postgres") if request.param == "postgresql" else None
    store = new_database(server) if server else None
    workspace = init_workspace(tmp_path_factory.mktemp("indexed") / "ws", store)
    drop = workspace.root / "drop"
    drop.mkdir()
    for name in DOCS:
        shutil.copy(SAMPLE / name, drop / name)
    runner = CliRunner()
    args = ["--workspace", str(workspace.root)]
    assert runner.invoke(cli, [*args, "ingest", str(drop), "--jobs", "1"]).exit_code == 0
    assert runner.invoke(cli, [*args, "code"]).exit_code == 0
    return workspace


def invoke(workspace: Workspace, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--workspace", str(workspace.root), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_index_prints_shares_with_intervals(indexed: Workspace) -> None:
    output = invoke(indexed, "index", "--boot", "200")
    assert "2001" in output and "2015" in output and "hedging_balance" in output
    assert "* fewer documents than --min-docs" in output


def test_export_is_complete_traceable_and_byte_identical(
    indexed: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipeline.exports.stage as stage

    # Two runs of the same export give the same bytes, minutes apart too (the Stata time stamp
    # once came from the clock: the test failed whenever its two exports straddled a minute).
    for clock in ("2026-12-01T22:16:59+00:00", "2026-12-01T22:17:01+00:00"):
        monkeypatch.setattr(stage, "utc_now", lambda clock=clock: clock)
        invoke(
            indexed,
            "export",
            "--boot",
            "200",
            "--format",
            "xlsx",
            "--format",
            "dta",
            "--format",
            "json",
        )
    first, second = sorted((indexed.outputs / "exports").iterdir())
    for name in ("indices_tidy", "indices_wide", "segments", "doc_code_matrix", "composites"):
        for suffix in ("csv", "parquet", "json", "dta"):
            a, b = first / f"{name}.{suffix}", second / f"{name}.{suffix}"
            assert a.read_bytes() == b.read_bytes(), f"{a.name} differs between runs"
    manifest = json.loads((first / "manifest.json").read_text("utf-8"))
    assert manifest["run_id"] == first.name
    assert manifest["codebook_version"].startswith("cb-")
    assert {d["sha256"] for d in manifest["documents"]} and manifest["parameters"]["n_boot"] == 200
    assert all("provenance" in d for d in manifest["documents"])
    dictionary = pd.read_csv(first / "data_dictionary.csv")
    tidy_columns = dictionary[dictionary["table"] == "indices_tidy"]
    assert tidy_columns["description"].notna().all()
    segments = pd.read_parquet(first / "segments.parquet")
    assert {"segment_id", "code_path", "evidence", "decided_by", "codebook_version"} <= set(
        segments.columns
    )
    assert (segments["decided_by"] == "machine").all()
    tidy = pd.read_csv(first / "indices_tidy.csv")
    assert set(tidy["breakdown"]) == {"overall", "source_type", "partner"}


def test_report_is_one_self_contained_page(indexed: Workspace) -> None:
    invoke(indexed, "report", "--boot", "100")
    page = (indexed.outputs / "report" / "report.html").read_text("utf-8")
    for heading in (
        "Corpus coverage",
        "Indices",
        "By source type and by partner",
        "Shifts and change points",
        "Problems",
    ):
        assert heading in page
    assert "data:image/png;base64," in page and "<script" not in page
    assert (indexed.outputs / "report" / "figures" / "hedging_balance.svg").exists()


def test_explain_lists_the_segments_behind_a_value(indexed: Workspace) -> None:
    output = invoke(indexed, "explain", "--year", "2015", "--code", "hedging")
    assert "hedging in 2015" in output and "G2" in output


def test_correlate_reads_a_covariate_table(indexed: Workspace, tmp_path: Path) -> None:
    table = tmp_path / "cov.csv"
    table.write_text(
        "year,aid,notes\n2001,10,a\n2002,12,b\n2006,30,c\n2014,8,\n2015,5,d\n", "utf-8"
    )
    result = CliRunner().invoke(
        cli, ["--workspace", str(indexed.root), "correlate", str(table), "--csv"]
    )
    assert result.exit_code == 0, result.output
    assert "left out text columns: notes" in result.stderr
    rows = pd.read_csv(pd.io.common.StringIO(result.stdout))
    assert set(rows["lag"]) == {0, 1} and "n_years" in rows.columns
    assert "associations" in result.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("when,aid\n2001,1\n", "no 'year' column"),
        ("year,aid\n2001,1\n2001,2\n", "year 2001 already on line 2"),
        ("year,aid\n2001,1\n2002,lots\n", "line 3, column aid: 'lots' is not a number"),
        ("year,aid\nabc,1\n", "year 'abc' is not a year"),
    ],
)
def test_bad_covariate_tables_are_explained(text: str, message: str) -> None:
    with pytest.raises(DshiftError, match=message):
        read_covariates(text)


def test_nothing_coded_yet_says_what_to_run(tmp_path: Path) -> None:
    workspace = init_workspace(tmp_path / "empty")
    result = CliRunner().invoke(cli, ["--workspace", str(workspace.root), "index"])
    assert result.exit_code == 1 and "dshift code" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["index", "--boot", "0"], "0 is not in the range x>=1"),
        (["export", "--boot", "0"], "0 is not in the range x>=1"),
        (["index", "--baseline", "2005-2001"], "ends before it starts"),
    ],
)
def test_bad_index_options_are_explained_without_a_traceback(
    indexed: Workspace, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(cli, ["--workspace", str(indexed.root), *args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, ValueError)


def test_index_settings_refuse_what_the_indices_cannot_honour() -> None:
    from pipeline.indices.stage import IndexSettings

    with pytest.raises(DshiftError, match="n_boot must be at least 1"):
        IndexSettings(n_boot=0)
    with pytest.raises(DshiftError, match="period"):
        IndexSettings(period="decade")


def test_report_with_covariates_says_how_to_read_the_correlations(
    indexed: Workspace, tmp_path: Path
) -> None:
    """The caution comes from the correlation stage in the report's inputs (issue 10)."""
    import html

    from pipeline.indices.correlate import CAUTION

    table = tmp_path / "cov.csv"
    table.write_text("year,aid\n2001,10\n2002,12\n2006,30\n2014,8\n2015,5\n", "utf-8")
    invoke(indexed, "report", "--boot", "50", "--covariates", str(table))
    page = (indexed.outputs / "report" / "report.html").read_text("utf-8")
    assert "Outside evidence" in page and html.escape(CAUTION) in page
