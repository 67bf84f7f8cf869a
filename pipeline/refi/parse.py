"""Parsing REFI-QDA XML safely, and the helpers every reader of its elements shares.

The XML is parsed by defusedxml with every entity refused (no expansion bomb, no external
entity). Tags are compared without their namespace, since programs differ in the one they
write. :class:`Problems` collects what is wrong, so that one error lists every problem found.
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_xml
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from pipeline.refi.write import GUID_RE, RefiError, normalise_guid

MAX_LISTED = 25
"""How many problems an error message lists before it says how many more there are."""


REEXPORT = "export it again from the program that made it"


def parse_xml(data: bytes, what: str) -> Element:
    """Parse XML with every entity refused; ``what`` names the file in error messages."""
    try:
        root: Element = safe_xml.fromstring(
            data, forbid_dtd=False, forbid_entities=True, forbid_external=True
        )
    except (EntitiesForbidden, ExternalReferenceForbidden, DTDForbidden):
        raise RefiError(
            f"{what} uses XML entities (<!ENTITY ...>), which we refuse to read for safety: "
            "they can expand into gigabytes or read files from this computer or the network",
            "export it again without entity declarations; REFI-QDA files never need them, so "
            "a file that has them was edited or crafted by hand",
        ) from None
    except ParseError as exc:
        line, column = exc.position
        raise RefiError(
            f"{what} is not well-formed XML (line {line}, column {column}): {exc}",
            f"{REEXPORT}; a file edited by hand must stay valid XML",
        ) from None
    return root


def local_name(tag: str) -> str:
    """Return a tag without its namespace: programs differ in the namespace they write."""
    return tag.rpartition("}")[2]


def children(parent: Element | None, name: str | None = None) -> Iterator[Element]:
    if parent is None:
        return
    for child in parent:
        if isinstance(child.tag, str) and (name is None or local_name(child.tag) == name):
            yield child


def first_child(parent: Element | None, name: str) -> Element | None:
    return next(children(parent, name), None)


def text_of(element: Element | None) -> str:
    return "" if element is None else "".join(element.itertext())


def element_name(element: Element) -> str:
    """Name an element for a message: its kind, its name and its guid where it has them."""
    label = local_name(element.tag)
    if element.get("name"):
        label += f" '{element.get('name')}'"
    if element.get("guid"):
        label += f" ({element.get('guid')})"
    return label


def optional_guid(value: str | None) -> str | None:
    return normalise_guid(value) if value and GUID_RE.match(value.strip()) else None


class Problems:
    """Collects what is wrong, so that one error lists every problem with its element."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.found: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.found.append(f"{where}: {message}")

    def guid(self, element: Element, attribute: str, kind: str) -> str:
        value = element.get(attribute)
        if value is None:
            self.add(element_name(element), f"a {kind} needs a {attribute} attribute")
            return ""
        if not GUID_RE.match(value.strip()):
            self.add(element_name(element), f"{attribute} '{value}' is not a GUID")
            return ""
        return normalise_guid(value)

    def raise_if_any(self) -> None:
        if not self.found:
            return
        listed = "\n".join(f"  {self.file}: {p}" for p in self.found[:MAX_LISTED])
        more = len(self.found) - MAX_LISTED
        if more > 0:
            listed += f"\n  ... and {more} more"
        raise RefiError(
            f"{self.file} has {len(self.found)} problem(s):\n{listed}",
            f"{REEXPORT}; if the file was edited by hand, correct the elements listed",
        )
