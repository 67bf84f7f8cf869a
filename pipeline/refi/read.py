"""Read REFI-QDA projects (.qdpx) and codebooks (.qdc), ours or another program's, safely.

Safety. The XML is parsed by defusedxml, which stops at the first entity declaration: an
entity-expansion bomb ("billion laughs") or an external entity (``file://``, ``http://``) is
refused with a :class:`RefiError` before anything is expanded or fetched. No zip entry is read
beyond :data:`MAX_ENTRY_BYTES`, and the archive's paths are only looked up, never extracted.

What is accepted, beyond the letter of the standard, because the programs do it:

* ``sources/`` or ``Sources/`` (any case) as the folder of the texts, and the whole project
  inside one top-level folder (``MyProject/project.qde``), as when a folder is zipped again.
* A byte-order mark at the start of ``project.qde`` or of a text file (dropped; offsets do not
  count it), and UTF-16 text files that start with a BOM.
* Text inline in ``<PlainTextContent>`` instead of a file.
* CRLF line ends in a text file. The text is normalised to ``\n`` and each offset, taken to be
  counted in the file as stored (what the standard says offsets point into), is moved back by
  the number of ``\r\n`` pairs before it. A lone ``\r`` becomes ``\n`` without a shift.
* A ``<Coding>`` directly on a ``<TextSource>`` (coding the whole document): read as a span over
  the whole text.
* Upper-case GUIDs or GUIDs in braces: every GUID is returned lower case, without braces.

Every source kind that carries a plain text is read: a ``<TextSource>``, a ``<PDFSource>`` by its
``<Representation>`` (what QualCoder writes for a source whose name ends in ``.pdf``) and a
``<PictureSource>`` by its ``<TextDescription>``; such a source keeps the GUID, name, description
and variables of the outer element. Areas coded on a page or picture and audio or video sources
are not read; :attr:`RefiProject.skipped` says what was left and how many codings it held.

Before any of it, :func:`pipeline.archives.check_zip` inflates the archive once, counting bytes,
and refuses one that unpacks to more than :data:`pipeline.archives.PROJECT_LIMITS` allow.
Everything else that is wrong (no ``project.qde``, a source without text, offsets outside the
text, a reference to a code, user or variable that does not exist) is reported, every problem at
once, each naming its element.

This module holds the two entry points; the work is done by :mod:`.parse` (safe XML, element
helpers, the problem list), :mod:`.archive` (the zip's entries), :mod:`.codes` (the code tree and
our code ids) and :mod:`.sources` (text sources and their codings).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from pipeline.archives import PROJECT_LIMITS, ZipLimits, check_zip
from pipeline.errors import DshiftError
from pipeline.refi.archive import MAX_ENTRY_BYTES, open_zip, project_prefix, read_entry
from pipeline.refi.codes import RefiCode, read_codes
from pipeline.refi.parse import (
    MAX_LISTED,
    REEXPORT,
    Problems,
    children,
    element_name,
    first_child,
    local_name,
    optional_guid,
    parse_xml,
)
from pipeline.refi.sources import RefiSpan, SourceReader
from pipeline.refi.write import PROJECT_ENTRY, RefiError, RefiSource

__all__ = [
    "MAX_ENTRY_BYTES",
    "MAX_LISTED",
    "RefiCode",
    "RefiError",
    "RefiProject",
    "RefiSpan",
    "read_codebook",
    "read_project",
]

_TEXT_INSIDE = {"PDFSource": "Representation", "PictureSource": "TextDescription"}
_SKIPPED_SOURCES = ("PictureSource", "PDFSource", "AudioSource", "VideoSource")


@dataclass(frozen=True)
class RefiProject:
    """What a .qdpx holds that the pipeline can use.

    Attributes:
        name: the project's name.
        users: user GUID to name.
        codes: code GUID to code, parents before children.
        sources: source GUID to source; ``text`` has ``\\n`` line ends and no BOM.
        codings: every coded span, in document order.
        skipped: what was in the file but not read (non-text sources), one line each.
    """

    name: str
    users: dict[str, str]
    codes: dict[str, RefiCode]
    sources: dict[str, RefiSource]
    codings: list[RefiSpan]
    skipped: list[str] = field(default_factory=list)


def read_codebook(data: bytes, *, code_ids: Iterable[str] = ()) -> list[RefiCode]:
    """Read a REFI-QDA codebook (``.qdc``).

    Args:
        data: The file's bytes.
        code_ids: Our code ids the codebook may hold; a code whose GUID is ``code_guid(id)`` of
            one of them gets that id even if its description lost the ``id:`` line.

    Returns:
        The codes depth first, each parent before its children.

    Raises:
        RefiError: if the file is not a safe, well-formed REFI-QDA codebook.
    """
    root = parse_xml(data, "the codebook")
    if local_name(root.tag) != "CodeBook":
        raise RefiError(
            f"the codebook's root element is <{local_name(root.tag)}>, not <CodeBook>",
            "give a REFI-QDA codebook (.qdc); a whole project is a .qdpx",
        )
    problems = Problems("the codebook")
    codes = read_codes(root, code_ids, problems)
    problems.raise_if_any()
    return codes


def read_project(
    data: bytes,
    *,
    code_ids: Iterable[str] = (),
    max_bytes: int = MAX_ENTRY_BYTES,
    limits: ZipLimits = PROJECT_LIMITS,
) -> RefiProject:
    """Read a REFI-QDA project (``.qdpx``): users, codes, text sources and their codings.

    Args:
        data: The .qdpx file's bytes.
        code_ids: Our code ids, to recognise our codes by GUID (see :func:`read_codebook`).
        max_bytes: The largest project.qde or text file to read.
        limits: How far the whole archive may unpack (checked before anything is parsed).

    Returns:
        The project, with every GUID lower case and every offset in code points of the
        normalised text.

    Raises:
        RefiError: if the archive is not a safe, complete REFI-QDA project; the message lists
            every problem found, each with its element.
    """
    try:
        check_zip(data, "the project", limits)
    except RefiError:
        raise
    except DshiftError as exc:
        raise RefiError(exc.message, exc.hint) from None
    archive = open_zip(data)
    prefix = project_prefix(archive)
    root = parse_xml(read_entry(archive, prefix + PROJECT_ENTRY, max_bytes), PROJECT_ENTRY)
    if local_name(root.tag) != "Project":
        raise RefiError(
            f"{PROJECT_ENTRY}'s root element is <{local_name(root.tag)}>, not <Project>",
            f"give a REFI-QDA project (.qdpx); {REEXPORT}",
        )
    problems = Problems(PROJECT_ENTRY)
    users = _named_guids(root, "Users", "User", problems)
    codes = {code.guid: code for code in read_codes(root, code_ids, problems)}
    variables = _named_guids(root, "Variables", "Variable", problems)
    default_user = optional_guid(root.get("creatingUserGUID"))
    context = SourceReader(
        archive, prefix, max_bytes, users, codes, variables, default_user, problems
    )
    sources: dict[str, RefiSource] = {}
    codings: list[RefiSpan] = []
    skipped: list[str] = []
    for element in children(first_child(root, "Sources")):
        kind = local_name(element.tag)
        inner = first_child(element, _TEXT_INSIDE[kind]) if kind in _TEXT_INSIDE else None
        if kind == "TextSource" or inner is not None:
            read = context.text_source(element, inner)
            if read is None:
                continue
            source, spans = read
            if source.guid in sources:
                problems.add(element_name(element), "another source has the same guid")
            sources[source.guid] = source
            codings += spans
            areas = _count_codings(element, ("PDFSelection", "PictureSelection"))
            if areas:
                skipped.append(f"{element_name(element)}: {areas} coding(s) of areas are not read")
        elif kind in _SKIPPED_SOURCES:
            held = _count_codings(element)
            skipped.append(
                f"{element_name(element)}: only sources with a plain text are read"
                + (f" ({held} coding(s) not read)" if held else "")
            )
    problems.raise_if_any()
    return RefiProject(root.get("name", ""), users, codes, sources, codings, skipped)


def _count_codings(element: Element, within: tuple[str, ...] = ()) -> int:
    """Count the ``<Coding>`` elements under ``element`` (only under ``within`` kinds if given)."""
    holders = [c for c in children(element) if local_name(c.tag) in within] if within else [element]
    return sum(
        1 for holder in holders for node in holder.iter() if local_name(node.tag) == "Coding"
    )


def _named_guids(root: Element, group: str, kind: str, problems: Problems) -> dict[str, str]:
    """Return GUID to name for the ``kind`` elements of ``group`` (Users/User, ...)."""
    named: dict[str, str] = {}
    for element in children(first_child(root, group), kind):
        guid = problems.guid(element, "guid", kind)
        if guid:
            named[guid] = element.get("name") or element.get("id") or guid
    return named
