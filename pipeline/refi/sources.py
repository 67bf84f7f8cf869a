"""Reading a REFI-QDA project's text sources and the codings on them.

Every source kind that carries a plain text is read the same way (a ``<TextSource>``, or a PDF or
picture source by the element holding its text). The text is normalised to ``\\n`` line ends,
offsets stored against CRLF text are shifted to match, and every coding becomes a
:class:`RefiSpan` naming its coder, or a problem naming its element.
"""

from __future__ import annotations

import bisect
import re
import zipfile
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from pipeline.refi.archive import read_entry
from pipeline.refi.codes import RefiCode
from pipeline.refi.parse import (
    REEXPORT,
    Problems,
    children,
    element_name,
    first_child,
    local_name,
    optional_guid,
    text_of,
)
from pipeline.refi.write import INTERNAL, SOURCES_FOLDER, RefiError, RefiSource


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


class SourceReader:
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
        problems: Problems,
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
        where = element_name(element)
        guid = self.problems.guid(element, "guid", local_name(element.tag))
        holder = element if inner is None else inner
        place = where if inner is None else f"{where}: {local_name(inner.tag)}"
        raw = self.raw_text(holder, place)
        if not guid or raw is None:
            return None
        text, shift = _normalise_line_ends(raw)
        source_user = (
            optional_guid(element.get("creatingUser"))
            or optional_guid(holder.get("creatingUser"))
            or self.default_user
        )
        spans: list[RefiSpan] = []
        for selection in children(holder, "PlainTextSelection"):
            here = f"{where}: {element_name(selection)}"
            start = self.position(selection, "startPosition", here)
            end = self.position(selection, "endPosition", here)
            if start is None or end is None:
                continue
            wrong = _span_problem(start, end, len(raw))
            if wrong:
                self.problems.add(here, wrong)
                continue
            selection_user = optional_guid(selection.get("creatingUser")) or source_user
            note = text_of(first_child(selection, "Description")).strip()
            for coding in children(selection, "Coding"):
                span = self.span(coding, selection_user, guid, shift(start), shift(end), here)
                if span is not None:
                    spans.append(span if not note else _with_note(span, note))
        for outer in {id(element): element, id(holder): holder}.values():
            for coding in children(outer, "Coding"):
                span = self.span(coding, source_user, guid, 0, len(text), where)
                if span is not None:
                    spans.append(span)
        values = self.variable_values(holder, place) if inner is not None else {}
        values.update(self.variable_values(element, where))
        description = text_of(first_child(element, "Description")).strip()
        name = element.get("name") or holder.get("name") or guid
        return RefiSource(guid, name, text, values, description), spans

    def raw_text(self, element: Element, where: str) -> str | None:
        """Return the source's text as stored (BOM dropped), or None after adding a problem."""
        inline = first_child(element, "PlainTextContent")
        path = element.get("plainTextPath")
        if inline is not None:
            return text_of(inline).removeprefix("\ufeff")
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
                where, f"its text {path} is not in the archive (looked for {wanted}); {REEXPORT}"
            )
            return None
        try:
            raw = read_entry(self.archive, entry, self.max_bytes)
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
        here = f"{where}: {element_name(coding)}"
        user_guid = optional_guid(coding.get("creatingUser")) or user_guid
        reference = first_child(coding, "CodeRef")
        target = None if reference is None else optional_guid(reference.get("targetGUID"))
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
        for holder in children(element, "VariableValue"):
            reference = first_child(holder, "VariableRef")
            target = None if reference is None else optional_guid(reference.get("targetGUID"))
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
        kind = local_name(child.tag)
        if kind == "VariableRef":
            continue
        value = text_of(child).strip()
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
