"""Infer a document's metadata, and choose among the candidates.

Every candidate value is kept with its source (sidecar, text, file name, file info, manual); the
value a document is filed under is chosen by :func:`resolve`, a pure function, so that a sidecar in
a later drop or ``dshift doc set-date`` simply adds a candidate and re-resolves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from pipeline.models import METADATA_SOURCES, SOURCE_TYPES, MetaValue, Resolved

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))


def _date_forms(tag: str = "") -> str:
    """Day-month-year and month-day-year, with group names suffixed by ``tag``."""
    month = rf"(?P<month{tag}>{_MONTH_NAMES})\.?"
    day = rf"(?P<day{tag}>[0-3]?\d)(?:st|nd|rd|th)?"
    year = rf"(?P<year{tag}>(?:19|20)\d\d)"
    dmy = rf"(?:the\s+)?{day}(?:\s+day)?\s+(?:of\s+)?{month},?\s+{year}"
    day_b, month_b, year_b = (
        x.replace(f"<day{tag}>", f"<day{tag}b>")
        .replace(f"<month{tag}>", f"<month{tag}b>")
        .replace(f"<year{tag}>", f"<year{tag}b>")
        for x in (day, month, year)
    )
    mdy = rf"{month_b}\s+{day_b},?\s+{year_b}"
    return rf"(?:{dmy}|{mdy})"


_DMY_OR_MDY = _date_forms()
_WEEKDAY = r"(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,?\s+)?"
_PLACE = r"(?P<place>[A-Z][A-Za-z'’.-]+(?:[ -][A-Z][A-Za-z'’.-]+){0,2})"

# (pattern, what it is), tried in order; the first match of the earliest pattern wins.
TEXT_DATES = [
    # "Islamabad, 15 April 2013", "Islamabad, Thursday, 24 August 2017", and a dateline closing a
    # longer line: "Issue Brief No. 14 — Islamabad, 6 September 2010".
    (
        re.compile(rf"(?:^|[—–|:]\s*)\s*{_PLACE},?\s+{_WEEKDAY}{_DMY_OR_MDY}\s*$", re.M | re.I),
        "dateline",
    ),
    (
        re.compile(rf"\bDone\s+at\s+{_PLACE}\s*,?\s+(?:on\s+)?(?:this\s+)?{_DMY_OR_MDY}", re.I),
        "signature clause",
    ),
    (re.compile(rf"\b(?:dated|date)\s*:?\s*{_DMY_OR_MDY}", re.I), "date line"),
    (re.compile(rf"^\s*{_WEEKDAY}{_DMY_OR_MDY}\s*$", re.M), "date line"),
]
TEXT_YEARS = [
    (
        re.compile(r"\bNo\.?\s*PR[-\s]?\d+/(?P<year>(?:19|20)\d\d)[-\s]?ISPR\b", re.I),
        "ISPR release number",
    ),
    (
        re.compile(r"\bPress\s+Release\s+No\.?\s*\d+/(?P<year>(?:19|20)\d\d)\b", re.I),
        "MOFA release number",
    ),
]

FILENAME_DATE = re.compile(
    r"(?<!\d)(?P<year>(?:19|20)\d\d)[-_.]?(?P<month>[01]\d)[-_.]?"
    r"(?P<day>[0-3]\d)(?!\d)"
)
UNGDC_NAME = re.compile(r"^(?P<country>[A-Z]{3})_(?P<session>\d{2})_(?P<year>(?:19|20)\d\d)\b")

# Cues looked for in the running heads and the opening of a document; the earliest wins.
SOURCE_CUES = [
    ("ispr", re.compile(r"\bInter[-\s]Services\s+Public\s+Relations\b|\bISPR\b")),
    (
        "mofa",
        re.compile(
            r"\bMinistry\s+of\s+Foreign\s+Affairs\b|\bForeign\s+Office\b|"
            r"\bSpokes(?:person|man|woman)\b|\bpress\s+briefing\b|\bMOFA\b",
            re.I,
        ),
    ),
    (
        "treaty",
        re.compile(
            r"\bJoint\s+(?:Statement|Declaration|Communiqu[eé]|Press\s+Release)\b"
            r"|\b(?:Agreement|Memorandum\s+of\s+Understanding|Treaty|Protocol)\s+"
            r"(?:between|on|of|for)\b",
            re.I,
        ),
    ),
]
SIGNATURE = re.compile(r"\bDone\s+at\s+[A-Z]")
OPENING = 800  # characters of a document in which the issuer usually names itself
ISSUERS = {
    "ispr": "Inter Services Public Relations (ISPR), Pakistan",
    "mofa": "Ministry of Foreign Affairs, Pakistan",
}
COUNTRY_ISSUERS = {
    "PAK": "Government of Pakistan",
    "USA": "Government of the United States",
    "IND": "Government of India",
    "CHN": "Government of China",
    "AFG": "Government of Afghanistan",
}
_JUNK_TITLES = re.compile(
    r"^(?:untitled|document\d*|microsoft word - .*|.*\.(?:docx?|pdf|odt))$", re.I
)
_STOPWORDS_EN = frozenset(
    [
        "the",
        "of",
        "and",
        "to",
        "in",
        "a",
        "is",
        "that",
        "for",
        "on",
        "with",
        "as",
        "by",
        "be",
        "are",
        "this",
        "it",
        "at",
        "from",
        "has",
        "have",
        "will",
        "was",
        "which",
        "an",
        "its",
        "not",
        "were",
        "been",
        "their",
    ]
)


def _iso(match: re.Match[str]) -> str | None:
    parts = match.groupdict()
    tag = "" if parts.get("year") else "b"
    try:
        value = date(
            int(parts["year" + tag]),
            MONTHS[parts["month" + tag].lower().rstrip(".")],
            int(parts["day" + tag]),
        )
    except (ValueError, KeyError):
        return None
    return value.isoformat()


def _where(match: re.Match[str], what: str) -> str:
    words = " ".join(match.group(0).split())
    return f"{what} '{words}' at character {match.start()}"


def _source_cue(opening: str, text: str) -> tuple[str, str] | None:
    found = [
        (match.start(), source_type, match)
        for source_type, pattern in SOURCE_CUES
        if (match := pattern.search(opening))
    ]
    if found:
        _, source_type, match = min(found, key=lambda item: item[0])
        return source_type, _where(match, "cue near the top")
    signature = SIGNATURE.search(text)
    if signature:
        return "treaty", _where(signature, "signature clause")
    return None


def _text_date(text: str) -> MetaValue | None:
    head = text[:3000]
    for pattern, what in TEXT_DATES:
        scope = text if what == "signature clause" else head
        for match in pattern.finditer(scope):
            iso = _iso(match)
            if iso:
                return MetaValue("date", iso, "text", _where(match, what))
    for pattern, what in TEXT_YEARS:
        found = pattern.search(head)
        if found:
            return MetaValue("date", found["year"], "text", _where(found, what))
    # A date merely mentioned in the text ("since 11 September 2001") is not the document's date:
    # without a dateline or the like, the file name or a human decides.
    return None


def from_text(text: str, furniture: list[str] | None = None) -> list[MetaValue]:
    """Infer date, source type, issuer, title and language from a document's text.

    Args:
        text: canonical text.
        furniture: running heads and footers removed from the text; they often name the issuer.
    """
    dated = _text_date(text)
    values: list[MetaValue] = [dated] if dated else []
    cue = _source_cue("\n".join(furniture or []) + "\n" + text[:OPENING], text)
    if cue:
        source_type, detail = cue
        values.append(MetaValue("source_type", source_type, "text", detail))
        if source_type in ISSUERS:
            values.append(MetaValue("issuer", ISSUERS[source_type], "text", detail))
    title = _title_from_text(text)
    if title:
        values.append(MetaValue("title", title, "text", "first heading-like paragraph"))
    language = guess_language(text)
    if language:
        values.append(MetaValue("language", language, "text", "character and stop-word profile"))
    return values


_LETTERHEAD = re.compile(
    r"^(?:government of (?:the islamic republic of )?pakistan|ministry of foreign affairs.*|"
    r"inter[-\s]services public relations.*|press release.*|no\.?\s*pr[-\s]?\d+.*|"
    r"(?:islamic republic of )?pakistan|isp?r|directorate.*|office of the spokesperson.*)$",
    re.I,
)


def _title_from_text(text: str) -> str | None:
    for paragraph in text.split("\n\n")[:6]:
        candidate = paragraph.strip()
        if (
            not candidate
            or len(candidate) > 160
            or _LETTERHEAD.match(candidate)
            or TEXT_DATES[0][0].match(candidate)
            or (candidate.endswith((".", ";", ",")) and len(candidate) > 60)
        ):
            continue
        return candidate
    return None


def guess_language(text: str) -> str | None:
    """Return 'en', 'ur' or 'ar' from a cheap profile of the text, or None if unsure."""
    sample = text[:5000]
    letters = [c for c in sample if c.isalpha()]
    if len(letters) < 20:
        return None
    arabic = sum(1 for c in letters if "\u0600" <= c <= "\u06ff")
    if arabic / len(letters) > 0.5:
        urdu_only = sum(1 for c in letters if c in "ٹڈڑںھہیےۓ")
        return "ur" if urdu_only else "ar"
    words = re.findall(r"[a-z]+", sample.lower())
    if words and sum(1 for w in words if w in _STOPWORDS_EN) / len(words) > 0.15:
        return "en"
    return None


def from_filename(name: str) -> list[MetaValue]:
    """Infer date, source type and issuer from a file name."""
    values: list[MetaValue] = []
    ungdc = UNGDC_NAME.match(name)
    if ungdc:
        detail = f"UN General Debate file name '{name}' (session {ungdc['session']})"
        values.append(MetaValue("date", ungdc["year"], "filename", detail))
        values.append(MetaValue("source_type", "speech", "filename", detail))
        issuer = COUNTRY_ISSUERS.get(ungdc["country"], f"Government ({ungdc['country']})")
        values.append(
            MetaValue("issuer", f"{issuer}, UN General Assembly general debate", "filename", detail)
        )
        return values
    match = FILENAME_DATE.search(name)
    if match:
        try:
            iso = date(int(match["year"]), int(match["month"]), int(match["day"])).isoformat()
            values.append(MetaValue("date", iso, "filename", f"'{match.group(0)}' in '{name}'"))
        except ValueError:
            pass
    lowered = name.lower()
    for source_type in SOURCE_TYPES:
        if re.search(rf"(?<![a-z]){source_type}(?![a-z])", lowered):
            values.append(
                MetaValue("source_type", source_type, "filename", f"'{source_type}' in '{name}'")
            )
            break
    return values


def from_file_info(info: dict[str, str]) -> list[MetaValue]:
    """Use the format's own metadata: a meaningful Title, and Author as issuer.

    Creation dates are recorded as evidence only: a PDF made in 2020 from a 2003 statement would
    otherwise be filed under 2020.
    """
    values = []
    title = info.get("Title") or info.get("og:title") or info.get("dc.title")
    if title and not _JUNK_TITLES.match(title.strip()):
        values.append(MetaValue("title", title.strip(), "file_info", "document properties: Title"))
    author = info.get("Author") or info.get("author")
    if author and not _JUNK_TITLES.match(author.strip()):
        values.append(
            MetaValue("issuer", author.strip(), "file_info", "document properties: Author")
        )
    return values


def resolve(candidates: Iterable[tuple[MetaValue, str]]) -> Resolved:
    """Choose each field's value from timestamped candidates.

    Manual values and sidecar values are human input: the most recent of them wins. Otherwise the
    strongest inferred source wins (text, then file name, then file info); within a source, the
    first candidate. Source type defaults to 'other'.
    """
    rank = {source: i for i, source in enumerate(METADATA_SOURCES)}
    chosen: dict[str, tuple[tuple[int, str, int], MetaValue]] = {}
    for order, (value, recorded_at) in enumerate(candidates):
        human = value.source in ("manual", "sidecar")
        # Sort key: human input first, newest first among it; else by source rank, first seen.
        key = (0, _negate(recorded_at), -order) if human else (1 + rank[value.source], "", order)
        current = chosen.get(value.field)
        if current is None or key < current[0]:
            chosen[value.field] = (key, value)

    def pick(field: str) -> MetaValue | None:
        entry = chosen.get(field)
        return entry[1] if entry else None

    provenance = {field: entry[1].source for field, entry in chosen.items()}
    date_value = pick("date")
    source_type = pick("source_type")
    if source_type is None:
        provenance["source_type"] = "default"
    return Resolved(
        source_type=source_type.value if source_type else "other",
        issuer=value_or_none(pick("issuer")),
        date=value_or_none(date_value),
        year=int(date_value.value[:4]) if date_value else None,
        title=value_or_none(pick("title")),
        language=value_or_none(pick("language")),
        provenance=provenance,
    )


def value_or_none(value: MetaValue | None) -> str | None:
    return value.value if value else None


def _negate(timestamp: str) -> str:
    # Newest first under ascending sort: map each character to its complement.
    return "".join(chr(0x10FFFF - ord(c)) for c in timestamp)


def date_conflict(candidates: Iterable[MetaValue]) -> str | None:
    """Describe disagreeing inferred dates (text against file name), or return None."""
    inferred = {
        v.source: v.value
        for v in candidates
        if v.field == "date" and v.source in ("text", "filename")
    }
    text, name = inferred.get("text"), inferred.get("filename")
    if text and name and not (text.startswith(name) or name.startswith(text)):
        return f"the text says {text}, the file name says {name}"
    return None
