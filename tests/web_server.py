"""A real review page for tests: ``dshift serve``'s app on uvicorn, in a thread, on a free port."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from pipeline.api import Project
from pipeline.web.app import Options, build_app
from tests.conftest import coded_workspace, make_pdf

DOCS = [
    "2006-03-04_joint-statement_us.pdf",
    "2015-04-20_treaty_pak-china-joint-statement.pdf",
    "2014-06-15_ispr_zarb-e-azb.pdf",
]
HOSTILE = "The minister said <script>alert('x')</script> & left; \"quotes\" stay text."


def template_workspace(root: Path) -> Path:
    """A coded workspace of three sample documents and one whose text holds markup."""
    workspace = coded_workspace(root, DOCS)
    drop = workspace.root / "drop2"
    drop.mkdir()
    make_pdf(
        drop / "2016-02-02_mofa_markup.pdf",
        [
            "Statement by the Foreign Office\n"
            "Pakistan values its strategic partnership with China and the Gulf states.\n"
            + HOSTILE
            + "\nPakistan and the United States agreed to expand counter-terrorism cooperation."
        ],
    )
    from click.testing import CliRunner

    from pipeline.cli import cli

    for args in (["ingest", str(drop), "--jobs", "1"], ["code"]):
        result = CliRunner().invoke(cli, ["--workspace", str(workspace.root), *args])
        assert result.exit_code == 0, result.output
    return workspace.root


def copy_workspace(template: Path, target: Path) -> Path:
    shutil.copytree(template, target)
    return target


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(root: Path, options: Options | None = None) -> Iterator[str]:
    """Serve the workspace at ``root`` for real; yield the page's base URL."""
    app = build_app(Project.open(root), options or Options())
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the review page did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
