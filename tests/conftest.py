"""Shared fixtures: the sample corpus, temporary workspaces, small PDFs made on the spot."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.workspace import Workspace, init_workspace

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "corpus" / "sample"
TRUTH = ROOT / "corpus" / "sample-src" / "truth"
SOURCES = ROOT / "corpus" / "sample-src" / "documents"
SHARED = ROOT.parent / "shared"

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared is not present")


def manifest() -> list[dict[str, str]]:
    with (TRUTH / "manifest.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def front_matter(file_name: str) -> dict[str, str]:
    """Return the front matter of the sample source that produced ``file_name``."""
    for source in SOURCES.glob("*.md"):
        text = source.read_text(encoding="utf-8")
        head = text.split("---", 2)[1]
        values = {}
        for line in head.strip().splitlines():
            key, _, value = line.partition(":")
            values[key.strip()] = value.split(" #")[0].strip()
        if values.get("file") == file_name:
            return values
    raise KeyError(file_name)


def coded_workspace(root: Path, names: list[str], coder: str | None = None) -> Workspace:
    """A workspace at ``root`` holding the named sample documents, ingested and coded (by
    ``coder``, made the active one, when given; else by the default coder)."""
    import shutil

    from click.testing import CliRunner

    from pipeline.cli import cli

    workspace = init_workspace(root)
    drop = workspace.root / "drop"
    drop.mkdir()
    for name in names:
        shutil.copy(SAMPLE / name, drop / name)
    steps = [["ingest", str(drop), "--jobs", "1"], ["code"]]
    if coder is not None:
        steps = [steps[0], ["code", "--coder", coder], ["coder", "use", coder]]
    for args in steps:
        result = CliRunner().invoke(cli, ["--workspace", str(workspace.root), *args])
        assert result.exit_code == 0, result.output
    return workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return init_workspace(tmp_path / "ws")


def make_pdf(path: Path, pages: list[str], **canvas_options: object) -> Path:
    """Write a simple one-column PDF with reportlab, one string per page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1, **canvas_options)
    for text in pages:
        y = 780
        for line in text.splitlines():
            pdf.drawString(72, y, line)
            y -= 14
        pdf.showPage()
    pdf.save()
    return path


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """The URL of a real PostgreSQL server started for this test session (see
    ``tests/postgres_server.py``); the test skips, saying why, where none can be started."""
    import shutil
    import tempfile

    from tests.postgres_server import start

    folder = Path(tempfile.mkdtemp(prefix="dshift-pg-"))
    server = start(folder)
    if isinstance(server, str):
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(server)
    try:
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _integrity_errors() -> tuple[type[BaseException], ...]:
    import sqlite3

    try:
        import psycopg
    except ImportError:
        return (sqlite3.IntegrityError,)
    return (sqlite3.IntegrityError, psycopg.IntegrityError)


# What a refused change (a trigger, a constraint) raises on either backend.
INTEGRITY = _integrity_errors()

_databases = iter(range(1_000_000))


def new_database(server: str) -> str:
    """The URL of a new, empty database on the PostgreSQL ``server`` (one per test)."""
    import os

    import psycopg

    name = f"t{os.getpid()}_{next(_databases)}"
    with psycopg.connect(server, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    return server.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a test's new store goes, once on each backend: a SQLite file in the test's folder,
    and a new database on the session's real PostgreSQL server (skipped, saying why, where no
    server can be started)."""
    if request.param == "sqlite":
        return str(tmp_path / "corpus.sqlite")
    return new_database(request.getfixturevalue("postgres"))


BACKENDS = ["sqlite", "postgresql"]


def on_backend(workspace: Workspace, backend: str, request: pytest.FixtureRequest) -> Workspace:
    """``workspace`` with its store on ``backend``: as it is for SQLite; for PostgreSQL its store
    moved (``dshift store copy``) into a new database on the session's server, named in the
    workspace's ``dshift.toml``, and the SQLite file removed, so that nothing reads it by
    mistake."""
    if backend == "sqlite":
        return workspace
    from pipeline.store.copy import copy_store
    from pipeline.workspace import find_workspace

    url = new_database(request.getfixturevalue("postgres"))
    copy_store(str(workspace.store_path), url)
    for name in ("corpus.sqlite", "corpus.sqlite-wal", "corpus.sqlite-shm"):
        (workspace.corpus / name).unlink(missing_ok=True)
    (workspace.root / "dshift.toml").write_text(f'[store]\nurl = "{url}"\n', encoding="utf-8")
    moved = find_workspace(str(workspace.root))
    assert moved.store_on_server
    return moved


@pytest.fixture(scope="module")
def web_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A coded workspace for the review page's tests (one per test module): three sample
    documents and one whose text holds markup."""
    from tests.web_server import template_workspace

    return template_workspace(tmp_path_factory.mktemp("web") / "ws")


@pytest.fixture
def web_root(web_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of :func:`web_template` for one test to write in."""
    from tests.web_server import copy_workspace

    return copy_workspace(web_template, tmp_path / "ws")


from tests.browser import browser  # noqa: E402, F401  (the review page's real Chromium)
