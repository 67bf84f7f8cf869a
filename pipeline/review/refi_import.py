"""Importing a REFI-QDA project that came back: plan its decisions, then record them or refuse.

What cannot be placed is reported and nothing is recorded unless ``skip_unplaced``; ``dry_run``
records nothing; a file imported before is not imported again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipeline.codebook.model import Codebook
from pipeline.codebook.versions import read_decisions
from pipeline.errors import DshiftError
from pipeline.refi.read import read_project
from pipeline.refi.write import RefiError
from pipeline.review.refi_plan import plan_import
from pipeline.review.refi_result import RefiImport
from pipeline.store import Store


def import_refi(
    store: Store,
    codebook: Codebook,
    path: Path,
    *,
    dry_run: bool = False,
    skip_unplaced: bool = False,
) -> RefiImport:
    """Turn each coder's codings in a project that came back into decisions.

    Args:
        store: The workspace's store.
        codebook: The workspace's codebook.
        path: The .qdpx file.
        dry_run: Work out and return the decisions without recording anything.
        skip_unplaced: Record the decisions even if some codings could not be placed (they
            are reported and left out); without it, any unplaced coding refuses the import.

    Returns:
        What was (or would be) recorded; :meth:`RefiImport.summary` prints it.

    Raises:
        RefiError: the file is not a readable, safe project, or (unless ``skip_unplaced`` or
            ``dry_run``) some of its codings could not be placed; the message lists them.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DshiftError(f"cannot read {path}: {exc}", "check the path", code="bad-file") from None
    sha = hashlib.sha256(data).hexdigest()
    result = RefiImport()
    earlier = store.review_file(sha)
    if earlier is not None:
        result.already_imported = f"{earlier.path} (imported {earlier.imported_at})"
        return result
    project = read_project(data, code_ids=list(codebook.codes))
    events = read_decisions(store, codebook)
    plan_import(project, store, codebook, events, f"{path.name} (REFI-QDA)", result)
    if result.problems and not skip_unplaced and not dry_run:
        raise RefiError(
            f"{path}: nothing was recorded: {result.unplaced} coding(s) could not be placed:\n"
            + "\n".join(f"  {p.format()}" for p in result.problems),
            "import the missing documents or codes and export the project again, or give "
            "--skip-unplaced to record the rest (see it first with --dry-run)",
        )
    if dry_run or not result.planned:
        return result
    with store.recorded_run(
        "review import", {"file": str(path), "kind": "refi", "skip_unplaced": skip_unplaced}
    ) as run:
        result.decisions = store.add_decisions(
            result.planned,
            sha256=sha,
            path=str(path),
            kind="refi",
            coder=",".join(result.users),
            run_id=run.id,
        )
        run.counts = {"decisions": result.decisions, "unplaced": result.unplaced}
    result.applied = True
    return result
