"""Checking a codebook's sections: negation, partners and the code tree (ids, parents, cycles).

:class:`Checker` is the whole checker: these sections, with the patterns of every code checked by
:class:`~pipeline.codebook.check_patterns.PatternChecker`.
"""

from __future__ import annotations

from typing import Any

from pipeline.codebook.check_patterns import PatternChecker
from pipeline.codebook.model import Code, Negation, Partner
from pipeline.codebook.problems import suggest
from pipeline.codebook.schema import CODE_KEYS, EXAMPLE_KEYS, NEGATION_KEYS, PARTNER_KEYS
from pipeline.codebook.yamlpos import Path_


class Checker(PatternChecker):
    """Walks the parsed YAML, collecting problems and building the model."""

    def negation(self, value: Any, path: Path_) -> Negation:
        if value is None:
            return Negation()
        if not self.keys(value, path, NEGATION_KEYS, "negation"):
            return Negation()
        default = Negation()
        scope = value.get("scope", default.scope)
        if not isinstance(scope, int) or isinstance(scope, bool) or not 1 <= scope <= 10:
            self.problem((*path, "scope"), "must be a whole number of tokens from 1 to 10")
            scope = default.scope
        cues = self.texts(value.get("cues"), (*path, "cues")) or default.cues
        exceptions = self.texts(value.get("exceptions"), (*path, "exceptions"))
        return Negation(
            tuple(c.lower() for c in cues),
            scope,
            tuple(e.lower() for e in exceptions) or default.exceptions,
        )

    def partners(self, value: Any, path: Path_) -> dict[str, Partner]:
        partners: dict[str, Partner] = {}
        if value is None:
            return partners
        if not isinstance(value, list):
            self.problem(path, "must be a list of partners")
            return partners
        for i, item in enumerate(value):
            where = (*path, i)
            if not self.keys(item, where, PARTNER_KEYS, "a partner"):
                continue
            pid = self.identifier(item.get("id"), (*where, "id"))
            if pid in partners:
                self.problem((*where, "id"), f"partner '{pid}' is defined twice")
            aliases = self.texts(item.get("aliases"), (*where, "aliases"))
            if not aliases:
                self.problem((*where, "aliases"), "a partner needs at least one alias")
            if pid:
                label = self.text(item.get("label"), (*where, "label")) or pid
                partners[pid] = Partner(pid, label, aliases)
        return partners

    def codes(self, value: Any, path: Path_, partners: dict[str, Partner]) -> dict[str, Code]:
        codes: dict[str, Code] = {}
        if not isinstance(value, list) or not value:
            self.problem(path, "the codebook needs a non-empty list of codes")
            return codes
        if len(value) > self.limits.codes:
            self.problem(
                path,
                f"the codebook has {len(value)} codes; at most {self.limits.codes} are allowed: "
                "split it into several codebooks",
            )
            return codes
        parents: list[tuple[str, str, Path_]] = []
        for i, item in enumerate(value):
            where = (*path, i)
            if not self.keys(item, where, CODE_KEYS, "a code"):
                continue
            cid = self.identifier(item.get("id"), (*where, "id"))
            if cid in codes:
                self.problem((*where, "id"), f"code '{cid}' is defined twice")
            parent = item.get("parent")
            if parent is not None and not isinstance(parent, str):
                self.problem((*where, "parent"), "must be the id of another code")
            elif parent is not None:
                parents.append((cid, parent, (*where, "parent")))
            examples = item.get("examples") or {}
            if examples and not self.keys(examples, (*where, "examples"), EXAMPLE_KEYS, "examples"):
                examples = {}
            code = Code(
                id=cid,
                label=self.text(item.get("label"), (*where, "label"), required=True),
                parent=parent if isinstance(parent, str) else None,
                definition=self.text(item.get("definition"), (*where, "definition"), required=True),
                include=self.texts(item.get("include"), (*where, "include")),
                exclude=self.texts(item.get("exclude"), (*where, "exclude")),
                positive_examples=self.texts(
                    examples.get("positive"), (*where, "examples", "positive")
                ),
                negative_examples=self.texts(
                    examples.get("negative"), (*where, "examples", "negative")
                ),
                patterns=self.pattern_list(
                    item.get("patterns"), (*where, "patterns"), cid, partners
                ),
                exclusions=self.pattern_list(
                    item.get("exclusions"), (*where, "exclusions"), cid, partners
                ),
            )
            if cid:
                codes[cid] = code
        for cid, parent, where in parents:
            if parent not in codes:
                self.problem(
                    where, f"unknown parent code '{parent}'{suggest(str(parent), set(codes))}"
                )
            elif cid and self._cycle(codes, cid):
                self.problem(where, f"code '{cid}' is its own ancestor")
        return codes

    @staticmethod
    def _cycle(codes: dict[str, Code], cid: str) -> bool:
        seen = {cid}
        code = codes[cid]
        while code.parent is not None and code.parent in codes:
            if code.parent in seen:
                return True
            seen.add(code.parent)
            code = codes[code.parent]
        return False
