"""The codebook as the coder uses it: codes in a tree, their patterns, partners, negation."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Term:
    """One side of a proximity rule: lemma phrases and/or partner mentions."""

    lemmas: tuple[str, ...] = ()
    partners: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pattern:
    """A way a code is recognised (or, in ``exclusions``, cancelled).

    Attributes:
        id: unique in the codebook; tags cite it as evidence.
        code: the code it belongs to.
        kind: 'lemmas' (phrases matched on lower-case lemmas), 'tokens' (a spaCy Matcher
            pattern) or 'near' (term ``a`` within ``window`` tokens of term ``b``).
        confidence: how sure a match makes the coder (0-1).
        negatable: whether a negation cue just before the match cancels it.
        line: where the pattern is in the codebook file (for messages; not part of its
            meaning, so moving a pattern does not change it).
    """

    id: str
    code: str
    kind: str
    lemmas: tuple[str, ...] = ()
    tokens: tuple[dict[str, Any], ...] = ()
    a: Term | None = None
    b: Term | None = None
    window: int = 8
    confidence: float = 0.8
    negatable: bool = True
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Code:
    """A code with what a human coder needs (definition, rules, examples) and its patterns."""

    id: str
    label: str
    parent: str | None
    definition: str
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    positive_examples: tuple[str, ...] = ()
    negative_examples: tuple[str, ...] = ()
    patterns: tuple[Pattern, ...] = ()
    exclusions: tuple[Pattern, ...] = ()


@dataclass(frozen=True)
class Partner:
    """An actor a segment can speak about, with the names that refer to it."""

    id: str
    label: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Negation:
    """Cues that cancel a following match ("no military solution")."""

    cues: tuple[str, ...] = ("not", "no", "never", "neither", "nor", "without")
    scope: int = 3
    exceptions: tuple[str, ...] = ("no doubt", "not only", "no less", "not least")


@dataclass(frozen=True)
class Codebook:
    """A validated codebook. Its ``version`` is the hash of its normalised content."""

    path: Path | None
    name: str
    version: str
    codes: dict[str, Code]
    partners: dict[str, Partner]
    negation: Negation = field(default_factory=Negation)

    def top_level(self, code_id: str) -> str:
        """Return the root of the tree that ``code_id`` belongs to."""
        code = self.codes[code_id]
        while code.parent is not None:
            code = self.codes[code.parent]
        return code.id

    def children(self, code_id: str | None) -> list[Code]:
        """Return the codes whose parent is ``code_id`` (None: the top-level codes)."""
        return [code for code in self.codes.values() if code.parent == code_id]

    def patterns(self) -> list[Pattern]:
        return [p for code in self.codes.values() for p in code.patterns]

    def exclusions(self) -> list[Pattern]:
        return [p for code in self.codes.values() for p in code.exclusions]
