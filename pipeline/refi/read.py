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
* CRLF line ends in a text file. The text is normalised to ``\\n`` and each offset, taken to be
  counted in the file as stored (what the standard says offsets point into), is moved back by
  the number of ``\\r\\n`` pairs before it. A lone ``\\r`` becomes ``\\n`` without a shift.
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
"""

from __future__ import annotations

import bisect
import io
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_xml
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from pipeline.archives import PROJECT_LIMITS, ZipLimits, check_zip
from pipeline.errors import DshiftError
from pipeline.refi.write import (
    GUID_RE,
    ID_LINE,
    INTERNAL,
    NO_CODE,
    NO_CODE_NAME,
    PROJECT_ENTRY,
    SOURCES_FOLDER,
    RefiError,
    RefiSource,
    code_guid,
    no_code_guid,
    normalise_guid,
)

__all__ = [
    "MAX_ENTRY_BYTES",
    "RefiCode",
    "RefiError",
    "RefiProject",
    "RefiSpan",
    "read_codebook",
    "read_project",
]

MAX_ENTRY_BYTES = 256 * 1024 * 1024
"""The largest zip entry (project.qde or one text) we read: 256 MiB."""

MAX_LISTED = 25
"""How many problems an error message lists before it says how many more there are."""

_CODE_ID = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*\Z")
_TEXT_INSIDE = {"PDFSource": "Representation", "PictureSource": "TextDescription"}
_SKIPPED_SOURCES = ("PictureSource", "PDFSource", "AudioSource", "VideoSource")
_REEXPORT = "export it again from the program that made it"


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


@dataclass(frozen=True, order=True)
class RefiSpan:
    """One code applied by one coder to ``text[start:end]`` of a source (code points).

    ``note`` is the ``<Description>`` of the selection (the coding's memo), stripped.
    """

    user: str
    source_guid: str
    start: int
    end: int
    code_guid: str
    note: str = ""


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


# --- entry points --------------------------------------------------------------------------------


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
    root = _parse(data, "the codebook")
    if _local(root.tag) != "CodeBook":
        raise RefiError(
            f"the codebook's root element is <{_local(root.tag)}>, not <CodeBook>",
            "give a REFI-QDA codebook (.qdc); a whole project is a .qdpx",
        )
    problems = _Problems("the codebook")
    codes = _read_codes(root, code_ids, problems)
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
    archive = _open_zip(data)
    prefix = _project_prefix(archive)
    root = _parse(_read_entry(archive, prefix + PROJECT_ENTRY, max_bytes), PROJECT_ENTRY)
    if _local(root.tag) != "Project":
        raise RefiError(
            f"{PROJECT_ENTRY}'s root element is <{_local(root.tag)}>, not <Project>",
            f"give a REFI-QDA project (.qdpx); {_REEXPORT}",
        )
    problems = _Problems(PROJECT_ENTRY)
    users = _named_guids(root, "Users", "User", problems)
    codes = {code.guid: code for code in _read_codes(root, code_ids, problems)}
    variables = _named_guids(root, "Variables", "Variable", problems)
    default_user = _optional_guid(root.get("creatingUserGUID"))
    context = _Context(archive, prefix, max_bytes, users, codes, variables, default_user, problems)
    sources: dict[str, RefiSource] = {}
    codings: list[RefiSpan] = []
    skipped: list[str] = []
    for element in _children(_child(root, "Sources")):
        kind = _local(element.tag)
        inner = _child(element, _TEXT_INSIDE[kind]) if kind in _TEXT_INSIDE else None
        if kind == "TextSource" or inner is not None:
            read = context.text_source(element, inner)
            if read is None:
                continue
            source, spans = read
            if source.guid in sources:
                problems.add(_name(element), "another source has the same guid")
            sources[source.guid] = source
            codings += spans
            areas = _count_codings(element, ("PDFSelection", "PictureSelection"))
            if areas:
                skipped.append(f"{_name(element)}: {areas} coding(s) of areas are not read")
        elif kind in _SKIPPED_SOURCES:
            held = _count_codings(element)
            skipped.append(
                f"{_name(element)}: only sources with a plain text are read"
                + (f" ({held} coding(s) not read)" if held else "")
            )
    problems.raise_if_any()
    return RefiProject(root.get("name", ""), users, codes, sources, codings, skipped)


def _count_codings(element: Element, within: tuple[str, ...] = ()) -> int:
    """Count the ``<Coding>`` elements under ``element`` (only under ``within`` kinds if given)."""
    holders = [c for c in _children(element) if _local(c.tag) in within] if within else [element]
    return sum(1 for holder in holders for node in holder.iter() if _local(node.tag) == "Coding")


def _named_guids(root: Element, group: str, kind: str, problems: _Problems) -> dict[str, str]:
    """Return GUID to name for the ``kind`` elements of ``group`` (Users/User, ...)."""
    named: dict[str, str] = {}
    for element in _children(_child(root, group), kind):
        guid = problems.guid(element, "guid", kind)
        if guid:
            named[guid] = element.get("name") or element.get("id") or guid
    return named


# --- codes ---------------------------------------------------------------------------------------


def _read_codes(root: Element, code_ids: Iterable[str], problems: _Problems) -> list[RefiCode]:
    """Read the code tree under ``root`` (a CodeBook, or a Project holding one)."""
    book = root if _local(root.tag) == "CodeBook" else _child(root, "CodeBook")
    by_guid = {code_guid(code_id): code_id for code_id in code_ids}
    by_guid[no_code_guid()] = NO_CODE
    codes: list[RefiCode] = []

    def walk(parent: Element | None, parent_guid: str | None) -> None:
        for element in _children(parent, "Code"):
            guid = problems.guid(element, "guid", "Code")
            name = element.get("name")
            if name is None:
                problems.add(_name(element), "has no name attribute")
            described, description = _split_description(_text(_child(element, "Description")))
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

    walk(_child(book, "Codes"), None)
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


def _settle_code_ids(codes: list[RefiCode], problems: _Problems) -> list[RefiCode]:
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


# --- sources -------------------------------------------------------------------------------------


class _Context:
    """What reading a source needs: the archive, the project's tables and the problem list."""

    def __init__(
        self,
        archive: zipfile.ZipFile,
        prefix: str,
        max_bytes: int,
        users: dict[str, str],
        codes: dict[str, RefiCode],
        variables: dict[str, str],
        default_user: str | None,
        problems: _Problems,
    ) -> None:
        self.archive = archive
        self.prefix = prefix
        self.max_bytes = max_bytes
        self.users = users
        self.codes = codes
        self.variables = variables
        self.default_user = default_user
        self.problems = problems
        self.names = {info.filename.lower(): info.filename for info in archive.infolist()}

    def text_source(
        self, element: Element, inner: Element | None = None
    ) -> tuple[RefiSource, list[RefiSpan]] | None:
        """Read a text source; ``inner`` is the element holding the text of a PDF or picture."""
        where = _name(element)
        guid = self.problems.guid(element, "guid", _local(element.tag))
        holder = element if inner is None else inner
        place = where if inner is None else f"{where}: {_local(inner.tag)}"
        raw = self.raw_text(holder, place)
        if not guid or raw is None:
            return None
        text, shift = _normalise_line_ends(raw)
        source_user = (
            _optional_guid(element.get("creatingUser"))
            or _optional_guid(holder.get("creatingUser"))
            or self.default_user
        )
        spans: list[RefiSpan] = []
        for selection in _children(holder, "PlainTextSelection"):
            here = f"{where}: {_name(selection)}"
            start = self.position(selection, "startPosition", here)
            end = self.position(selection, "endPosition", here)
            if start is None or end is None:
                continue
            wrong = _span_problem(start, end, len(raw))
            if wrong:
                self.problems.add(here, wrong)
                continue
            selection_user = _optional_guid(selection.get("creatingUser")) or source_user
            note = _text(_child(selection, "Description")).strip()
            for coding in _children(selection, "Coding"):
                span = self.span(coding, selection_user, guid, shift(start), shift(end), here)
                if span is not None:
                    spans.append(span if not note else _with_note(span, note))
        for outer in {id(element): element, id(holder): holder}.values():
            for coding in _children(outer, "Coding"):
                span = self.span(coding, source_user, guid, 0, len(text), where)
                if span is not None:
                    spans.append(span)
        values = self.variable_values(holder, place) if inner is not None else {}
        values.update(self.variable_values(element, where))
        description = _text(_child(element, "Description")).strip()
        name = element.get("name") or holder.get("name") or guid
        return RefiSource(guid, name, text, values, description), spans

    def raw_text(self, element: Element, where: str) -> str | None:
        """Return the source's text as stored (BOM dropped), or None after adding a problem."""
        inline = _child(element, "PlainTextContent")
        path = element.get("plainTextPath")
        if inline is not None:
            return _text(inline).removeprefix("\ufeff")
        if not path:
            self.problems.add(
                where,
                "has no text: neither plainTextPath nor <PlainTextContent>; export the project "
                "again with the documents' text included",
            )
            return None
        if not path.startswith(INTERNAL):
            self.problems.add(
                where,
                f"keeps its text outside the project (plainTextPath='{path}'); export the "
                "project again with the sources embedded in the .qdpx",
            )
            return None
        file = path[len(INTERNAL) :].lstrip("/")
        wanted = f"{self.prefix}{SOURCES_FOLDER}/{file}"
        entry = self.names.get(wanted.lower())
        if entry is None:
            self.problems.add(
                where, f"its text {path} is not in the archive (looked for {wanted}); {_REEXPORT}"
            )
            return None
        try:
            raw = _read_entry(self.archive, entry, self.max_bytes)
        except RefiError as exc:
            self.problems.add(where, exc.message)
            return None
        try:
            if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
                return raw.decode("utf-16")
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            self.problems.add(
                where, f"its text {entry} is not UTF-8 ({exc.reason} at byte {exc.start})"
            )
            return None

    def position(self, element: Element, attribute: str, where: str) -> int | None:
        value = element.get(attribute)
        if value is None:
            self.problems.add(where, f"has no {attribute}")
            return None
        try:
            return int(value)
        except ValueError:
            self.problems.add(where, f"{attribute}='{value}' is not a whole number")
            return None

    def span(
        self,
        coding: Element,
        user_guid: str | None,
        source_guid: str,
        start: int,
        end: int,
        where: str,
    ) -> RefiSpan | None:
        here = f"{where}: {_name(coding)}"
        user_guid = _optional_guid(coding.get("creatingUser")) or user_guid
        reference = _child(coding, "CodeRef")
        target = None if reference is None else _optional_guid(reference.get("targetGUID"))
        if target is None:
            self.problems.add(here, "has no <CodeRef targetGUID=...>")
            return None
        if target not in self.codes:
            self.problems.add(here, f"refers to code {target}, which is not in the CodeBook")
            return None
        if user_guid is None:
            self.problems.add(
                here, "names no user (creatingUser): we keep who coded what; set the users"
            )
            return None
        if user_guid not in self.users:
            self.problems.add(here, f"creatingUser {user_guid} is not in <Users>")
            return None
        if start >= end:
            self.problems.add(here, "its span is empty (once CRLF line ends are made \\n)")
            return None
        return RefiSpan(self.users[user_guid], source_guid, start, end, target)

    def variable_values(self, element: Element, where: str) -> dict[str, str | int | None]:
        values: dict[str, str | int | None] = {}
        for holder in _children(element, "VariableValue"):
            reference = _child(holder, "VariableRef")
            target = None if reference is None else _optional_guid(reference.get("targetGUID"))
            if target not in self.variables:
                self.problems.add(
                    f"{where}: VariableValue", f"refers to variable {target}, not in <Variables>"
                )
                continue
            values[self.variables[target]] = _variable_value(holder)
        return values


def _with_note(span: RefiSpan, note: str) -> RefiSpan:
    return RefiSpan(span.user, span.source_guid, span.start, span.end, span.code_guid, note)


def _span_problem(start: int, end: int, length: int) -> str:
    """Say what is wrong with ``[start, end)`` as a span of a text of ``length`` code points."""
    if start < 0:
        return f"startPosition {start} is before the start of the text"
    if end > length:
        return f"endPosition {end} is beyond the end of the text ({length} characters)"
    if end <= start:
        return f"endPosition {end} is not after startPosition {start}"
    return ""


def _variable_value(holder: Element) -> str | int | None:
    for child in holder:
        kind = _local(child.tag)
        if kind == "VariableRef":
            continue
        value = _text(child).strip()
        if kind == "IntegerValue":
            try:
                return int(value)
            except ValueError:
                return value
        if kind == "BooleanValue":
            return value in ("true", "1")
        return value
    return None


def _normalise_line_ends(raw: str) -> tuple[str, _Shift]:
    """Return the text with ``\\n`` line ends and a map from offsets in ``raw`` to it."""
    pairs = [match.start() for match in re.finditer("\r\n", raw)]
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    return text, _Shift(pairs)


class _Shift:
    """Moves an offset back by the number of ``\\r\\n`` pairs whose ``\\r`` comes before it."""

    def __init__(self, pairs: list[int]) -> None:
        self.pairs = pairs

    def __call__(self, offset: int) -> int:
        return offset - bisect.bisect_left(self.pairs, offset)


# --- zip -----------------------------------------------------------------------------------------


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise RefiError(
            f"the project is not a zip archive ({exc})",
            "give the .qdpx file as the program exported it (a .qde alone lacks the texts)",
        ) from None


def _project_prefix(archive: zipfile.ZipFile) -> str:
    """Return the folder project.qde is in: '' at the root, or one top-level folder."""
    names = [n for n in archive.namelist() if not n.startswith("__MACOSX/")]
    if PROJECT_ENTRY in names:
        return ""
    found = [n for n in names if n.lower() == PROJECT_ENTRY]
    if not found:
        found = [n for n in names if re.fullmatch(r"[^/]+/project\.qde", n, re.IGNORECASE)]
    if len(found) == 1:
        return found[0][: -len(PROJECT_ENTRY)]
    listed = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "") or "nothing"
    if not found:
        raise RefiError(
            f"the archive has no {PROJECT_ENTRY} (it holds: {listed})",
            f"give a REFI-QDA project (.qdpx); {_REEXPORT}",
        )
    raise RefiError(
        f"the archive has {len(found)} files named {PROJECT_ENTRY}: {', '.join(found)}",
        "give one project per .qdpx",
    )


def _read_entry(archive: zipfile.ZipFile, name: str, max_bytes: int) -> bytes:
    try:
        info = archive.getinfo(name)
        if info.file_size > max_bytes:
            raise RefiError(
                f"{name} is {info.file_size} bytes, more than the limit of {max_bytes}",
                "raise max_bytes only if you trust the file",
            )
        with archive.open(info) as handle:
            data = handle.read(max_bytes + 1)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, zlib.error) as exc:
        raise RefiError(
            f"cannot read {name} from the archive ({exc})", f"the .qdpx is damaged; {_REEXPORT}"
        ) from None
    if len(data) > max_bytes:
        raise RefiError(
            f"{name} unpacks to more than {max_bytes} bytes", "raise max_bytes only if you trust it"
        )
    return data


# --- XML -----------------------------------------------------------------------------------------


def _parse(data: bytes, what: str) -> Element:
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
            f"{_REEXPORT}; a file edited by hand must stay valid XML",
        ) from None
    return root


def _local(tag: str) -> str:
    """Return a tag without its namespace: programs differ in the namespace they write."""
    return tag.rpartition("}")[2]


def _children(parent: Element | None, name: str | None = None) -> Iterator[Element]:
    if parent is None:
        return
    for child in parent:
        if isinstance(child.tag, str) and (name is None or _local(child.tag) == name):
            yield child


def _child(parent: Element | None, name: str) -> Element | None:
    return next(_children(parent, name), None)


def _text(element: Element | None) -> str:
    return "" if element is None else "".join(element.itertext())


def _name(element: Element) -> str:
    """Name an element for a message: its kind, its name and its guid where it has them."""
    label = _local(element.tag)
    if element.get("name"):
        label += f" '{element.get('name')}'"
    if element.get("guid"):
        label += f" ({element.get('guid')})"
    return label


def _optional_guid(value: str | None) -> str | None:
    return normalise_guid(value) if value and GUID_RE.match(value.strip()) else None


class _Problems:
    """Collects what is wrong, so that one error lists every problem with its element."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.found: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.found.append(f"{where}: {message}")

    def guid(self, element: Element, attribute: str, kind: str) -> str:
        value = element.get(attribute)
        if value is None:
            self.add(_name(element), f"a {kind} needs a {attribute} attribute")
            return ""
        if not GUID_RE.match(value.strip()):
            self.add(_name(element), f"{attribute} '{value}' is not a GUID")
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
            f"{_REEXPORT}; if the file was edited by hand, correct the elements listed",
        )
