"""Views for coders: keyword in context, and why a segment was coded as it was."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline.codebook.load import CodebookError, parse_codebook
from pipeline.codebook.model import Codebook
from pipeline.codebook.report import describe_pattern
from pipeline.core import DEFAULT_SEGMENTER
from pipeline.errors import DshiftError
from pipeline.store import Store

# Coders whose evidence is "NAME:feature|feature" over the whole segment, not a matched span.
MODEL_CODERS = ("learned.v1", "ml.v1", "ensemble.v1")
# How a learned coder's feature names read to a coder (see pipeline.learning.tracks.signals).
_SIGNALS = {
    "rule": "the rules found {}",
    "rule_track": "the rules found {} (any subcode)",
    "partner": "names {}",
    "near": "{} named in a sentence either side",
    "resolved": "refers back to {}",
    "titled": "the title names {}",
    "kind": "a {} document",
    "speaker": "spoken by {}",
}
_WHOLES = {
    "chars": "the letters of its words (character n-grams)",
    "context": "the words of the sentences either side",
    "refers_back": "refers back to a partner ('the two sides')",
    "nothing": "no rule and no partner",
}


def feature_in_words(name: str, partners: dict[str, str] | None = None) -> str:
    """A learned coder's feature as a coder reads it: ``partner=china`` -> "names China" (the
    codebook's label, from ``partners``), a word or pair of words in quotes; a signal
    conjoined with a speaker says so."""
    speaker, bar, rest = name.partition("|")
    if bar:
        return f"{feature_in_words(rest, partners)}, when {speaker} speaks"
    if name in _WHOLES:
        return _WHOLES[name]
    kind, equals, value = name.partition("=")
    if equals and kind in _SIGNALS:
        return _SIGNALS[kind].format((partners or {}).get(value, value))
    return f"'{name}'"


def latest_version(store: Store) -> str | None:
    versions = store.coded_versions(store.active_coder())
    return versions[-1] if versions else None


def kwic_lines(
    store: Store,
    term: str,
    *,
    code: str | None = None,
    year: int | None = None,
    width: int = 50,
    limit: int = 100,
) -> Iterator[str]:
    """Yield keyword-in-context lines for ``term`` over the segments of current documents."""
    words = [re.escape(w) for w in term.split()]
    if not words:
        raise DshiftError(
            "the search term is empty", "give a word or phrase to look for", code="usage"
        )
    pattern = re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)
    allowed: set[str] | None = None
    if code is not None:
        version = latest_version(store)
        if version is None:
            raise DshiftError(
                "nothing has been coded yet", "run 'dshift code' first", code="not-ready"
            )
        allowed = store.tagged_segments(store.active_coder(), version).get(code, set())
    shown = 0
    for segment, text, doc_year, name in store.segment_texts(DEFAULT_SEGMENTER, year):
        if allowed is not None and segment.id not in allowed:
            continue
        for match in pattern.finditer(text):
            left = text[max(0, match.start() - width) : match.start()].rjust(width)
            right = text[match.end() : match.end() + width].ljust(width)
            # The document's whole name goes last, so that long names neither get cut nor
            # push the context columns out of line.
            yield f"{doc_year or '----'} {left} [{match.group()}] {right} {segment.id} {name}"
            shown += 1
            if shown >= limit:
                return


def explain_segment(store: Store, segment_id: str) -> str:
    """Describe a segment: its document, its paragraph, and every tag with its evidence."""
    segment = store.segment(segment_id)
    if segment is None:
        raise DshiftError(
            f"no segment '{segment_id}'",
            "segment ids are printed by 'dshift kwic' and in exports",
            code="not-found",
        )
    document = store.document(segment.document_id)
    assert document is not None
    text = store.document_text(segment.document_id)
    para_start = text.rfind("\n\n", 0, segment.start)
    para_start = 0 if para_start < 0 else para_start + 2
    para_end = text.find("\n\n", segment.end)
    para_end = len(text) if para_end < 0 else para_end
    shown = (
        text[para_start : segment.start]
        + "»"
        + text[segment.start : segment.end]
        + "«"
        + text[segment.end : para_end]
    )
    lines = [
        f"segment {segment.id}: document #{document.id} {document.name} "
        f"({document.source_type}, {document.date or 'undated'}), characters "
        f"{segment.start}-{segment.end}, {segment.n_words} words",
        "",
        shown,
        "",
    ]
    tags = store.tags_of_segment(segment_id)
    if not tags:
        lines.append("no tags")
    books: dict[str, Codebook | None] = {}
    for tag in sorted(tags, key=lambda t: (t.codebook_version, t.code)):
        version = tag.codebook_version
        if version not in books:
            content = store.codebook_content(version)
            try:
                books[version] = parse_codebook(content, version) if content else None
            except CodebookError:  # stored before today's rules (e.g. with YAML anchors)
                books[version] = None
        book = books[version]
        partners = f"; partners {', '.join(tag.partners)}" if tag.partners else ""
        lines.append(
            f"{tag.code} (under {version}, {tag.coder}, confidence {tag.confidence:.2f}{partners})"
        )
        for evidence in tag.evidence:
            model, _, pulls = str(evidence["pattern"]).partition(":")
            if pulls and not evidence["text"] and model in MODEL_CODERS:
                # A learned coder's verdict on the whole segment: its probability is the tag's
                # confidence; these are the features that pushed hardest towards the code.
                labels = {p.id: p.label for p in book.partners.values()} if book else {}
                pushed = "; ".join(feature_in_words(f, labels) for f in pulls.split("|"))
                pushed = pushed or "none above zero"
                lines.append(f"    {model}: p = {tag.confidence:.2f}; pushed by {pushed}")
                continue
            why = ""
            if book is not None:
                pattern = next((p for p in book.patterns() if p.id == evidence["pattern"]), None)
                why = f" — {describe_pattern(pattern)}" if pattern else ""
            lines.append(
                f"    '{evidence['text']}' [{evidence['start']}-{evidence['end']}] by "
                f"{evidence['pattern']}{why}"
            )
    decisions = store.decisions([segment_id])
    if decisions:
        current_version = latest_version(store)
        lines.append("coders' decisions (oldest first; never changed, undo is a new one):")
        for d in decisions:
            older = (
                " (made under an older codebook)" if d.codebook_version != current_version else ""
            )
            codes = ", ".join(d.codes) or "no codes"
            note = f" — {d.note}" if d.note else ""
            lines.append(
                f"    {d.created_at} {d.coder} ({d.role}) {d.action}: {codes}"
                f"{older} [{d.source}]{note}"
            )
    return "\n".join(lines)
