"""``dshift doc list``: every current document, filtered, for people and for scripts."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from tests.conftest import SAMPLE, manifest


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("doclist") / "ws"
    run = CliRunner()
    assert run.invoke(cli, ["init", str(folder)]).exit_code == 0
    result = run.invoke(cli, ["--workspace", str(folder), "ingest", str(SAMPLE), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    return folder


def listing(root: Path, *args: str) -> list[dict[str, str]]:
    result = CliRunner().invoke(cli, ["--workspace", str(root), "doc", "list", *args])
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_every_document_is_listed_once_with_its_metadata(root: Path) -> None:
    rows = listing(root, "--format", "csv")
    names = {r["name"] for r in rows}
    stored = {m["file"] for m in manifest() if m["expected"] in ("ingest", "warning:scanned-page")}
    assert stored <= names  # every file read into a document (a duplicate is one of them)
    assert not {m["file"] for m in manifest() if m["expected"].startswith("problem:")} & names
    assert len(names) == len(rows)
    assert {"id", "name", "title", "date", "year", "source_type", "pages", "characters"} <= set(
        rows[0]
    )
    assert all(r["characters"].isdigit() and int(r["characters"]) > 0 for r in rows)


def test_filters_narrow_the_list(root: Path) -> None:
    everything = listing(root, "--format", "csv")
    year = next(r["year"] for r in everything if r["year"])
    by_year = listing(root, "--format", "csv", "--year", year)
    assert by_year and all(r["year"] == year for r in by_year)
    assert len(by_year) < len(everything)
    ispr = listing(root, "--format", "csv", "--source-type", "ispr")
    assert ispr and all(r["source_type"] == "ispr" for r in ispr)
    undated = listing(root, "--format", "csv", "--undated")
    assert all(r["date"] == "" for r in undated)
    assert len(undated) == sum(1 for r in everything if not r["date"])
    with_problems = listing(root, "--format", "csv", "--problems")
    assert all(r["problems"] for r in with_problems)
    if undated:  # an undated document has an open 'undated' problem
        assert "undated" in {p for r in with_problems for p in r["problems"].split(";")}


def test_json_is_for_scripts_and_the_table_for_people(root: Path) -> None:
    run = CliRunner()
    out = run.invoke(cli, ["--workspace", str(root), "doc", "list", "--format", "json"])
    parsed = json.loads(out.stdout)
    assert isinstance(parsed, list) and isinstance(parsed[0]["problems"], list)
    assert isinstance(parsed[0]["id"], int)
    table = run.invoke(cli, ["--workspace", str(root), "doc", "list", "--source-type", "mofa"])
    assert table.exit_code == 0
    lines = table.stdout.strip().splitlines()
    assert lines and all(line.startswith("#") and " mofa " in line for line in lines)
    assert "document(s)" in table.stderr
