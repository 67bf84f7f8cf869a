"""Codebook regexes run under a time limit, so that no codebook can hang coding.

spaCy runs a token pattern's ``REGEX`` with Python's ``re``, which cannot be interrupted: one
catastrophic regex on one long token stops coding for good. The coder therefore hands spaCy no
regex at all. For each document, a :class:`RegexPattern` runs every regex of its pattern with the
``regex`` module and its ``timeout`` over the document's distinct values of the attribute tested
(results are kept per value, so a regex meets each word once across documents), then hands
spaCy's Matcher the same pattern with each ``REGEX`` replaced by the ``IN`` list of the values in
this document that pass it. spaCy then tests a set, at C speed, and finds exactly the matches its
own ``REGEX`` would have found. A document in which no value passes the regex of a required token
is not matched at all.

The limits: at most :data:`PER_CALL_SECONDS` for one value (tried twice, so that one stall of the
machine is not blamed on the regex) and :data:`BUDGET_SECONDS` in all for all the regexes of one
coder (a :class:`RegexBudget`), so that a codebook of many slow regexes cannot run for hours
either. Past either limit :class:`RegexTimeout` is raised, which the coder turns into an error
naming the pattern and its line. The loader already refuses known catastrophic shapes; this is
the safety net.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import regex
from spacy import attrs
from spacy.matcher import Matcher
from spacy.tokens import Doc
from spacy.vocab import Vocab

PER_CALL_SECONDS = 0.5
BUDGET_SECONDS = 120.0
_CACHE_LIMIT = 200_000
_MATCHERS_LIMIT = 256
# The string attributes a REGEX can test, as spaCy attribute ids.
FIELDS = {
    "ORTH": attrs.ORTH,
    "TEXT": attrs.ORTH,
    "LOWER": attrs.LOWER,
    "NORM": attrs.NORM,
    "LEMMA": attrs.LEMMA,
    "SHAPE": attrs.SHAPE,
    "PREFIX": attrs.PREFIX,
    "SUFFIX": attrs.SUFFIX,
}
_REQUIRED = (None, "+")  # quantifiers under which a token must be present for a match


class RegexTimeout(Exception):
    """A codebook regex ran past its time limit (``total``: the coder's budget is spent)."""

    def __init__(self, source: str, text: str, seconds: float, total: bool) -> None:
        super().__init__(source)
        self.source = source
        self.text = text
        self.seconds = seconds
        self.total = total


class RegexBudget:
    """The time that all the regexes of one coder may spend, in all."""

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = BUDGET_SECONDS if seconds is None else seconds
        self.spent = 0.0


class TokenRegex:
    """Whether a token attribute matches any of some regexes (or none, with ``negate``)."""

    def __init__(
        self,
        attr: str,
        sources: tuple[str, ...],
        negate: bool = False,
        budget: RegexBudget | None = None,
    ) -> None:
        self.attr = attr
        self.attr_id = FIELDS[attr]
        self.sources = sources
        self.negate = negate
        self.budget = budget or RegexBudget()
        self.compiled = [regex.compile(s) for s in sources]
        self._seen: set[int] = set()  # hashes of the strings tested so far
        self._hits: set[int] = set()  # those of them that pass
        key = "\x00".join((attr, "NOT_IN" if negate else "IN", *sources))
        self.name = "dshift_rx_" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]

    def passing(self, keys: set[int], vocab: Vocab) -> set[int]:
        """Those of the string hashes ``keys`` whose strings pass (results kept per string)."""
        new = keys - self._seen
        if len(self._seen) + len(new) > _CACHE_LIMIT:
            self._seen.clear()
            self._hits.clear()
            new = keys
        strings = vocab.strings
        for key in new:
            if self.test(strings[key]):
                self._hits.add(key)
            self._seen.add(key)
        return keys & self._hits

    def test(self, text: str) -> bool:
        """Match ``text``, within the time limits.

        Raises:
            RegexTimeout: the regex ran past :data:`PER_CALL_SECONDS` on this text, or the
                budget of the coder is spent.
        """
        found = False
        for source, compiled in zip(self.sources, self.compiled):
            found = self._search(source, compiled, text)
            if found:
                break
        return found != self.negate

    def _search(self, source: str, compiled: regex.Pattern[str], text: str) -> bool:
        budget = self.budget
        for attempt in (1, 2):  # a second try, so that one stall of the machine is not blamed
            left = budget.seconds - budget.spent
            limit = min(PER_CALL_SECONDS, left)
            if limit <= 0:
                raise RegexTimeout(source, text, budget.seconds, total=True)
            started = time.perf_counter()
            try:
                return compiled.search(text, timeout=limit) is not None
            except TimeoutError:
                if attempt == 2 or limit < PER_CALL_SECONDS:
                    total = limit < PER_CALL_SECONDS
                    raise RegexTimeout(
                        source, text, budget.seconds if total else limit, total=total
                    ) from None
            finally:
                budget.spent += time.perf_counter() - started
        raise AssertionError("unreachable")


def split_regexes(
    spec: dict[str, Any], budget: RegexBudget
) -> tuple[dict[str, Any], list[TokenRegex]]:
    """Take the REGEX predicates out of one token specification.

    ``{"LOWER": {"REGEX": "^aid", "NOT_IN": ["aide"]}}`` gives ``{"LOWER": {"NOT_IN":
    ["aide"]}}`` and a test of LOWER against ``^aid``; ``{"REGEX": {"IN": [...]}}`` (any of) and
    ``{"REGEX": {"NOT_IN": [...]}}`` (none of) are kept in meaning. The codebook loader has
    checked the shapes.
    """
    out: dict[str, Any] = {}
    tests: list[TokenRegex] = []
    for attr, wanted in spec.items():
        if not (isinstance(wanted, dict) and "REGEX" in wanted):
            out[attr] = wanted
            continue
        value = wanted["REGEX"]
        if isinstance(value, str):
            tests.append(TokenRegex(attr, (value,), budget=budget))
        else:
            for predicate, sources in value.items():
                tests.append(
                    TokenRegex(attr, tuple(sources), negate=predicate == "NOT_IN", budget=budget)
                )
        out[attr] = {k: v for k, v in wanted.items() if k != "REGEX"}
    return out, tests


class RegexPattern:
    """One token pattern with REGEX predicates, matched document by document under time limits.

    Called on a document it returns what ``Matcher`` returns for the pattern with its regexes
    run by spaCy: ``(key, start, end)`` for every match.
    """

    def __init__(
        self,
        key: str,
        tokens: list[dict[str, Any]],
        vocab: Vocab,
        budget: RegexBudget,
        shared: dict[str, TokenRegex] | None = None,
    ) -> None:
        self.key = key
        self.vocab = vocab
        self.specs: list[dict[str, Any]] = []
        # Per token: (attribute name, its tests) for each attribute a regex tests.
        self.tests: list[list[tuple[str, list[TokenRegex]]]] = []
        shared = {} if shared is None else shared
        for spec in tokens:
            rest, found = split_regexes(spec, budget)
            by_attr: dict[str, list[TokenRegex]] = {}
            for test in found:
                by_attr.setdefault(test.attr, []).append(shared.setdefault(test.name, test))
            self.specs.append(rest)
            self.tests.append(list(by_attr.items()))
        self.required = [spec.get("OP") in _REQUIRED for spec in tokens]
        self.attr_ids = sorted({FIELDS[a] for per in self.tests for a, _ in per})
        self._matchers: dict[tuple[tuple[tuple[str, frozenset[int]], ...], ...], Matcher] = {}

    def __call__(self, doc: Doc) -> list[tuple[int, int, int]]:
        """Match the pattern in ``doc``.

        Raises:
            RegexTimeout: a regex ran past its time limit.
        """
        if not len(doc):
            return []
        columns = doc.to_array(self.attr_ids).reshape(len(doc), len(self.attr_ids))
        present = {attr_id: set(columns[:, i].tolist()) for i, attr_id in enumerate(self.attr_ids)}
        vocab = self.vocab
        chosen = []
        for per, required in zip(self.tests, self.required):
            allowed = []
            for attr, tests in per:
                passing = present[FIELDS[attr]]
                for test in tests:  # all of them must pass
                    passing = test.passing(passing, vocab)
                keys = frozenset(passing)
                if required and not keys:
                    return []  # this token can match nowhere in the document
                allowed.append((attr, keys))
            chosen.append(tuple(allowed))
        state = tuple(chosen)
        matcher = self._matchers.get(state)
        if matcher is None:
            matcher = self._matcher(state)
        return list(matcher(doc))

    def _matcher(self, state: tuple[tuple[tuple[str, frozenset[int]], ...], ...]) -> Matcher:
        strings = self.vocab.strings
        tokens = []
        for spec, allowed in zip(self.specs, state):
            spec = dict(spec)
            for attr, keys in allowed:
                rest = dict(spec.pop(attr))
                if "IN" in rest:  # both: the values listed that also pass the regexes
                    listed = {strings.add(v) if isinstance(v, str) else v for v in rest["IN"]}
                    keys = keys & listed
                rest["IN"] = sorted(strings[k] for k in keys)
                spec[attr] = rest
            tokens.append(spec)
        matcher = Matcher(self.vocab)
        matcher.add(self.key, [tokens])
        if len(self._matchers) >= _MATCHERS_LIMIT:
            self._matchers.clear()
        self._matchers[state] = matcher
        return matcher
