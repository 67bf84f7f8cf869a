"""The small workspace the REFI-QDA fixtures were made from, built the same way every time.

tests/fixtures/refi/README.md says how its .qdpx was made from the export of this workspace;
the tests build it again and import the fixture into it, so the sources match by their text.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.codebook.load import load_codebook
from pipeline.coding.nlp import DEFAULT_SEGMENTER
from pipeline.coding.rules import CODER
from pipeline.store.review import NewDecision
from pipeline.workspace import Workspace, init_workspace
from tests.conftest import SAMPLE

DOCS = [
    "2006-03-04_joint-statement_us.pdf",
    "2015-04-20_treaty_pak-china-joint-statement.pdf",
    "ispr_salala.txt",
    "visa-and-consular-services.html",
]
"""Three kinds of file; the .pdf one is renamed back to .pdf in QualCoder (see the README)."""


def run(workspace: Workspace, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--workspace", str(workspace.root), *args])
    assert result.exit_code == 0, result.output
    return result.output


def amina_decisions(workspace: Workspace) -> list[NewDecision]:
    """Amina's decisions before the export: on the first four machine-coded segments of each
    document, an accept, a relabel to the first other code, a reject with a note, an accept."""
    book = load_codebook(workspace.codebook / "codebook.yaml")
    with workspace.open_store() as store:
        tags = store.machine_tags(CODER, book.version)
        rows = store.segment_rows(DEFAULT_SEGMENTER)
    by_document: dict[int, list[str]] = {}
    for segment_id, doc_id, _, _, _ in rows:
        if segment_id in tags:
            by_document.setdefault(doc_id, []).append(segment_id)
    others = sorted(book.codes)
    decisions = []
    for doc_id in sorted(by_document):
        for index, segment_id in enumerate(by_document[doc_id][:4]):
            machine = sorted({c for c, _, _ in tags[segment_id]})
            if index == 1:
                codes = [next(c for c in others if c not in machine)]
                action, note = "relabel", ""
            elif index == 2:
                codes, action, note = [], "reject", "not about alignment: a list of names"
            else:
                codes, action, note = machine, "accept", ""
            decisions.append(
                NewDecision(
                    segment_id=segment_id,
                    coder="amina",
                    role="coder",
                    action=action,
                    codes=codes,
                    machine_codes=machine,
                    note=note,
                    codebook_version=book.version,
                    source="refi fixture workspace",
                )
            )
    return decisions


def build(root: Path) -> Workspace:
    """Ingest DOCS, code them with the rules, and record Amina's decisions."""
    workspace = init_workspace(root)
    drop = workspace.root / "drop"
    drop.mkdir()
    for name in DOCS:
        shutil.copy(SAMPLE / name, drop / name)
    run(workspace, "ingest", str(drop), "--jobs", "1")
    run(workspace, "code")
    with workspace.open_store() as store:
        run_id = store.start_run("refi fixture", {})
        store.add_decisions(
            amina_decisions(workspace),
            sha256="0" * 64,
            path="amina.xlsx",
            kind="sheet",
            coder="amina",
            run_id=run_id,
        )
        store.finish_run(run_id, "completed", {})
    return workspace
