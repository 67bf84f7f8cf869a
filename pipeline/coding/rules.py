"""The rule coder ``rules.v1``: spaCy matchers compiled from the codebook.

A sentence gets a code when one of the code's patterns matches in it, unless a negation cue stands
just before the match ("no military solution") or one of the code's exclusions covers it
("Security Council" for securitization). Proximity rules need both terms in the same sentence
within a window of tokens. Every tag keeps its evidence: pattern ids and character spans.
Regular expressions in token patterns run under a time limit (:mod:`pipeline.coding.timed_regex`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy
from spacy.attrs import IDX, IS_ALPHA, LENGTH, LOWER, NORM, ORTH
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.strings import StringStore
from spacy.tokens import Doc

from pipeline.codebook.model import Codebook, Pattern, Term
from pipeline.coding.segment import sentence_spans
from pipeline.coding.timed_regex import RegexBudget, RegexPattern, RegexTimeout, TokenRegex
from pipeline.core.arrays import found_in
from pipeline.errors import DshiftError

CODER = "rules.v1"


class RegexTooSlow(DshiftError):
    """A codebook regex ran past its time limit; coding stopped."""

    code = "codebook"


@dataclass(frozen=True)
class Evidence:
    """Why a tag fired: the pattern and the matched characters."""

    code: str
    pattern: str
    start: int
    end: int
    text: str


class About(NamedTuple):
    """What a coder may know of a document besides its text."""

    source_type: str = ""
    title: str = ""


class ParsedDocument(NamedTuple):
    """A document as the coding stage hands it to a coder: its parsed paragraphs in order, as
    (offset, doc) pairs, what else is known of it, and the text the offsets point into (when
    given, it saves rebuilding each paragraph's text from its tokens)."""

    paragraphs: Sequence[tuple[int, Doc]]
    about: About = About()
    text: str | None = None


@dataclass
class SegmentCoding:
    """The coding of one segment (offsets into the text that was coded)."""

    start: int
    end: int
    n_words: int
    partners: list[str] = field(default_factory=list)
    evidence: dict[str, list[Evidence]] = field(default_factory=dict)  # leaf code -> evidence
    confidence: dict[str, float] = field(default_factory=dict)


_ANCHOR_ATTRS: dict[str, Callable[[str], str]] = {
    "LEMMA": str.lower,
    "NORM": str.lower,
    "LOWER": str.lower,
    "ORTH": str,
    "TEXT": str,
}


def _anchors(pattern: Pattern, strings: StringStore) -> list[set[int]]:
    """Hashes that must occur in a text for a token pattern to match (one set per token)."""
    anchors = []
    for spec in pattern.tokens:
        if spec.get("OP") not in (None, "+"):
            continue
        for attr, wanted in spec.items():
            if attr not in _ANCHOR_ATTRS:
                continue
            values = (
                [wanted]
                if isinstance(wanted, str)
                else (wanted.get("IN") if isinstance(wanted, dict) and len(wanted) == 1 else None)
            )
            if values:
                anchors.append({strings.add(_ANCHOR_ATTRS[attr](v)) for v in values})
    return anchors


def _longest(matches: list[tuple[Pattern, int, int]]) -> list[tuple[Pattern, int, int]]:
    """Drop a pattern's matches that lie inside a longer match of the same pattern."""
    kept: list[tuple[Pattern, int, int]] = []
    spans: dict[str, list[tuple[int, int]]] = {}  # per pattern, its matches kept so far
    for pattern, start, end in sorted(matches, key=lambda m: m[2] - m[1], reverse=True):
        mine = spans.setdefault(pattern.id, [])
        if not any(s <= start and end <= e for s, e in mine):
            mine.append((start, end))
            kept.append((pattern, start, end))
    return sorted(kept, key=lambda m: m[1])


def _is_acronym(alias: str) -> bool:
    letters = [c for c in alias if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


class RuleCoder:
    """Codes parsed paragraphs with the patterns of one codebook."""

    name = CODER

    def __init__(self, codebook: Codebook, nlp: Language) -> None:
        self.codebook = codebook
        self.nlp = nlp
        self.by_id: dict[str, Pattern] = {p.id: p for p in codebook.patterns()}
        self.exclusion_ids: dict[str, Pattern] = {p.id: p for p in codebook.exclusions()}
        vocab = nlp.vocab
        self.lemma_matcher = PhraseMatcher(vocab, attr="NORM")
        self.lower_matcher = PhraseMatcher(vocab, attr="LOWER")
        self.orth_matcher = PhraseMatcher(vocab, attr="ORTH")
        self._token_matchers: list[tuple[list[set[int]], Matcher | RegexPattern, Pattern]] = []
        # One time budget for all the codebook's regexes, and one test per distinct regex.
        self.regex_budget = RegexBudget()
        self._regexes: dict[str, TokenRegex] = {}
        lemmas = nlp.get_pipe("dshift_lemmas")
        self._lemma_doc = lambda text: lemmas(nlp.make_doc(text))
        for partner in codebook.partners.values():
            acronyms = [a for a in partner.aliases if _is_acronym(a)]
            words = [a for a in partner.aliases if not _is_acronym(a)]
            if acronyms:
                self.orth_matcher.add(f"partner|{partner.id}", [nlp.make_doc(a) for a in acronyms])
            if words:
                self.lower_matcher.add(f"partner|{partner.id}", [nlp.make_doc(a) for a in words])
        for pattern in (*codebook.patterns(), *codebook.exclusions()):
            self._compile(pattern)
        anchored = {h for anchors, _, _ in self._token_matchers for a in anchors for h in a}
        self._anchor_hashes = numpy.array(sorted(anchored), dtype=numpy.uint64)
        # Proximity rules indexed by what can trigger them, so a sentence only tries its own.
        self._order = {p.id: i for i, p in enumerate(codebook.patterns())}
        self._near_by_term: dict[str, list[str]] = defaultdict(list)
        self._near_by_partner: dict[str, list[str]] = defaultdict(list)
        # Per proximity rule, what can fill each side: its terms' key and its partners.
        self._sides: dict[str, list[tuple[str, frozenset[str]]]] = {}
        for pattern in codebook.patterns():
            if pattern.kind == "near":
                self._sides[pattern.id] = [
                    (f"{pattern.id}|{side}", frozenset(term.partners if term else ()))
                    for side, term in (("a", pattern.a), ("b", pattern.b))
                ]
            for side, term in (("a", pattern.a), ("b", pattern.b)):
                if pattern.kind == "near" and term is not None:
                    self._near_by_term[f"{pattern.id}|{side}"].append(pattern.id)
                    for pid in term.partners:
                        self._near_by_partner[pid].append(pattern.id)
        matchers = (self.lemma_matcher, self.lower_matcher, self.orth_matcher)
        self._matchers = [m for m in matchers if len(m)]
        self.ancestors = {cid: self._ancestors(cid) for cid in codebook.codes}
        self.cues = set(codebook.negation.cues)
        self._cue_hashes = {vocab.strings.add(cue) for cue in self.cues}
        self.scope = codebook.negation.scope
        self.negation_exceptions = PhraseMatcher(vocab, attr="NORM")
        if codebook.negation.exceptions:
            self.negation_exceptions.add(
                "except", [self._lemma_doc(x) for x in codebook.negation.exceptions]
            )

    def _ancestors(self, code_id: str) -> tuple[str, ...]:
        chain = [code_id]
        code = self.codebook.codes[code_id]
        while code.parent is not None:
            chain.append(code.parent)
            code = self.codebook.codes[code.parent]
        return tuple(chain)

    def _compile(self, pattern: Pattern) -> None:
        if pattern.kind == "lemmas":
            self.lemma_matcher.add(f"p|{pattern.id}", [self._lemma_doc(x) for x in pattern.lemmas])
        elif pattern.kind == "tokens":
            # One matcher per token pattern, run only on paragraphs holding its fixed words:
            # spaCy's Matcher looks at every token, which is costly for patterns that rarely fit.
            # Their regexes run under a time limit, on each document's distinct words.
            key = f"p|{pattern.id}"
            tokens = list(pattern.tokens)
            matcher: Matcher | RegexPattern
            if any(isinstance(v, dict) and "REGEX" in v for spec in tokens for v in spec.values()):
                matcher = RegexPattern(
                    key, tokens, self.nlp.vocab, self.regex_budget, self._regexes
                )
            else:
                matcher = Matcher(self.nlp.vocab)
                matcher.add(key, [tokens])
            anchors = _anchors(pattern, self.nlp.vocab.strings)
            self._token_matchers.append((anchors, matcher, pattern))
        else:
            for side, term in (("a", pattern.a), ("b", pattern.b)):
                if term is not None and term.lemmas:
                    self.lemma_matcher.add(
                        f"t|{pattern.id}|{side}", [self._lemma_doc(x) for x in term.lemmas]
                    )

    # -- coding -----------------------------------------------------------------------------

    def code_doc(self, doc: Doc, offset: int = 0, text: str | None = None) -> list[SegmentCoding]:
        """Code each sentence of a parsed paragraph; offsets are shifted by ``offset``.
        ``text``, when given, is the text the shifted offsets point into (the document's): the
        evidence is read from it rather than rebuilt from the tokens."""
        strings = doc.vocab.strings
        found: list[tuple[str, int, int]] = []
        for matcher in self._matchers:
            found.extend((strings[key], start, end) for key, start, end in matcher(doc))
        if self._token_matchers:
            values = doc.to_array([LOWER, NORM, ORTH]).ravel()
            present = set(values[found_in(self._anchor_hashes, values)[0]].tolist())
            for anchors, token_matcher, pattern in self._token_matchers:
                if all(present & anchor for anchor in anchors):
                    try:
                        hits = token_matcher(doc)
                    except RegexTimeout as exc:
                        raise self._too_slow(pattern, exc) from None
                    found.extend((strings[k], s, e) for k, s, e in hits)
        alpha = [0, *numpy.cumsum(doc.to_array(IS_ALPHA), dtype=numpy.int64).tolist()]
        spans = list(sentence_spans(doc))
        starts = [s[2] for s in spans]
        per_sentence: list[list[tuple[str, int, int]]] = [[] for _ in spans]
        for key, start, end in found:
            index = bisect_right(starts, start) - 1
            if index >= 0:
                per_sentence[index].append((key, start, end))
        excepted = {start for _, start, _ in self.negation_exceptions(doc)}
        # Token attributes as one array: reading them token by token creates Python objects.
        doc.user_data["dshift_norms"] = doc.to_array(NORM).tolist()
        bounds = doc.to_array([IDX, LENGTH]).astype(numpy.int64)
        doc.user_data["dshift_chars"] = (
            bounds[:, 0].tolist(),
            (bounds[:, 0] + bounds[:, 1]).tolist(),
            text,
        )
        codings = []
        for (char_start, char_end, tok_start, tok_end), matches in zip(spans, per_sentence):
            coding = SegmentCoding(
                char_start + offset, char_end + offset, alpha[tok_end] - alpha[tok_start]
            )
            if matches:
                self._code_sentence(doc, tok_start, matches, excepted, offset, coding)
            codings.append(coding)
        return codings

    def _too_slow(self, pattern: Pattern, exc: RegexTimeout) -> RegexTooSlow:
        where = f"{self.codebook.path or 'the codebook'}:{pattern.line}"
        token = exc.text if len(exc.text) <= 40 else exc.text[:37] + "..."
        what = (
            f"was running when the codebook's regular expressions had spent the "
            f"{exc.seconds:.0f} s they may take in all"
            if exc.total
            else f"took more than {exc.seconds:g} s on the token {token!r}"
        )
        return RegexTooSlow(
            f"{where}: pattern '{pattern.id}': the regular expression {exc.source!r} {what}, "
            "so coding stopped (documents already coded are kept)",
            (
                "the time is shared by all the codebook's regular expressions: use fewer, or "
                "rewrite the slow ones so that they"
                if exc.total
                else "rewrite the regular expression so that it"
            )
            + " cannot backtrack without end (no "
            "repetition of a repeated part such as (a+)+, no alternatives that match the same "
            "text such as (a|ab)*), then run again",
        )

    def _code_sentence(
        self,
        doc: Doc,
        sent_start: int,
        matches: list[tuple[str, int, int]],
        excepted: set[int],
        offset: int,
        coding: SegmentCoding,
    ) -> None:
        partners: dict[str, list[tuple[int, int]]] = defaultdict(list)
        terms: dict[str, list[tuple[int, int]]] = defaultdict(list)
        direct: list[tuple[Pattern, int, int]] = []
        excluded: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for key, start, end in matches:
            kind, _, rest = key.partition("|")
            if kind == "partner":
                partners[rest].append((start, end))
            elif kind == "t":
                terms[rest].append((start, end))
            elif rest in self.exclusion_ids:
                excluded[self.exclusion_ids[rest].code].append((start, end))
            else:
                direct.append((self.by_id[rest], start, end))
        coding.partners = sorted(partners)
        candidates = {p for key in terms for p in self._near_by_term[key]}
        candidates.update(p for pid in partners for p in self._near_by_partner[pid])
        for near_id in sorted(candidates, key=self._order.__getitem__):
            if all(  # both sides present: most candidates have one side only
                key in terms or not ids.isdisjoint(partners) for key, ids in self._sides[near_id]
            ):
                direct.extend(self._near(self.by_id[near_id], terms, partners))
        for pattern, start, end in _longest(direct):
            if pattern.negatable and self._negated(doc, sent_start, start, excepted):
                continue
            if any(
                s < end and start < e
                for code in self.ancestors[pattern.code]
                for s, e in excluded.get(code, ())
            ):
                continue
            starts, ends, text = doc.user_data["dshift_chars"]
            first, last = starts[start], ends[end - 1]
            evidence = Evidence(
                pattern.code,
                pattern.id,
                first + offset,
                last + offset,
                text[first + offset : last + offset] if text is not None else doc[start:end].text,
            )
            coding.evidence.setdefault(pattern.code, []).append(evidence)
            best = coding.confidence.get(pattern.code, 0.0)
            coding.confidence[pattern.code] = max(best, pattern.confidence)

    def _near(
        self,
        pattern: Pattern,
        terms: dict[str, list[tuple[int, int]]],
        partners: dict[str, list[tuple[int, int]]],
    ) -> list[tuple[Pattern, int, int]]:
        a = self._term_spans(pattern, "a", pattern.a, terms, partners)
        if not a:
            return []
        b = self._term_spans(pattern, "b", pattern.b, terms, partners)
        for a_start, a_end in a:
            for b_start, b_end in b:
                gap = max(b_start - a_end, a_start - b_end, 0)
                if gap <= pattern.window:
                    return [(pattern, min(a_start, b_start), max(a_end, b_end))]
        return []

    @staticmethod
    def _term_spans(
        pattern: Pattern,
        side: str,
        term: Term | None,
        terms: dict[str, list[tuple[int, int]]],
        partners: dict[str, list[tuple[int, int]]],
    ) -> list[tuple[int, int]]:
        if term is None:
            return []
        spans = list(terms.get(f"{pattern.id}|{side}", ()))
        for pid in term.partners:
            spans.extend(partners.get(pid, ()))
        return spans

    def _negated(self, doc: Doc, sent_start: int, start: int, excepted: set[int]) -> bool:
        norms = doc.user_data["dshift_norms"]
        for i in range(max(sent_start, start - self.scope), start):
            if norms[i] in self._cue_hashes and i not in excepted:
                return True
        return False

    notes: Sequence[str] = ()  # what a user should know about this coder (none for the rules)

    def provenance(self) -> dict[str, Any]:
        """What made the tags, recorded with the coding run."""
        return {"coder": self.name}

    def code_paragraphs(
        self,
        parsed: Sequence[tuple[int, Doc]],
        about: About | None = None,
        text: str | None = None,
    ) -> list[list[SegmentCoding]]:
        """Code one document's parsed paragraphs, given in order as (offset, doc) pairs (see
        :class:`ParsedDocument` for ``about`` and ``text``): the codings of each paragraph."""
        return self.code_documents([ParsedDocument(parsed, about or About(), text)])[0]

    def code_documents(
        self, documents: Sequence[ParsedDocument]
    ) -> list[list[list[SegmentCoding]]]:
        """Code several documents, each on its own: per document, per paragraph, the codings.

        This is the coder's verdict. A coder that reads context (``learned.v1``) sees every
        paragraph of a document and what is known of it, and scores a batch of documents at
        once (its cost is mostly per batch); the rules code each paragraph alone.
        """
        return [
            [self.code_doc(doc, offset, d.text) for offset, doc in d.paragraphs] for d in documents
        ]

    def partners_named(self, text: str) -> frozenset[str]:
        """The partners ``text`` names (what the rules' codings of it would list, found by the
        partner patterns alone: a title needs no more)."""
        if not text:
            return frozenset()
        doc = self.nlp.make_doc(text)
        strings = doc.vocab.strings
        found = set()
        for matcher in (self.lower_matcher, self.orth_matcher):
            if len(matcher):
                for key, _, _ in matcher(doc):
                    kind, _, partner = strings[key].partition("|")
                    if kind == "partner":
                        found.add(partner)
        return frozenset(found)

    def rule_text(self, text: str) -> list[SegmentCoding]:
        """The rules' coding of free text, sentence by sentence (whatever the coder)."""
        from pipeline.coding.segment import paragraphs

        parts = paragraphs(text)
        docs = self.nlp.pipe(p.text for p in parts)
        return [
            c for part, doc in zip(parts, docs) for c in RuleCoder.code_doc(self, doc, part.start)
        ]

    def code_text(self, text: str, about: About | None = None) -> list[SegmentCoding]:
        """Code free text sentence by sentence (for ``dshift tag``)."""
        from pipeline.coding.segment import paragraphs

        parts = paragraphs(text)
        parsed = list(zip((p.start for p in parts), self.nlp.pipe(p.text for p in parts)))
        return [c for coded in self.code_paragraphs(parsed, about, text) for c in coded]
