"""Find our documents, codes and segments in a project that another program wrote (pure).

A program that imports our ``.qdpx`` and exports it again may give every source, code and user
a fresh GUID, rename a source or change its kind (QualCoder writes a source named ``x.pdf``
as a ``<PDFSource>``). What comes back is matched by what survives, most certain first:

* a source by its GUID; else by the document id we keep in the file (the ``dshift_document``
  variable, or the ``dshift document:`` line of its description); else by its name; else by
  the sha256 of its plain text. A source matched by anything but its text must also have
  exactly our text, or its offsets would point elsewhere: it is then left unmatched.
* a code by its GUID or the ``id:`` line of its description (both settled by the reader);
  else by the path of names from the top of the code tree, compared with our labels.
* a selection to the segments it covers (:func:`place`).
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pipeline.codebook.model import Codebook
from pipeline.refi.read import RefiCode
from pipeline.refi.write import NO_CODE, RefiSource, source_guid

DOCUMENT_VARIABLE = "dshift_document"
"""The source variable that holds our document's sha256."""

DOCUMENT_LINE = "dshift document: "
EXPORT_LINE = "dshift export: decisions up to #"
CODERS_PART = "; coded here by: "

_SHA256 = re.compile(r"[0-9a-f]{64}\Z")


@dataclass(frozen=True)
class Document:
    """One of our documents as matching needs it.

    Attributes:
        sha256: the sha256 of its file (its identity across workspaces).
        name: its file name.
        text: its canonical text.
        segments: (start, end, segment id) of its segments, in text order.
    """

    sha256: str
    name: str
    text: str
    segments: list[tuple[int, int, str]]


@dataclass(frozen=True)
class Manifest:
    """What our export wrote about one source: whose codings it held, as of which decision.

    Attributes:
        sha256: the document's sha256.
        decisions_upto: the id of the newest decision the export saw (0: none).
        coders: the coders whose decisions on this document the export wrote.
    """

    sha256: str
    decisions_upto: int | None
    coders: tuple[str, ...]


def source_description(manifest: Manifest) -> str:
    """Return the description of a source we export (see :func:`read_manifest`)."""
    lines = [f"{DOCUMENT_LINE}{manifest.sha256}"]
    if manifest.decisions_upto is not None:
        coders = ", ".join(manifest.coders) or "nobody"
        lines.append(f"{EXPORT_LINE}{manifest.decisions_upto}{CODERS_PART}{coders}")
    return "\n".join(lines)


def read_manifest(source: RefiSource) -> Manifest | None:
    """Return what our export wrote about ``source``, or None if nothing of it survived.

    The document id is taken from the variable, else from the description; who had coded the
    source and up to which decision only from the description (no variable can hold a list).
    """
    sha = None
    value = source.variables.get(DOCUMENT_VARIABLE)
    if isinstance(value, str) and _SHA256.match(value.strip().lower()):
        sha = value.strip().lower()
    upto: int | None = None
    coders: tuple[str, ...] = ()
    for line in source.description.replace("\r\n", "\n").split("\n"):
        line = line.strip()
        if line.startswith(DOCUMENT_LINE):
            candidate = line[len(DOCUMENT_LINE) :].strip().lower()
            if sha is None and _SHA256.match(candidate):
                sha = candidate
        elif line.startswith(EXPORT_LINE):
            number, _, names = line[len(EXPORT_LINE) :].partition(CODERS_PART.strip())
            if number.strip().rstrip(";").isdigit():
                upto = int(number.strip().rstrip(";"))
                listed = [n.strip() for n in names.split(",") if n.strip()]
                coders = tuple(sorted(n for n in listed if n != "nobody"))
    if sha is None:
        return None
    return Manifest(sha, upto, coders)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SourceMatch:
    """How a source of the file was matched: the document and what matched it."""

    document: Document
    by: str  # guid, document id, name, text


def match_sources(
    sources: Iterable[RefiSource], documents: Iterable[Document]
) -> tuple[dict[str, SourceMatch], dict[str, str]]:
    """Match each source to one of our documents.

    Returns:
        (source GUID to its match, source GUID to why it was not matched).
    """
    docs = list(documents)
    by_guid = {source_guid(d.sha256): d for d in docs}
    by_sha = {d.sha256: d for d in docs}
    by_name: dict[str, list[Document]] = {}
    by_text: dict[str, list[Document]] = {}
    for d in docs:
        by_name.setdefault(_plain_name(d.name), []).append(d)
        by_text.setdefault(text_hash(d.text), []).append(d)
    matched: dict[str, SourceMatch] = {}
    unmatched: dict[str, str] = {}
    for source in sources:
        manifest = read_manifest(source)
        found: tuple[Document, str] | None = None
        if source.guid in by_guid:
            found = (by_guid[source.guid], "guid")
        elif manifest is not None and manifest.sha256 in by_sha:
            found = (by_sha[manifest.sha256], "document id")
        elif len(by_name.get(_plain_name(source.name), [])) == 1:
            found = (by_name[_plain_name(source.name)][0], "name")
        if found is not None and found[0].text != source.text:
            unmatched[source.guid] = (
                f"matched {found[0].name} by {found[1]}, but its text differs from that "
                "document's, so its offsets cannot be trusted"
            )
            continue
        if found is None:
            same = by_text.get(text_hash(source.text), [])
            if len(same) == 1:
                found = (same[0], "text")
            elif manifest is not None:
                unmatched[source.guid] = (
                    f"document {manifest.sha256[:12]} is not in this workspace "
                    "(or no longer current)"
                )
                continue
            else:
                unmatched[source.guid] = (
                    "no document of this workspace has its GUID, document id, name or text"
                )
                continue
        matched[source.guid] = SourceMatch(found[0], found[1])
    return matched, unmatched


def _plain_name(name: str) -> str:
    """A source's name as we compare it: without the ``.txt`` we add, case folded."""
    name = name.strip()
    if name.lower().endswith(".txt"):
        name = name[:-4]
    return name.casefold()


def match_codes(codes: Mapping[str, RefiCode], codebook: Codebook) -> dict[str, str | None]:
    """Return each code GUID's code id (or :data:`NO_CODE`), None where none matches.

    A code the reader did not settle by GUID or description is matched, in this order: by a
    name that is one of our code ids (Taguette names a tag by its path, such as
    ``hedging.china``); by the path of names from the top of the tree (``Alignment / Aid``),
    compared with our labels, case folded; and, for a code at the top of a flat code list, by
    a name that is the label of exactly one of our codes.
    """
    paths: dict[tuple[str, ...], str] = {}
    labels: dict[str, list[str]] = {}
    for code_id, code in codebook.codes.items():
        paths[_label_path(code_id, codebook)] = code_id
        labels.setdefault(code.label.strip().casefold(), []).append(code_id)
    known = set(codebook.codes) | {NO_CODE}
    flat = all(code.parent_guid is None for code in codes.values())
    out: dict[str, str | None] = {}
    for guid, found in codes.items():
        name = found.name.strip()
        if found.code_id in known:
            out[guid] = found.code_id
        elif name in codebook.codes:
            out[guid] = name
        elif _name_path(guid, codes) in paths:
            out[guid] = paths[_name_path(guid, codes)]
        elif flat and len(labels.get(name.casefold(), [])) == 1:
            out[guid] = labels[name.casefold()][0]
        else:
            out[guid] = None
    return out


def _label_path(code_id: str, codebook: Codebook) -> tuple[str, ...]:
    labels: list[str] = []
    code = codebook.codes.get(code_id)
    while code is not None:
        labels.append(code.label.strip().casefold())
        code = codebook.codes.get(code.parent) if code.parent else None
    return tuple(reversed(labels))


def _name_path(guid: str, codes: Mapping[str, RefiCode]) -> tuple[str, ...]:
    names: list[str] = []
    seen: set[str] = set()
    current: str | None = guid
    while current is not None and current in codes and current not in seen:
        seen.add(current)
        names.append(codes[current].name.strip().casefold())
        current = codes[current].parent_guid
    return tuple(reversed(names))


@dataclass(frozen=True)
class Placement:
    """Where a selection falls: the segments it codes, and what is odd about it ('' if not)."""

    segments: tuple[str, ...]
    odd: str


def place(start: int, end: int, document: Document) -> Placement:
    """Map the selection ``text[start:end]`` of ``document`` to the segments it codes.

    A selection codes each segment it covers by at least half (of the segment's text without
    surrounding spaces); one that covers no segment by half, such as a phrase, codes the
    segment holding most of it. Odd, and said so: a selection that crosses into a segment it
    does not cover by half, or that holds nothing but spaces.
    """
    segments = document.segments
    starts = [s for s, _, _ in segments]
    index = max(bisect.bisect_right(starts, start) - 1, 0)
    touched: list[tuple[str, int, int]] = []  # segment id, overlap, core length
    for seg_start, seg_end, segment_id in segments[index:]:
        if seg_start >= end:
            break
        core_start, core_end = _core(document.text, seg_start, seg_end)
        shared = min(end, core_end) - max(start, core_start)
        if shared > 0:
            touched.append((segment_id, shared, core_end - core_start))
    if not touched:
        return Placement((), "selects only spaces or text outside every segment")
    covered = [t for t in touched if 2 * t[1] >= t[2]]
    if not covered:
        best = max(touched, key=lambda t: t[1])
        odd = "" if len(touched) == 1 else f"crosses {len(touched)} segments, none by half"
        return Placement((best[0],), odd)
    partly = [t for t in touched if t not in covered]
    odd = f"also touches {len(partly)} segment(s) by less than half" if partly else ""
    return Placement(tuple(t[0] for t in covered), odd)


def _core(text: str, start: int, end: int) -> tuple[int, int]:
    """Return [start, end) without the spaces at either end (the whole span if all spaces)."""
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return start, end
    left = len(piece) - len(piece.lstrip())
    return start + left, start + left + len(stripped)
