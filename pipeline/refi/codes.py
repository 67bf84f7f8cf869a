"""Reading the code tree of a REFI-QDA codebook or project, and recovering our code ids.

A code's id comes from its GUID (when it is ``code_guid(id)`` of one of our ids) or from the
``id:`` first line of its description; a copy of one of our codes made in another program keeps
the line under a new GUID, and loses the id to the code that owns it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from pipeline.refi.parse import (
    Problems,
    children,
    element_name,
    first_child,
    local_name,
    text_of,
)
from pipeline.refi.write import ID_LINE, NO_CODE, NO_CODE_NAME, code_guid, no_code_guid

_CODE_ID = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*\Z")


@dataclass(frozen=True)
class RefiCode:
    """A code found in a codebook or project.

    Attributes:
        guid: its GUID, lower case.
        name: what the program calls it (our label, for codes we wrote).
        code_id: our code id (``alignment.aid``) when it could be recovered, else None.
        parent_guid: the GUID of the code it is nested in, None at the top.
        description: its description, without our ``id:`` line.
    """

    guid: str
    name: str
    code_id: str | None
    parent_guid: str | None
    description: str


def read_codes(root: Element, code_ids: Iterable[str], problems: Problems) -> list[RefiCode]:
    """Read the code tree under ``root`` (a CodeBook, or a Project holding one)."""
    book = root if local_name(root.tag) == "CodeBook" else first_child(root, "CodeBook")
    by_guid = {code_guid(code_id): code_id for code_id in code_ids}
    by_guid[no_code_guid()] = NO_CODE
    codes: list[RefiCode] = []

    def walk(parent: Element | None, parent_guid: str | None) -> None:
        for element in children(parent, "Code"):
            guid = problems.guid(element, "guid", "Code")
            name = element.get("name")
            if name is None:
                problems.add(element_name(element), "has no name attribute")
            described, description = _split_description(
                text_of(first_child(element, "Description"))
            )
            if guid:
                codes.append(
                    RefiCode(
                        guid=guid,
                        name=name or "",
                        code_id=by_guid.get(guid)
                        or described
                        or (NO_CODE if name == NO_CODE_NAME else None),
                        parent_guid=parent_guid,
                        description=description,
                    )
                )
            walk(element, guid or None)

    walk(first_child(book, "Codes"), None)
    return _settle_code_ids(codes, problems)


def _split_description(text: str) -> tuple[str | None, str]:
    """Return the code id of an ``id: ...`` first line, and the description without it."""
    text = text.replace("\r\n", "\n").strip()
    first, _, rest = text.partition("\n")
    if first.startswith(ID_LINE.strip()):
        candidate = first[len(ID_LINE.strip()) :].strip()
        if _CODE_ID.match(candidate):
            return candidate, rest.strip()
    return None, text


def _settle_code_ids(codes: list[RefiCode], problems: Problems) -> list[RefiCode]:
    """Check GUIDs are unique and give each code id to one code only.

    A copy of one of our codes made in another program keeps our description, id line and all,
    under a new GUID. The code whose GUID is ``code_guid(id)`` keeps the id and the copies lose
    it; if no code has that GUID (a program that makes new GUIDs), two claims cannot be settled.
    """
    seen = Counter(code.guid for code in codes)
    for guid, count in seen.items():
        if count > 1:
            problems.add(f"Code {guid}", f"{count} codes have this guid")
    claims: dict[str, list[RefiCode]] = {}
    for code in codes:
        if code.code_id is not None:
            claims.setdefault(code.code_id, []).append(code)
    settled: dict[str, str | None] = {}
    for code_id, claimants in claims.items():
        if len(claimants) == 1:
            continue
        owner = [c for c in claimants if c.guid == code_guid(code_id)]
        if owner:
            settled.update({c.guid: None for c in claimants if c is not owner[0]})
        else:
            names = ", ".join(f"'{c.name}' ({c.guid})" for c in claimants)
            problems.add(
                f"Code id '{code_id}'",
                f"the codes {names} all say 'id: {code_id}' in their description; delete the "
                "line from the copies",
            )
    return [
        RefiCode(c.guid, c.name, settled[c.guid], c.parent_guid, c.description)
        if c.guid in settled
        else c
        for c in codes
    ]
