"""Checking a codebook's patterns: lemma phrases, spaCy token patterns, proximity rules, regexes.

Beyond our own checks, token patterns that pass them are shown to spaCy's own validator
(:func:`check_token_patterns_with_spacy`), and every regular expression must compile and have no
catastrophic shape (:mod:`pipeline.codebook.regexcheck`).
"""

from __future__ import annotations

import re
from typing import Any

from pipeline.codebook.check_base import BaseChecker
from pipeline.codebook.model import Code, Partner, Pattern, Term
from pipeline.codebook.problems import CodebookProblem, suggest
from pipeline.codebook.regexcheck import REGEX_ATTRS, regex_problem
from pipeline.codebook.schema import (
    NEAR_KEYS,
    NEEDS_TRAINED,
    OPS,
    PATTERN_KEYS,
    PREDICATES,
    RANGE_OP,
    TERM_KEYS,
    TOKEN_ATTRS,
)
from pipeline.codebook.yamlpos import Path_


class PatternChecker(BaseChecker):
    """Checks the patterns and exclusions of one code at a time, counting them codebook-wide."""

    def pattern_list(
        self, value: Any, path: Path_, code: str, partners: dict[str, Partner]
    ) -> tuple[Pattern, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problem(path, "must be a list of patterns")
            return ()
        self.n_patterns += len(value)
        if self.n_patterns > self.limits.patterns:
            if self.n_patterns - len(value) <= self.limits.patterns:
                self.problem(
                    path,
                    f"the codebook has more than {self.limits.patterns} patterns and exclusions; "
                    "merge lemma phrases into fewer patterns or split the codebook",
                )
            return ()
        out = []
        for i, item in enumerate(value):
            pattern = self.pattern(item, (*path, i), code, i, partners)
            if pattern is not None:
                out.append(pattern)
        return tuple(out)

    def pattern(
        self, item: Any, path: Path_, code: str, index: int, partners: dict[str, Partner]
    ) -> Pattern | None:
        if not self.keys(item, path, PATTERN_KEYS, "a pattern"):
            return None
        pid = item.get("id") or f"{code}/{path[-2]}{index + 1}"
        if not isinstance(pid, str):
            self.problem((*path, "id"), "must be a text")
            return None
        if pid in self.pattern_ids:
            self.problem((*path, "id"), f"pattern id '{pid}' is used twice")
        self.pattern_ids.add(pid)
        kinds = [k for k in ("lemmas", "tokens", "near") if k in item]
        if len(kinds) != 1:
            self.problem(
                path,
                "a pattern has exactly one of 'lemmas', 'tokens' or 'near' "
                f"(found: {', '.join(kinds) or 'none'})",
            )
            return None
        confidence = item.get("confidence", 0.8)
        if not isinstance(confidence, (int, float)) or not 0 < confidence <= 1:
            self.problem((*path, "confidence"), "must be a number above 0 and at most 1")
            confidence = 0.8
        negatable = item.get("negatable", True)
        if not isinstance(negatable, bool):
            self.problem((*path, "negatable"), "must be true or false")
            negatable = True
        kind = kinds[0]
        lemmas: tuple[str, ...] = ()
        tokens: list[dict[str, Any]] = []
        a = b = None
        window = 8
        if kind == "lemmas":
            lemmas = tuple(x.lower() for x in self.texts(item["lemmas"], (*path, "lemmas")))
        elif kind == "tokens":
            tokens = self.token_pattern(item["tokens"], (*path, "tokens"))
        else:
            near = item["near"]
            where = (*path, "near")
            if not self.keys(near, where, NEAR_KEYS, "a proximity rule"):
                return None
            window = near.get("window", 8)
            if not isinstance(window, int) or isinstance(window, bool) or not 1 <= window <= 50:
                self.problem((*where, "window"), "must be a whole number of tokens from 1 to 50")
                window = 8
            a = self.term(near.get("a"), (*where, "a"), partners)
            b = self.term(near.get("b"), (*where, "b"), partners)
        return Pattern(
            id=pid,
            code=code,
            kind=kind,
            lemmas=lemmas,
            tokens=tuple(tokens),
            a=a,
            b=b,
            window=window,
            confidence=float(confidence),
            negatable=negatable,
            line=self.lines.get(path, 0),
        )

    def term(self, value: Any, path: Path_, partners: dict[str, Partner]) -> Term:
        if value is None:
            self.problem(path, "is required: {lemmas: [...]} and/or {partner: id}")
            return Term()
        if not self.keys(value, path, TERM_KEYS, "a proximity term"):
            return Term()
        lemmas = self.texts(value.get("lemmas"), (*path, "lemmas"))
        ids = list(self.texts(value.get("partners"), (*path, "partners")))
        if value.get("partner") is not None:
            ids += list(self.texts(value.get("partner"), (*path, "partner")))
        for pid in ids:
            if pid not in partners:
                self.problem(
                    (*path, "partner"), f"unknown partner '{pid}'{suggest(pid, set(partners))}"
                )
        if not lemmas and not ids:
            self.problem(path, "a term needs lemmas or a partner")
        return Term(tuple(x.lower() for x in lemmas), tuple(ids))

    def token_pattern(self, value: Any, path: Path_) -> list[dict[str, Any]]:
        if not isinstance(value, list) or not value:
            self.problem(path, "must be a non-empty list of token specifications")
            return []
        if len(value) > self.limits.tokens:
            self.problem(
                path,
                f"a token pattern has at most {self.limits.tokens} tokens; "
                f"this one has {len(value)}",
            )
            return []
        for i, spec in enumerate(value):
            where = (*path, i)
            if not isinstance(spec, dict):
                self.problem(where, "each token is a mapping such as {LOWER: 'aid'}")
                continue
            for attr, wanted in spec.items():
                if attr in NEEDS_TRAINED:
                    self.problem(
                        (*where, attr),
                        f"token attribute '{attr}' needs a trained "
                        "spaCy pipeline; the default pipeline has "
                        "none (use LEMMA, LOWER or ORTH)",
                    )
                elif attr not in TOKEN_ATTRS:
                    self.problem(
                        (*where, attr),
                        f"unknown token attribute '{attr}'{suggest(str(attr), TOKEN_ATTRS)}",
                    )
                elif attr == "OP" and (
                    not isinstance(wanted, str)
                    or (wanted not in OPS and not RANGE_OP.match(wanted))
                ):
                    self.problem(
                        (*where, attr),
                        f"unknown operator '{wanted}' (use one of {' '.join(sorted(OPS))} or "
                        "a range such as {0,4})",
                    )
                elif attr == "OP" and any(
                    len(n) > 6 or int(n) > self.limits.repeat
                    for n in re.findall(r"\d+", str(wanted))
                ):
                    self.problem(
                        (*where, attr),
                        f"the operator '{wanted}' repeats a token more than "
                        f"{self.limits.repeat} times; "
                        f"use at most {{0,{self.limits.repeat}}}",
                    )
                elif isinstance(wanted, dict):
                    for predicate in wanted:
                        if predicate not in PREDICATES:
                            self.problem(
                                (*where, attr, predicate),
                                f"unknown predicate '{predicate}'"
                                f"{suggest(str(predicate), PREDICATES)}",
                            )
                    if "REGEX" in wanted:
                        self.regexes(str(attr), wanted["REGEX"], (*where, attr, "REGEX"))
        return value

    def regexes(self, attr: str, value: Any, path: Path_) -> None:
        """Check the regular expression(s) of one REGEX predicate."""
        if attr not in REGEX_ATTRS:
            self.problem(
                path,
                f"REGEX works on the text of a token ({', '.join(sorted(REGEX_ATTRS))}), "
                f"not on '{attr}'",
            )
            return
        if isinstance(value, str):
            items: list[tuple[Path_, Any]] = [(path, value)]
        elif (
            isinstance(value, dict)
            and value
            and all(k in ("IN", "NOT_IN") and isinstance(v, list) and v for k, v in value.items())
        ):
            items = [((*path, k, i), s) for k, v in value.items() for i, s in enumerate(v)]
        else:
            self.problem(
                path,
                "REGEX takes a regular expression in quotes, or {IN: [...]} (any of) or "
                "{NOT_IN: [...]} (none of) with a list of them",
            )
            return
        self.n_regexes += len(items)
        if self.n_regexes > self.limits.regexes:
            if self.n_regexes - len(items) <= self.limits.regexes:
                self.problem(
                    path,
                    f"the codebook has more than {self.limits.regexes} regular expressions; "
                    "use lemmas or IN lists of words instead of most of them",
                )
            return
        for where, source in items:
            if not isinstance(source, str) or not source:
                self.problem(where, "must be a regular expression in quotes")
                continue
            reason = regex_problem(source)
            if reason is not None:
                self.problem(where, reason)


def check_token_patterns_with_spacy(codes: dict[str, Code], checker: BaseChecker) -> None:
    """Let spaCy's own validator look at the token patterns we passed."""
    from spacy.errors import MatchPatternError
    from spacy.matcher import Matcher
    from spacy.vocab import Vocab

    vocab = Vocab()
    for code in codes.values():
        for pattern in (*code.patterns, *code.exclusions):
            if pattern.kind != "tokens":
                continue
            try:  # a matcher each: spaCy's bookkeeping of predicates is quadratic in one
                Matcher(vocab, validate=True).add(pattern.id, [list(pattern.tokens)])
            except (MatchPatternError, ValueError) as exc:
                message = " ".join(str(exc).split())
                checker.problems.append(
                    CodebookProblem(pattern.line, f"pattern {pattern.id}", message)
                )
