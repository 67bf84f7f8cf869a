"""The base of the codebook checker: where a problem is, and the checks of plain values.

A checker walks the parsed YAML once, collecting every problem with its line (so that one error
lists them all) and building the model as it goes; :class:`Limits` bounds what a codebook may ask
for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.codebook.problems import CodebookProblem, suggest, where_of
from pipeline.codebook.schema import ID_PATTERN
from pipeline.codebook.yamlpos import Path_


@dataclass(frozen=True)
class Limits:
    """Bounds on what a codebook may ask for (see the ``MAX_*`` values of :mod:`.load`)."""

    codes: int
    patterns: int  # patterns and exclusions of all codes together
    tokens: int  # token specifications in one token pattern
    repeat: int  # the largest n in a token operator {n}, {n,m}
    regexes: int  # regular expressions in the whole codebook


class BaseChecker:
    """Collects problems with their lines; checks mappings, texts and ids."""

    def __init__(self, lines: dict[Path_, int], limits: Limits) -> None:
        self.lines = lines
        self.limits = limits
        self.problems: list[CodebookProblem] = []
        self.pattern_ids: set[str] = set()
        self.n_patterns = 0
        self.n_regexes = 0

    def problem(self, path: Path_, message: str) -> None:
        line = self.lines.get(path) or self.lines.get(path[:-1], 0)
        self.problems.append(CodebookProblem(line, where_of(path), message))

    def keys(self, value: Any, path: Path_, allowed: set[str], what: str) -> bool:
        if not isinstance(value, dict):
            self.problem(path, f"{what} must be a mapping of keys to values")
            return False
        for key in value:
            if key not in allowed:
                self.problem((*path, key), f"unknown key '{key}' in {what}{suggest(key, allowed)}")
        return True

    def text(self, value: Any, path: Path_, required: bool = False) -> str:
        if value is None:
            if required:
                self.problem(path, "is required")
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            self.problem(path, "must be a non-empty text")
            return ""
        return " ".join(value.split())

    def texts(self, value: Any, path: Path_) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.problem(path, "must be a list of texts")
            return ()
        out = []
        for i, item in enumerate(value):
            if isinstance(item, bool):
                word = "yes/no/on/off/true/false"
                self.problem(
                    (*path, i),
                    f'YAML read this word ({word}) as {item}: put it in quotes, for example "no"',
                )
            elif not isinstance(item, str) or not item.strip():
                self.problem((*path, i), "must be a non-empty text")
            else:
                out.append(" ".join(item.split()))
        return tuple(out)

    def identifier(self, value: Any, path: Path_) -> str:
        if not isinstance(value, str) or not ID_PATTERN.match(value):
            self.problem(
                path,
                f"'{value}' is not an id: use lower-case letters, digits, '_' and "
                "'.' (for example 'alignment.aid')",
            )
            return ""
        return value
