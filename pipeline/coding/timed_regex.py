"""Codebook regexes run under a time limit, so that no codebook can hang coding.

spaCy runs a token pattern's ``REGEX`` with Python's ``re``, which cannot be interrupted: one
catastrophic regex on one long token stops coding for good. The coder therefore hands spaCy no
regex at all. Each ``{ATTR: {"REGEX": ...}}`` of a token pattern becomes a test on a token
extension attribute whose getter runs the regex with the ``regex`` module and its ``timeout``:
at most :data:`PER_CALL_SECONDS` for one token (tried twice, so that one stall of the machine is
not blamed on the regex) and :data:`BUDGET_SECONDS` in all for one regex (results are cached per
distinct text, so a regex meets each word once). Past either limit the getter raises
:class:`RegexTimeout`, which the coder turns into an error naming the pattern and its line.
The loader already refuses known catastrophic shapes; this is the safety net.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import regex
from spacy.tokens import Token

PER_CALL_SECONDS = 0.5
BUDGET_SECONDS = 120.0
_CACHE_LIMIT = 200_000
# Where each string attribute a REGEX can test lives on a Token.
FIELDS = {
    "ORTH": "orth_",
    "TEXT": "orth_",
    "LOWER": "lower_",
    "NORM": "norm_",
    "LEMMA": "lemma_",
    "SHAPE": "shape_",
    "PREFIX": "prefix_",
    "SUFFIX": "suffix_",
}


class RegexTimeout(Exception):
    """A codebook regex ran past its time limit."""

    def __init__(self, source: str, text: str, seconds: float, total: bool) -> None:
        super().__init__(source)
        self.source = source
        self.text = text
        self.seconds = seconds
        self.total = total


class TokenRegex:
    """Whether a token attribute matches any of some regexes (or none, with ``negate``)."""

    def __init__(self, attr: str, sources: tuple[str, ...], negate: bool = False) -> None:
        self.field = FIELDS[attr]
        self.sources = sources
        self.negate = negate
        self.compiled = [regex.compile(s) for s in sources]
        self.spent = 0.0
        self._cache: dict[str, bool] = {}
        key = "\x00".join((attr, "NOT_IN" if negate else "IN", *sources))
        self.name = "dshift_rx_" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]

    def __call__(self, token: Token) -> bool:
        text = getattr(token, self.field)
        hit = self._cache.get(text)
        if hit is None:
            hit = self.test(text)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[text] = hit
        return hit

    def test(self, text: str) -> bool:
        """Match ``text``, within the time limits.

        Raises:
            RegexTimeout: the regex ran past :data:`PER_CALL_SECONDS` on this text, or past
                :data:`BUDGET_SECONDS` in all.
        """
        found = False
        for source, compiled in zip(self.sources, self.compiled):
            found = self._search(source, compiled, text)
            if found:
                break
        return found != self.negate

    def _search(self, source: str, compiled: regex.Pattern[str], text: str) -> bool:
        for attempt in (1, 2):  # a second try, so that one stall of the machine is not blamed
            left = BUDGET_SECONDS - self.spent
            limit = min(PER_CALL_SECONDS, left)
            if limit <= 0:
                raise RegexTimeout(source, text, BUDGET_SECONDS, total=True)
            started = time.perf_counter()
            try:
                return compiled.search(text, timeout=limit) is not None
            except TimeoutError:
                if attempt == 2 or limit < PER_CALL_SECONDS:
                    raise RegexTimeout(
                        source, text, limit, total=limit < PER_CALL_SECONDS
                    ) from None
            finally:
                self.spent += time.perf_counter() - started
        raise AssertionError("unreachable")

    def register(self) -> str:
        """Make the test available to spaCy patterns as ``{"_": {name: True}}``; return name."""
        Token.set_extension(self.name, getter=self, force=True)
        return self.name


def without_regexes(spec: dict[str, Any]) -> tuple[dict[str, Any], list[TokenRegex]]:
    """Rewrite one token specification so that its REGEX predicates run under a time limit.

    ``{"LOWER": {"REGEX": "^aid", "NOT_IN": ["aide"]}}`` becomes ``{"LOWER": {"NOT_IN":
    ["aide"]}, "_": {"dshift_rx_…": True}}``; ``{"REGEX": {"IN": [...]}}`` (any of) and
    ``{"REGEX": {"NOT_IN": [...]}}`` (none of) are kept in meaning. The codebook loader has
    checked the shapes; the returned tests still need :meth:`TokenRegex.register`.
    """
    out: dict[str, Any] = {}
    tests: list[TokenRegex] = []
    for attr, wanted in spec.items():
        if not (isinstance(wanted, dict) and "REGEX" in wanted):
            out[attr] = wanted
            continue
        value = wanted["REGEX"]
        if isinstance(value, str):
            tests.append(TokenRegex(attr, (value,)))
        else:
            for predicate, sources in value.items():
                tests.append(TokenRegex(attr, tuple(sources), negate=predicate == "NOT_IN"))
        rest = {k: v for k, v in wanted.items() if k != "REGEX"}
        if rest:
            out[attr] = rest
    if tests:
        out["_"] = {test.name: True for test in tests}
    return out, tests
