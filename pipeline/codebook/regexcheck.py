"""Check a codebook's regular expressions before anything runs them.

A regex in a codebook (spaCy's ``{"TEXT": {"REGEX": "..."}}``) must compile, mean the same to
Python's ``re`` (what spaCy documents) and to the ``regex`` module (what the coder runs, under a
time limit), and have no shape known to backtrack catastrophically: a repetition of something
that itself repeats over the same characters (``(a+)+``, ``(a*)*``, ``(.*)*``, ``(\\w+\\s?)+``)
or of a choice whose alternatives can match the same text (``(a|a)*``, ``(ab|ab)+``). The shape
test is conservative but not complete; the time limit in :mod:`pipeline.coding.timed_regex`
catches what it misses.
"""

from __future__ import annotations

import importlib
import re
import sys
import warnings
from collections.abc import Iterable
from typing import Any

import regex

MAX_REGEX_CHARS = 300
# The token attributes holding a text, the only ones a REGEX can test.
REGEX_ATTRS = frozenset({"ORTH", "TEXT", "LOWER", "NORM", "LEMMA", "SHAPE", "PREFIX", "SUFFIX"})

# The stdlib's regex parser: the tree of a pattern, as re itself reads it (private, but stable).
_sre: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")
_UNBOUNDED = float("inf")
_CATEGORIES = {
    "CATEGORY_DIGIT": re.compile(r"\d"),
    "CATEGORY_NOT_DIGIT": re.compile(r"\D"),
    "CATEGORY_SPACE": re.compile(r"\s"),
    "CATEGORY_NOT_SPACE": re.compile(r"\S"),
    "CATEGORY_WORD": re.compile(r"\w"),
    "CATEGORY_NOT_WORD": re.compile(r"\W"),
}
# Characters the overlap test tries: ASCII and a few others (accented, Urdu, digits, spaces).
_PROBE = frozenset(chr(i) for i in range(128)) | frozenset("éßüاب٣۳\u00a0\u2009中—")
_QUANTIFIER = re.compile(r"\{\d*(?:,\d*)?\}")
_INLINE = re.compile(r"\(\?([aiLmsux-]+)[:)]")  # inline flags such as (?i) or (?i:...)

NESTED = (
    "it repeats a part that itself repeats over the same characters (like (a+)+, (a*)*, "
    "(.*)* or (\\w+\\s?)+), which can take exponential time on a long token: repeat once "
    "(for example 'a+' instead of '(a+)+'), or separate the repeated parts with a character "
    "they cannot match (like '([a-z]+-)+')"
)
OVERLAP = (
    "it repeats a choice whose alternatives can match the same text (like (a|a)* or (a|ab)+), "
    "which can take exponential time on a long token: make the alternatives start differently, "
    "or use a character class such as [ab]+"
)


def regex_problem(source: str) -> str | None:
    """Return why a codebook may not use the regex ``source``, or None when it may."""
    if len(source) > MAX_REGEX_CHARS:
        return (
            f"the regular expression is {len(source)} characters long; at most "
            f"{MAX_REGEX_CHARS} are allowed: split it into several patterns"
        )
    shown = _shown(source)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        try:
            re.compile(source)
        except (re.error, OverflowError, RecursionError) as exc:  # a{99999999999}, ((((...
            return f"invalid regular expression {shown}: {exc}"
        except FutureWarning as exc:
            return f"unclear regular expression {shown}: {exc}; write '\\[' for a literal '['"
    try:
        regex.compile(source)
    except (regex.error, OverflowError, RecursionError) as exc:
        return f"invalid regular expression {shown}: {exc}"
    brace = _loose_brace(source)
    if brace is not None:
        return (
            f"regular expression {shown}: the '{{' at position {brace} is not a repeat count "
            "such as {2} or {1,3}; write '\\{' for a literal brace"
        )
    tree = _sre.parse(source)
    fold = bool(tree.state.flags & re.IGNORECASE) or "i" in "".join(_INLINE.findall(source))
    reason = _danger(list(tree), fold)
    if reason is not None:
        return f"regular expression {shown} refused: {reason}"
    return None


def _shown(source: str) -> str:
    return repr(source if len(source) <= 60 else source[:57] + "...")


def _loose_brace(source: str) -> int | None:
    """Position of an unescaped '{' outside brackets that is not a repeat count, if any.

    ``re`` reads such a brace as a literal, the ``regex`` module may read it as a fuzzy-matching
    constraint (``(?:aid){e<=1}``): refusing it keeps both engines in agreement.
    """
    i, in_class = 0, False
    while i < len(source):
        char = source[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
        elif char == "[":
            in_class = True
            i += 1
            if i < len(source) and source[i] == "^":
                i += 1
            if i < len(source) and source[i] == "]":
                i += 1  # a ']' first in brackets is literal
            continue
        elif char == "{" and not _QUANTIFIER.match(source, i):
            return i
        i += 1
    return None


# -- the shape test, on the tree of re's parser -----------------------------------------------


def _danger(items: list[Any], fold: bool) -> str | None:
    """Find a catastrophic shape anywhere in a parsed (sub)pattern (``fold``: ignoring case)."""
    for op, av in items:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT"):
            _low, high, body = av
            if high > 1:
                reason = _ambiguous(list(body), fold)
                if reason is not None:
                    return reason
            children: Iterable[Any] = [body]
        elif name == "POSSESSIVE_REPEAT":  # no backtracking into it; still look inside
            children = [av[2]]
        elif name == "SUBPATTERN":
            children = [av[-1]]
        elif name == "ATOMIC_GROUP":
            children = [av]
        elif name == "BRANCH":
            children = av[1]
        elif name in ("ASSERT", "ASSERT_NOT"):
            children = [av[1]]
        elif name == "GROUPREF_EXISTS":
            children = [c for c in av[1:] if c is not None]
        else:
            continue
        for child in children:
            reason = _danger(list(child), fold)
            if reason is not None:
                return reason
    return None


def _meet(a: frozenset[str], b: frozenset[str], fold: bool) -> bool:
    """Whether two character sets share a character (in either case, with ``fold``)."""
    if fold:
        a = frozenset(c.lower() for c in a)
        b = frozenset(c.lower() for c in b)
    return bool(a & b)


def _ambiguous(body: list[Any], fold: bool) -> str | None:
    """Why repeating ``body`` more than once can split the same text in many ways, if it can."""
    sequence = _flatten(body)
    for i, item in enumerate(sequence):
        low, high = _width([item])
        if low < high and str(item[0]) not in ("ATOMIC_GROUP", "POSSESSIVE_REPEAT"):
            chars = _chars([item])
            rest = [other for j, other in enumerate(sequence) if j != i and _width([other])[0] > 0]
            if all(_meet(chars, _chars([other]), fold) for other in rest):
                return NESTED
    for op, av in sequence:
        if str(op) == "BRANCH":
            alternatives = [list(alt) for alt in av[1]]
            for i, first in enumerate(alternatives):
                for second in alternatives[i + 1 :]:
                    both_empty = _width(first)[0] == 0 and _width(second)[0] == 0
                    if both_empty or _meet(_first(first), _first(second), fold):
                        return OVERLAP
    return None


def _flatten(items: list[Any]) -> list[Any]:
    """The items of a sequence with its plain groups opened up."""
    out: list[Any] = []
    for op, av in items:
        if str(op) == "SUBPATTERN":
            out.extend(_flatten(list(av[-1])))
        else:
            out.append((op, av))
    return out


def _width(items: list[Any]) -> tuple[float, float]:
    """The fewest and most characters ``items`` can match."""
    low, high = 0.0, 0.0
    for op, av in items:
        name = str(op)
        if name in ("LITERAL", "NOT_LITERAL", "ANY", "IN", "CATEGORY"):
            a, b = 1.0, 1.0
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            inner = _width(list(av[2]))
            most = _UNBOUNDED if av[1] == _sre.MAXREPEAT else float(av[1])
            a = av[0] * inner[0]
            b = 0.0 if inner[1] == 0 else most * inner[1]
        elif name == "SUBPATTERN":
            a, b = _width(list(av[-1]))
        elif name == "ATOMIC_GROUP":
            a, b = _width(list(av))
        elif name == "BRANCH":
            widths = [_width(list(alt)) for alt in av[1]]
            a, b = min(w[0] for w in widths), max(w[1] for w in widths)
        elif name == "GROUPREF_EXISTS":
            widths = [_width(list(c)) if c is not None else (0.0, 0.0) for c in av[1:]]
            a, b = min(w[0] for w in widths), max(w[1] for w in widths)
        elif name == "GROUPREF":
            a, b = 0.0, _UNBOUNDED
        else:  # AT, ASSERT, ASSERT_NOT: match no characters
            a, b = 0.0, 0.0
        low, high = low + a, high + b
    return low, high


def _chars(items: list[Any]) -> frozenset[str]:
    """The characters (of the probe set) that ``items`` can consume."""
    out: set[str] = set()
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            out.add(chr(av))
        elif name == "NOT_LITERAL":
            out |= _PROBE - {chr(av)}
        elif name in ("ANY", "GROUPREF"):
            out |= _PROBE
        elif name == "IN":
            out |= _in_set(av)
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            out |= _chars(list(av[2]))
        elif name == "SUBPATTERN":
            out |= _chars(list(av[-1]))
        elif name == "ATOMIC_GROUP":
            out |= _chars(list(av))
        elif name in ("BRANCH", "GROUPREF_EXISTS"):
            children = av[1] if name == "BRANCH" else [c for c in av[1:] if c is not None]
            for child in children:
                out |= _chars(list(child))
    return frozenset(out)


def _first(items: list[Any]) -> frozenset[str]:
    """The characters (of the probe set) that the text ``items`` match can start with."""
    out: set[str] = set()
    for op, av in _flatten(items):
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            out |= _first(list(av[2]))
        elif name == "BRANCH":
            for alt in av[1]:
                out |= _first(list(alt))
        elif name == "ATOMIC_GROUP":
            out |= _first(list(av))
        else:
            out |= _chars([(op, av)])
        if _width([(op, av)])[0] > 0:
            break
    return frozenset(out)


def _in_set(members: list[Any]) -> frozenset[str]:
    """The probe characters a bracket expression ``[...]`` accepts."""
    negate = False
    accepted: set[str] = set()
    for op, av in members:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            accepted.add(chr(av))
        elif name == "RANGE":
            low, high = av
            accepted |= {c for c in _PROBE if low <= ord(c) <= high}
            accepted |= {chr(low), chr(high)}
        elif name == "CATEGORY":
            pattern = _CATEGORIES.get(str(av))
            accepted |= {c for c in _PROBE if pattern is None or pattern.match(c)}
        else:
            accepted |= _PROBE
    return frozenset(_PROBE - accepted) if negate else frozenset(accepted)
