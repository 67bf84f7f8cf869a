"""The stages on a PostgreSQL store give what they give on SQLite: same segments, tags,
decisions and indices, through the commands a user types (``--store``, ``dshift.toml``)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.store import connect
from pipeline.workspace import Workspace, init_workspace
from tests.conftest import SAMPLE, new_database
from tests.test_review import DOCS, fill


def _dshift(workspace: Workspace, store: str | None, *args: str, code: int = 0) -> str:
    where = ["--store", store] if store else []
    result = CliRunner().invoke(cli, ["--workspace", str(workspace.root), *where, *args])
    assert result.exit_code == code, result.output
    return result.output


def _pipeline(root: Path, store: str | None) -> dict[str, object]:
    """Ingest, code, review (one sheet, every row accepted or rejected), index and export."""
    workspace = init_workspace(root)
    drop = root / "drop"
    drop.mkdir()
    for name in DOCS:
        shutil.copy(SAMPLE / name, drop / name)
    _dshift(workspace, store, "ingest", str(drop), "--jobs", "1")
    _dshift(workspace, store, "code")
    output = _dshift(
        workspace, store, "review", "export", "--coder", "amina", "--size", "6",
        "--strategy", "all-coded",
    )  # fmt: skip
    sheet = Path(output.strip().splitlines()[0])
    fill(sheet, {row: ("accept" if row % 2 else "reject", "") for row in range(2, 8)})
    _dshift(workspace, store, "review", "import", str(sheet))
    _dshift(workspace, store, "export")
    folder = sorted((root / "outputs" / "exports").iterdir())[-1]
    with (folder / "indices_tidy.csv").open(encoding="utf-8") as handle:
        indices = sorted(
            tuple(v for k, v in row.items() if "run" not in k) for row in csv.DictReader(handle)
        )
    with connect(store or str(workspace.store_path)) as opened:

        def rows(sql: str) -> list[tuple[object, ...]]:
            return sorted(tuple(r) for r in opened.db.execute(sql))

        return {
            "segments": rows('SELECT id, start, "end" FROM segments'),
            "tags": rows("SELECT segment_id, code, coder FROM tags"),
            "decisions": rows("SELECT segment_id, coder, action, codes FROM decisions"),
            "indices": indices,
        }


def test_a_drop_reviewed_and_indexed_on_postgresql_matches_sqlite(
    tmp_path: Path, postgres: str
) -> None:
    on_sqlite = _pipeline(tmp_path / "a", None)
    on_postgres = _pipeline(tmp_path / "b", new_database(postgres))
    assert on_sqlite["segments"] and on_sqlite["tags"] and len(on_sqlite["decisions"]) == 6
    for part in ("segments", "tags", "decisions", "indices"):
        assert on_postgres[part] == on_sqlite[part], part
    with connect(tmp_path / "b" / "corpus" / "corpus.sqlite") as local:  # made by init
        assert local.db.execute("SELECT count(*) FROM documents").fetchone()[0] == 0


def test_the_workspace_settings_file_points_at_the_store(tmp_path: Path, postgres: str) -> None:
    url = new_database(postgres)
    workspace = init_workspace(tmp_path / "ws")
    (workspace.root / "dshift.toml").write_text(f'[store]\nurl = "{url}"\n', encoding="utf-8")
    assert url.split("@")[1] in _dshift(workspace, None, "status")
    (workspace.root / "dshift.toml").write_text("[store\nurl = 1", encoding="utf-8")
    assert "dshift.toml is not valid TOML" in _dshift(workspace, None, "status", code=2)


def test_a_coder_imports_a_sheet_while_a_batch_holds_the_workspace(
    store_url: str, tmp_path: Path
) -> None:
    """Review commands take no workspace lock; batch commands still wait for each other."""
    store = None if store_url.endswith(".sqlite") else store_url
    workspace = init_workspace(tmp_path / "ws")
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(SAMPLE / DOCS[0], drop / DOCS[0])
    _dshift(workspace, store, "ingest", str(drop), "--jobs", "1")
    _dshift(workspace, store, "code")
    output = _dshift(workspace, store, "review", "export", "--coder", "amina", "--size", "3")
    sheet = Path(output.strip().splitlines()[0])
    fill(sheet, {row: ("accept", "") for row in range(2, 5)})
    batch = (
        Workspace(workspace.root).lock("dshift run (pid 1)")
        if store is None
        else connect(store).workspace_lock("dshift run (on another machine)")
    )
    with batch:  # a batch runs meanwhile
        assert "busy" in _dshift(workspace, store, "code", code=3)
        _dshift(workspace, store, "review", "import", str(sheet))
        _dshift(workspace, store, "review", "export", "--coder", "bilal", "--size", "2")
    with connect(store or str(workspace.store_path)) as opened:
        assert len(opened.decisions()) == 3
        runs = {r.command: r.status for r in opened.recent_runs(10)}
        assert runs["review import"] == "completed"


def test_init_with_a_postgresql_store_makes_the_workspace_there(
    tmp_path: Path, postgres: str
) -> None:
    url = new_database(postgres)
    result = CliRunner().invoke(cli, ["--store", url, "init", str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    assert f"store:    {url}" in result.output
    workspace = Workspace(tmp_path / "ws")
    assert f'url = "{url}"' in (workspace.root / "dshift.toml").read_text("utf-8")
    assert not workspace.store_path.exists()
    assert "documents: 0" in _dshift(workspace, None, "status")
    # A workspace whose own store holds documents is not pointed elsewhere by init.
    other = tmp_path / "other"
    local = init_workspace(other)
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(SAMPLE / DOCS[0], drop / DOCS[0])
    _dshift(local, None, "ingest", str(drop), "--jobs", "1")
    refused = CliRunner().invoke(cli, ["--store", new_database(postgres), "init", str(other)])
    assert refused.exit_code == 2 and "dshift store copy" in refused.output
    assert not (other / "dshift.toml").exists()
