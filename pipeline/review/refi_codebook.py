"""Comparing a REFI-QDA codebook (.qdc) with ours: proposed changes, never applied."""

from __future__ import annotations

from pathlib import Path

from pipeline.codebook.model import Codebook
from pipeline.errors import DshiftError
from pipeline.refi.match import match_codes
from pipeline.refi.read import read_codebook
from pipeline.refi.write import NO_CODE


def propose_codebook(codebook: Codebook, path: Path) -> list[str]:
    """Compare a .qdc codebook with ours; return proposed changes (never applied).

    Codes are recognised as in a project (:func:`pipeline.refi.match.match_codes`): by GUID,
    id, name path or, in a flat list such as Taguette's, by name.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DshiftError(f"cannot read {path}: {exc}", "check the path", code="bad-file") from None
    codes = read_codebook(data, code_ids=list(codebook.codes))
    ids = match_codes({c.guid: c for c in codes}, codebook)
    by_guid = {c.guid: c for c in codes}
    proposals = []
    for code in codes:
        code_id = ids[code.guid]
        if code_id == NO_CODE:
            continue
        if code_id is None:
            parent = by_guid.get(code.parent_guid) if code.parent_guid else None
            under = ids.get(parent.guid) if parent else _dotted_parent(code.name, codebook)
            place = under or (parent.name if parent else "the top level")
            proposals.append(f"+ new code '{code.name}' under {place}")
        elif code.name not in (codebook.codes[code_id].label, code_id):
            proposals.append(
                f"~ {code_id}: label '{codebook.codes[code_id].label}' -> '{code.name}'"
            )
    returned = {code_id for code_id in ids.values() if code_id}
    proposals.extend(
        f"- code {cid} is not in the file" for cid in codebook.codes if cid not in returned
    )
    return proposals


def _dotted_parent(name: str, codebook: Codebook) -> str | None:
    """Return the code id a dotted name such as ``hedging.turkey`` sits under, if it is ours."""
    head, dot, _ = name.strip().rpartition(".")
    return head if dot and head in codebook.codes else None
