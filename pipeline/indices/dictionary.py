"""The data dictionary: every exported column, its type and what it means."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pandas as pd

from pipeline.core.codes import TOP_CODES
from pipeline.models import SOURCE_TYPES

COLUMNS = {
    "period": "the period: a year (2013), a quarter (2013-Q2) or a month (2013-04)",
    "code": "code id from the codebook (top-level or subcode)",
    "breakdown": "overall, source_type or partner",
    "group": "'all' for overall; else the source type or the partner id",
    "documents": "documents in the period (and group)",
    "segments": "segments (sentences) in the period (and group)",
    "words": "words in those segments",
    "coded_segments": "segments carrying the code (final codes: human decision, else machine)",
    "machine_segments": "coded segments whose final codes are the machine's",
    "human_segments": "coded segments whose final codes are a coder's decision",
    "low_documents": "true when the value rests on fewer documents than the threshold",
    "corrected_share": "overall share corrected for the machine's error rates measured on "
    "reviewed segments (adjusted classify-and-count: (share - FPR) / (TPR - FPR), clipped)",
    "corrected_low": "lower end of the corrected share's 95% bootstrap interval",
    "corrected_high": "upper end of the corrected share's 95% bootstrap interval",
    "correction_differs": "true when the raw share lies outside the corrected interval",
    "reliability_flag": "true when the machine's agreement with coders on this code (alpha on "
    "reviewed segments) is below the reliability gate: read the value with care",
    "segment_id": "stable segment id (a hash of document, segmenter and offsets)",
    "document_id": "document id in the corpus store",
    "title": "document title",
    "source_type": "mofa, ispr, treaty, speech or other",
    "date": "document date (ISO; YYYY-MM or YYYY when that is all that is known)",
    "year": "document year",
    "period_start": "first day of the period (1 January of a year, the first day of a quarter "
    "or month): a date (a Stata %td date in .dta); empty for undated or unplaceable rows",
    "top_code": "the top-level code of the code",
    "code_path": "the code's path in the code tree",
    "partners": "partners the segment speaks about (';'-separated partner ids)",
    "evidence": "pattern ids and matched text that made the machine tag",
    "confidence": "the machine coder's confidence (0-1)",
    "decided_by": "who settled the segment's final codes: machine (no human decision), coders "
    "(the majority of the coders' current decisions) or adjudicator",
    "decision": "the deciding action: accept, reject or relabel (empty when decided_by is "
    "machine); a segment humans gave no code has one row with an empty code",
    "coder": "the machine coder and its version, or the human coders who decided (';'-separated)",
    "codebook_version": "hash of the codebook content the tag was made under",
    "start": "first character of the segment in the document's canonical text",
    "end": "character after the segment's end in the canonical text",
    "text": "the segment's text",
    "sha256": "sha256 of the document file's bytes (its identity)",
    "name": "file name of the document when first seen",
    "index": "the composite index",
    "value": "the composite index's value",
    "low": "lower end of the 95% bootstrap interval",
    "high": "upper end of the 95% bootstrap interval",
    "series": "the series a row is about",
    "previous_period": "the period before",
    "previous_value": "the value in the period before",
    "change": "value minus previous value",
    "direction": "up or down",
    "topic": "topic number of the LDA model kept by 'dshift topics'",
    "rank": "rank of the term in its topic",
    "term": "a lemma or a two-word phrase (joined by '_')",
    "weight": "the term's weight in its topic, or the segment's share of the topic",
    "doc_id": "document id in the corpus store (document_id elsewhere in the export)",
    "file_name": "file name of the document when first seen",
    "file_names": "every file name the document was seen under (';'-separated, sorted)",
    "issuer": "who issued the document, where known",
    "language": "language of the document, where known",
    "kind": "file format the text was read from (pdf, docx, html, txt)",
    "n_pages": "pages in the document",
    "n_chars": "characters (code points) in the canonical text",
    "extractor": "the text extractor and its version",
    "seq": "position of the segment in its document (0 first)",
    "n_words": "words in the segment",
}
TABLE_COLUMNS = {
    ("corpus_documents", "text"): "the document's canonical text (NFC, \\n line ends), into "
    "which the segments' start and end point",
    ("corpus_segments", "text"): "the segment's text: the document's text from start to end",
    ("corpus_segments", "start"): "first code point of the segment in the document's text "
    "(0-based: text[start:end] in Python, substr(text, start + 1, end) in R)",
    ("corpus_segments", "end"): "code point after the segment's end in the document's text",
    ("corpus_segments", "decided_by"): "machine (the active machine coder's tags) or human "
    "(a coder's or adjudicator's decision)",
}
"""Descriptions that hold for one table's column only."""
CATEGORIES: dict[str, tuple[str, ...]] = {
    "breakdown": ("overall", "source_type", "partner"),
    "source_type": SOURCE_TYPES,
    "top_code": TOP_CODES,
    "decided_by": ("machine", "human", "coders", "adjudicator"),
    "decision": ("accept", "reject", "relabel"),
    "direction": ("up", "down"),
}
"""Text columns that hold a small closed set of values, in the order Stata numbers them."""

NOTES = {
    "text": "CSV files alone put a ' in front of text that starts with =, +, -, @, a tab or a "
    "carriage return (after any spaces), so that a spreadsheet program opening them runs no "
    "formula. The workbook (typed text cells), Parquet, JSON and Stata files hold the text "
    "exactly as it is: read one of those where the exact text or its offsets matter.",
    "stata": "In .dta files each variable's label is its description here (a renamed column's "
    "name first; stata_names.csv maps the names), period_start is a %td date, and the columns "
    "with values listed here are numbered codes with those value labels (empty text: missing).",
}
"""Notes on the whole export, shown with the data dictionary (as rows of table ``(note)``)."""

PERIOD_YEAR = (
    "year of the period, an integer (empty for undated or unplaceable rows); with "
    "period_start, the numeric time variables derived from period"
)
"""What ``year`` means in a table that has a ``period`` column."""

_PATTERNS = [
    (
        re.compile(r"^codes_(.+)$"),
        "final codes of track {0}: the most specific ones, ';'-separated (a human decision, "
        "else the active machine coder); empty when none",
    ),
    (
        re.compile(r"^topic_(\d+)$"),
        "mean share of topic {0} in the period's documents (each document counts once)",
    ),
    (re.compile(r"^(.+)_any$"), "1 if any segment of the document carries code {0}, else 0"),
    (re.compile(r"^(.+)_n$"), "number of the document's segments carrying code {0}"),
    (re.compile(r"^(alignment|securitization|hedging)_(.+)$"), "{1} of {0} (see that column)"),
    (re.compile(r"^(.+)_(value|low|high)$"), "{1} of the composite index {0}"),
]


def describe(column: str, formulas: dict[str, str]) -> str:
    if column in formulas:
        return formulas[column]
    if column in COLUMNS:
        return COLUMNS[column]
    for pattern, text in _PATTERNS:
        match = pattern.match(column)
        if match:
            return text.format(*match.groups())
    return ""


def value_sets(
    tables: Mapping[str, pd.DataFrame], codes: Sequence[str] = ()
) -> dict[str, dict[str, list[str]]]:
    """Per table, the closed-set text columns (:data:`CATEGORIES`, and ``code`` when the
    codebook's ``codes`` are given) and their values: the known ones in order, then any other
    value found, sorted, so that the same values always get the same numbers."""
    known = {**CATEGORIES, "code": tuple(codes)} if codes else dict(CATEGORIES)
    found: dict[str, dict[str, list[str]]] = {}
    for table, frame in tables.items():
        for column, values in known.items():
            if column not in frame.columns or not _is_text(frame[column]):
                continue
            present = {str(v) for v in frame[column].dropna().unique() if str(v)}
            found.setdefault(table, {})[column] = [
                *values,
                *sorted(present - set(values)),
            ]
    return found


def _is_text(column: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(column.dtype) or pd.api.types.is_string_dtype(column.dtype)


def values_text(values: Sequence[str]) -> str:
    """The values of a closed set with their Stata codes, as the dictionary shows them.

    Examples:
        >>> values_text(["up", "down"])
        '1=up; 2=down'
    """
    return "; ".join(f"{number}={value}" for number, value in enumerate(values, start=1))


def _description(table: str, frame: pd.DataFrame, column: str, formulas: dict[str, str]) -> str:
    if (table, column) in TABLE_COLUMNS:
        return TABLE_COLUMNS[(table, column)]
    if column == "year" and "period" in frame.columns:
        return PERIOD_YEAR
    return describe(column, formulas)


def data_dictionary(
    tables: dict[str, pd.DataFrame],
    formulas: dict[str, str],
    categories: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
) -> pd.DataFrame:
    """One row per exported table and column: table, column, type, description, and for a
    closed-set column its values with their Stata codes (``categories``, see
    :func:`value_sets`)."""
    categories = categories or {}
    rows = []
    for table, frame in tables.items():
        for column in frame.columns:
            values = categories.get(table, {}).get(column)
            rows.append(
                {
                    "table": table,
                    "column": column,
                    "type": str(frame[column].dtype),
                    "values": values_text(values) if values else "",
                    "description": _description(table, frame, str(column), formulas),
                }
            )
    for topic, note in NOTES.items():
        rows.append(
            {"table": "(note)", "column": topic, "type": "", "description": note, "values": ""}
        )
    for name, formula in sorted(formulas.items()):
        if not any(r["column"] == name for r in rows):
            rows.append(
                {
                    "table": "(formula)",
                    "column": name,
                    "type": "",
                    "description": formula,
                    "values": "",
                }
            )
    return pd.DataFrame(rows, columns=["table", "column", "type", "description", "values"])
