"""Render a codebook (.qdc) and a coded corpus (.qdpx) in the REFI-QDA exchange format.

Everything here is pure: the functions take the data and return bytes, and the caller writes
them. The same input gives the same bytes (for one zlib and one version of this package, which
the ``origin`` attributes name): GUIDs are derived from ids, elements are sorted, the only date
in the files is the ``created`` value passed in, and the zip entries carry that date too.

The layout follows the REFI-QDA schemas (``Project-mrt2019.xsd``; ``Codebook.xsd`` as cleaned
in ``Codebook.cleaned.xsd``), against which the tests validate the output:

* ``codebook_xml`` gives ``<CodeBook><Codes><Code .../>...</Codes></CodeBook>``, the code tree
  nested by parent. Each code's ``name`` is its label; its id opens the ``<Description>`` as
  ``id: <code id>`` (see :func:`code_description`), the only free text a code has in the schema.
  Every code gets ``isCodable="true"`` and the colour of its top-level code.
* ``project_qdpx`` gives a zip with ``project.qde`` (Users, CodeBook, Variables, Sources) and one
  UTF-8 file ``sources/<guid>.txt`` per document, referenced as ``plainTextPath="internal://
  <guid>.txt"``. A coder's codes on one span form one ``<PlainTextSelection>`` (offsets in code
  points, end exclusive) holding one ``<Coding>`` per code, each naming its coder as
  ``creatingUser``; the coder's note is the selection's ``<Description>``. A coder's reject is
  a coding with the marker code "(no code applies)" (:data:`NO_CODE`), which the project's
  code tree carries after the codebook's codes.
"""

from __future__ import annotations

import difflib
import io
import re
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from lxml import etree

from pipeline import __version__
from pipeline.codebook.model import Code, Codebook
from pipeline.errors import RefiError

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"

GUID_NAMESPACE = uuid.UUID("c5425134-e35d-5519-988b-c086f2d8d93e")
"""The uuid5 namespace of every GUID we make (uuid5(NAMESPACE_URL, 'urn:discourse-shift:refi-qda'));
never change it, or codes and documents get new GUIDs in the programs that imported them."""

ORIGIN = f"discourse-shift {__version__}"
"""What the ``origin`` attribute says made the file."""

ID_LINE = "id: "
"""How the first line of a code's description starts; the code id follows."""

NO_CODE = "(no code)"
"""The code id of the marker code "no code applies": what a coder's reject is written as."""

NO_CODE_NAME = "(no code applies)"
"""The name the programs show for the marker code."""

NO_CODE_DESCRIPTION = (
    "Not a code of the codebook: apply it to a passage to say that no code of the codebook "
    "applies there (a reject). discourse-shift reads it back as that coder's reject."
)

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
"""Colours of the top-level codes in codebook order (Okabe-Ito, readable with colour blindness)."""

PROJECT_ENTRY = "project.qde"
SOURCES_FOLDER = "sources"
INTERNAL = "internal://"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

GUID_RE = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z"
    r"|\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}\Z"
)
"""The schema's GUIDType: 8-4-4-4-12 hex digits, optionally in braces."""

_DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?\Z")
# Characters XML 1.0 cannot carry at all (most C0 controls, lone surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class RefiSource:
    """One document as the QDA programs see it.

    Attributes:
        guid: its GUID, usually :func:`source_guid` of the document's sha256.
        name: what the programs list it as (a file name or title).
        text: the canonical text that the coding offsets point into (``\\n`` line ends, no BOM).
        variables: document attributes such as year, date, source_type, issuer; a ``None``
            value is left out. A variable's type follows its values (int: Integer, str: Text).
    """

    guid: str
    name: str
    text: str
    variables: dict[str, str | int | None]
    description: str = ""


@dataclass(frozen=True)
class RefiCoding:
    """One code applied by one coder to ``text[start:end]`` of one source (code points).

    ``code_id`` is a code of the codebook, or :data:`NO_CODE` for "no code applies" (a coder's
    reject, written so that the programs show it). ``note`` becomes the ``<Description>`` of
    the coder's selection, which the programs show as the coding's memo.
    """

    user: str
    source_guid: str
    start: int
    end: int
    code_id: str
    note: str = ""


# --- GUIDs ---------------------------------------------------------------------------------------


def _guid(kind: str, key: str) -> str:
    return str(uuid.uuid5(GUID_NAMESPACE, f"{kind}:{key}"))


def code_guid(code_id: str) -> str:
    """Return the GUID of a code, the same in every export (``code_guid('alignment.aid')``)."""
    return _guid("code", code_id)


def user_guid(name: str) -> str:
    """Return the GUID of a coder or a machine coder such as ``rules.v1``."""
    return _guid("user", name)


def source_guid(sha256: str) -> str:
    """Return the GUID of a document from the sha256 of its file."""
    return _guid("source", sha256.lower())


def no_code_guid() -> str:
    """Return the GUID of the marker code "no code applies" (see :data:`NO_CODE`)."""
    return _guid("marker", "no-code")


def text_source_name(name: str) -> str:
    """Return the name a document is listed under: its file name with ``.txt`` added.

    The programs decide a source's kind by its name: QualCoder writes a source named
    ``x.pdf`` back as a ``<PDFSource>``. What we send is plain text, so its name says so.
    """
    return name if name.lower().endswith(".txt") else f"{name}.txt"


def variable_guid(name: str) -> str:
    """Return the GUID of a document variable such as ``year``."""
    return _guid("variable", name)


def normalise_guid(guid: str) -> str:
    """Return ``guid`` in the form we compare GUIDs in: lower case, no braces."""
    return guid.strip().strip("{}").lower()


# --- the codebook --------------------------------------------------------------------------------


def code_description(code: Code) -> str:
    """Return the ``<Description>`` of a code: its id line, its definition and its rules.

    Example::

        id: alignment.aid

        Aid from the United States.

        Include:
        - pledges of aid
    """
    lines = [f"{ID_LINE}{code.id}", "", code.definition]
    for title, items in (("Include:", code.include), ("Exclude:", code.exclude)):
        if items:
            lines += ["", title, *(f"- {item}" for item in items)]
    return "\n".join(lines)


def codebook_xml(codebook: Codebook) -> bytes:
    """Render the codebook as a REFI-QDA codebook file (``.qdc``).

    Args:
        codebook: A validated codebook (its tree has no cycles and every parent exists).

    Returns:
        UTF-8 XML with a ``CodeBook`` root in the codebook namespace.
    """
    root = etree.Element(f"{{{CODEBOOK_NS}}}CodeBook", nsmap={None: CODEBOOK_NS})
    root.set("origin", ORIGIN)
    root.append(_codes(codebook, CODEBOOK_NS))
    return _serialise(root)


def _codes(codebook: Codebook, ns: str) -> etree._Element:
    codes = etree.Element(f"{{{ns}}}Codes")
    for index, top in enumerate(codebook.children(None)):
        codes.append(_code(codebook, top, PALETTE[index % len(PALETTE)], ns))
    return codes


def _code(codebook: Codebook, code: Code, color: str, ns: str) -> etree._Element:
    element = etree.Element(f"{{{ns}}}Code")
    element.set("guid", code_guid(code.id))
    element.set("name", _clean(code.label))
    element.set("isCodable", "true")
    element.set("color", color)
    etree.SubElement(element, f"{{{ns}}}Description").text = _clean(code_description(code))
    for child in codebook.children(code.id):
        element.append(_code(codebook, child, color, ns))
    return element


# --- the project ---------------------------------------------------------------------------------


def project_qdpx(
    *,
    name: str,
    codebook: Codebook,
    sources: list[RefiSource],
    codings: list[RefiCoding],
    users: list[str],
    created: str,
) -> bytes:
    """Render a coded corpus as a REFI-QDA project (``.qdpx``).

    Args:
        name: The project's name, shown by the program that opens it.
        codebook: The codebook the codings use.
        sources: The documents; each text is stored in the zip under ``sources/<guid>.txt``.
        codings: Who applied which code where. Identical codings are written once.
        users: Every coder, machine (``rules.v1``) or human (``amina``); each becomes a User.
        created: ISO date-time (``2024-05-01T12:00:00Z``) written, in UTC with ``Z``, as the
            creation date of every element and as the date of the zip entries.

    Returns:
        The zip archive's bytes, identical for identical arguments (whatever their order).

    Raises:
        RefiError: listing every coding, source or user that cannot be written.
    """
    created = _utc(created)
    variables = _variable_types(sources)
    problems = _check(codebook, sources, codings, users)
    if problems:
        raise RefiError(
            f"cannot write the REFI-QDA project '{name}': {len(problems)} problem(s):\n"
            + "\n".join(f"  {p}" for p in problems),
            "correct the codings or sources listed (they must match the codebook, the users "
            "and the document texts) and export again",
        )
    root = etree.Element(f"{{{PROJECT_NS}}}Project", nsmap={None: PROJECT_NS})
    root.set("name", _clean(name))
    root.set("origin", ORIGIN)
    root.set("creationDateTime", created)
    root.set("modifiedDateTime", created)
    ordered_users = sorted(set(users))
    if ordered_users:
        users_element = _sub(root, "Users")
        for user in ordered_users:
            _sub(users_element, "User", guid=user_guid(user), name=_clean(user))
    codes = _codes(codebook, PROJECT_NS)
    marker = _sub(
        codes, "Code", guid=no_code_guid(), name=NO_CODE_NAME, isCodable="true", color="#999999"
    )
    _sub(marker, "Description").text = NO_CODE_DESCRIPTION
    _sub(root, "CodeBook").append(codes)
    if variables:
        variables_element = _sub(root, "Variables")
        for variable, kind in variables.items():
            _sub(
                variables_element,
                "Variable",
                guid=variable_guid(variable),
                name=_clean(variable),
                typeOfVariable=kind,
            )
    by_source = _selections(codings)
    ordered_sources = sorted(sources, key=lambda s: (s.name, s.guid))
    if ordered_sources:
        sources_element = _sub(root, "Sources")
        for source in ordered_sources:
            sources_element.append(
                _text_source(source, by_source.get(source.guid, {}), variables, created)
            )
    entries = [(PROJECT_ENTRY, _serialise(root))]
    entries += sorted(
        (f"{SOURCES_FOLDER}/{source.guid}.txt", source.text.encode("utf-8"))
        for source in ordered_sources
    )
    return _zip(entries, _zip_date(created))


_Selections = dict[tuple[int, int, str], tuple[set[str], set[str]]]


def _selections(codings: Iterable[RefiCoding]) -> dict[str, _Selections]:
    """Group codings by source, then by (start, end, user), into sets of code ids and notes."""
    grouped: dict[str, _Selections] = defaultdict(dict)
    for coding in codings:
        key = (coding.start, coding.end, coding.user)
        codes, notes = grouped[coding.source_guid].setdefault(key, (set(), set()))
        codes.add(coding.code_id)
        if coding.note.strip():
            notes.add(coding.note.strip())
    return grouped


def _text_source(
    source: RefiSource, selections: _Selections, variables: dict[str, str], created: str
) -> etree._Element:
    element = etree.Element(f"{{{PROJECT_NS}}}TextSource")
    element.set("guid", source.guid)
    element.set("name", _clean(source.name))
    element.set("plainTextPath", f"{INTERNAL}{source.guid}.txt")
    element.set("creationDateTime", created)
    if source.description:
        _sub(element, "Description").text = _clean(source.description)
    for (start, end, user), (code_ids, notes) in sorted(selections.items()):
        creator = user_guid(user)
        span = f"{source.guid}:{start}:{end}:{user}"
        selection = _sub(
            element,
            "PlainTextSelection",
            guid=_guid("selection", span),
            startPosition=str(start),
            endPosition=str(end),
            creatingUser=creator,
            creationDateTime=created,
        )
        if notes:
            _sub(selection, "Description").text = _clean("\n\n".join(sorted(notes)))
        for code_id in sorted(code_ids):
            target = no_code_guid() if code_id == NO_CODE else code_guid(code_id)
            coding = _sub(
                selection,
                "Coding",
                guid=_guid("coding", f"{span}:{code_id}"),
                creatingUser=creator,
                creationDateTime=created,
            )
            _sub(coding, "CodeRef", targetGUID=target)
    for variable in sorted(source.variables):
        value = source.variables[variable]
        if value is None:
            continue
        holder = _sub(element, "VariableValue")
        _sub(holder, "VariableRef", targetGUID=variable_guid(variable))
        kind = variables[variable]
        text = ("true" if value else "false") if kind == "Boolean" else _clean(str(value))
        _sub(holder, f"{kind}Value").text = text
    return element


def _variable_types(sources: Iterable[RefiSource]) -> dict[str, str]:
    """Return each variable's schema type (Text, Integer, Boolean), sorted by name."""
    seen: dict[str, set[str]] = defaultdict(set)
    for source in sources:
        for variable, value in source.variables.items():
            seen.setdefault(variable, set())
            if value is None:
                continue
            if isinstance(value, bool):
                seen[variable].add("Boolean")
            elif isinstance(value, int):
                seen[variable].add("Integer")
            else:
                seen[variable].add("Text")
    # A variable with mixed values is written as text, the type every value fits.
    return {
        variable: (kinds.pop() if len(kinds) == 1 else "Text")
        for variable, kinds in sorted(seen.items())
    }


def _check(
    codebook: Codebook,
    sources: list[RefiSource],
    codings: list[RefiCoding],
    users: list[str],
) -> list[str]:
    """Return every reason the project cannot be written, each naming what it is about."""
    problems: list[str] = []
    texts: dict[str, str] = {}
    for index, source in enumerate(sources):
        where = f"sources[{index}] ('{source.name}')"
        if not GUID_RE.match(source.guid):
            problems.append(f"{where}: guid '{source.guid}' is not a GUID; use source_guid(sha256)")
        elif source.guid in texts:
            problems.append(f"{where}: guid {source.guid} is used by another source too")
        if "\r" in source.text or source.text.startswith("\ufeff"):
            problems.append(
                f"{where}: the text has carriage returns or a BOM; give the canonical text "
                "(\\n line ends, no BOM) that the offsets point into"
            )
        texts[source.guid] = source.text
        for variable, value in source.variables.items():
            if value is not None and not isinstance(value, (str, int)):
                problems.append(
                    f"{where}: variable '{variable}' is a {type(value).__name__}; "
                    "give text or a whole number"
                )
    known_users = set(users)
    for index, coding in enumerate(codings):
        where = (
            f"codings[{index}] ({coding.user} {coding.code_id} "
            f"{coding.source_guid}[{coding.start}:{coding.end}])"
        )
        if coding.user not in known_users:
            problems.append(f"{where}: user '{coding.user}' is not in users")
        if coding.code_id not in codebook.codes and coding.code_id != NO_CODE:
            close = difflib.get_close_matches(coding.code_id, sorted(codebook.codes), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(f"{where}: code '{coding.code_id}' is not in the codebook{hint}")
        text = texts.get(coding.source_guid)
        if text is None:
            problems.append(f"{where}: no source has guid {coding.source_guid}")
        elif coding.start < 0 or coding.end > len(text) or coding.end <= coding.start:
            problems.append(
                f"{where}: not a span of the text ({len(text)} characters): start must be 0 or "
                "more, end after start and at most the length"
            )
    return problems


def _utc(created: str) -> str:
    """Return ``created`` as an ``xs:dateTime`` in UTC with ``Z`` (naive times are UTC).

    Programs differ in how they read an offset such as ``+00:00``; QualCoder strips a ``Z``
    and nothing else, so every date we write ends in ``Z``.
    """
    moment = None
    if _DATETIME_RE.match(created):
        try:
            moment = datetime.fromisoformat(created)
        except ValueError:
            moment = None
    if moment is None:
        raise RefiError(
            f"created '{created}' is not an ISO date-time",
            "give the date and time with seconds, such as 2024-05-01T12:00:00Z",
        )
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- XML and zip plumbing ------------------------------------------------------------------------


def _sub(parent: etree._Element, tag: str, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{etree.QName(parent).namespace}}}{tag}")
    for key, value in attributes.items():
        element.set(key, value)
    return element


def _clean(text: str) -> str:
    """Replace what XML cannot hold (form feeds from PDFs, other controls) with U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def _serialise(root: etree._Element) -> bytes:
    body = etree.tostring(root, encoding="UTF-8", pretty_print=True)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def _zip_date(created: str) -> tuple[int, int, int, int, int, int]:
    """Return the zip entry date for ``created``: its wall-clock fields, within zip's range."""
    moment = datetime.fromisoformat(created)
    if not 1980 <= moment.year <= 2107:
        return ZIP_EPOCH
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def _zip(entries: list[tuple[str, bytes]], date_time: tuple[int, int, int, int, int, int]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for entry, data in entries:
            info = zipfile.ZipInfo(entry, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compresslevel=6)
    return buffer.getvalue()
