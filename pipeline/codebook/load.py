"""Read and validate a codebook file, reporting every problem at once with its line.

Errors look like ``codebook/codebook.yaml:42: codes[3].patterns[1].tokens[0]: unknown token
attribute 'LEMA' (did you mean 'LEMMA'?)``. Nothing runs on an invalid codebook.

A codebook is edited by hand and may be hostile, so what it may ask for is bounded: the file's
size (:data:`MAX_BYTES`), the number of codes, patterns and tokens per pattern, repeat counts in
token patterns; YAML anchors and aliases are refused (see :mod:`pipeline.codebook.yamlpos`), and
every regular expression must compile and have no catastrophic shape
(:mod:`pipeline.codebook.regexcheck`).

This module reads the file and holds the bounds; the checks are in :mod:`.check_base`,
:mod:`.check_patterns` and :mod:`.check_codebook`, the allowed keys and words in :mod:`.schema`
and the problems in :mod:`.problems`. The bounds are read each time a codebook is parsed, so
they can be lowered here (``load.MAX_CODES = ...``) for a test or a stricter deployment.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pipeline.codebook.check_base import Limits
from pipeline.codebook.check_codebook import Checker
from pipeline.codebook.check_patterns import check_token_patterns_with_spacy
from pipeline.codebook.model import Codebook
from pipeline.codebook.problems import CodebookError, CodebookProblem, where_of
from pipeline.codebook.schema import (
    CODE_KEYS,
    EXAMPLE_KEYS,
    NEAR_KEYS,
    NEEDS_TRAINED,
    NEGATION_KEYS,
    OPS,
    PARTNER_KEYS,
    PATTERN_KEYS,
    PREDICATES,
    TERM_KEYS,
    TOKEN_ATTRS,
    TOP_KEYS,
)
from pipeline.codebook.yamlpos import YamlRefused, YamlSyntaxError, load_with_lines
from pipeline.errors import DshiftError

__all__ = [
    "CODE_KEYS",
    "EXAMPLE_KEYS",
    "MAX_BYTES",
    "MAX_CODES",
    "MAX_PATTERNS",
    "MAX_REGEXES",
    "MAX_REPEAT",
    "MAX_TOKENS",
    "NEAR_KEYS",
    "NEEDS_TRAINED",
    "NEGATION_KEYS",
    "OPS",
    "PARTNER_KEYS",
    "PATTERN_KEYS",
    "PREDICATES",
    "TERM_KEYS",
    "TOKEN_ATTRS",
    "TOP_KEYS",
    "CodebookError",
    "CodebookProblem",
    "load_codebook",
    "parse_codebook",
    "version_of",
]


# Bounds on what a codebook may ask for (the default codebook is 32 KB, 22 codes, 41 patterns).
MAX_BYTES = 2_000_000
MAX_CODES = 2_000
MAX_PATTERNS = 10_000  # patterns and exclusions of all codes together
MAX_TOKENS = 50  # token specifications in one token pattern
MAX_REPEAT = 50  # the largest n in a token operator {n}, {n,m}
MAX_REGEXES = 1_000  # regular expressions in the whole codebook


def version_of(data: Any) -> str:
    """Return the version of codebook content: a hash of its normalised JSON form."""
    canonical = json.dumps(
        data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    return "cb-" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


def parse_codebook(text: str, file: str = "codebook.yaml", path: Path | None = None) -> Codebook:
    """Validate codebook text and build the model.

    Raises:
        CodebookError: listing every problem found, each with its line.
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise CodebookError(file, [_too_big(size)])
    try:
        data, lines = load_with_lines(text)
    except YamlSyntaxError as exc:
        raise CodebookError(file, [CodebookProblem(exc.line, "(syntax)", str(exc))]) from None
    except YamlRefused as exc:
        problems = [
            CodebookProblem(p.line, "(yaml)" if p.where is None else where_of(p.where), p.message)
            for p in exc.problems
        ]
        raise CodebookError(file, problems) from None
    checker = Checker(lines, _limits())
    if not checker.keys(data, (), TOP_KEYS, "the codebook"):
        raise CodebookError(file, checker.problems)
    negation = checker.negation(data.get("negation"), ("negation",))
    partners = checker.partners(data.get("partners"), ("partners",))
    codes = checker.codes(data.get("codes"), ("codes",), partners)
    name = checker.text(data.get("name"), ("name",)) or file
    if not checker.problems:
        check_token_patterns_with_spacy(codes, checker)
    if checker.problems:
        raise CodebookError(file, sorted(checker.problems, key=lambda p: p.line))
    return Codebook(path, name, version_of(data), codes, partners, negation)


def _limits() -> Limits:
    """The bounds as this module holds them now."""
    return Limits(MAX_CODES, MAX_PATTERNS, MAX_TOKENS, MAX_REPEAT, MAX_REGEXES)


def _too_big(size: int) -> CodebookProblem:
    return CodebookProblem(
        0,
        "(file)",
        f"the file is {size:,} bytes; a codebook may be at most {MAX_BYTES:,} bytes "
        "(the default one is about 32,000): remove what is not codes, patterns or partners",
    )


def load_codebook(path: Path) -> Codebook:
    """Read and validate the codebook file at ``path``."""
    return parse_codebook(read_codebook_text(path), str(path), path)


def read_codebook_text(path: Path) -> str:
    """The text of the codebook file at ``path`` (newlines normalised), refusing files too big
    or unreadable with what and how to fix."""
    try:
        with path.open("rb") as handle:  # read at most one byte too many, even from a pipe
            raw = handle.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise CodebookError(str(path), [_too_big(max(len(raw), path.stat().st_size))])
        text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as read_text
    except FileNotFoundError:
        raise DshiftError(
            f"no codebook at {path}",
            "create one with 'dshift init', or give --codebook PATH",
            code="not-found",
        ) from None
    except PermissionError:
        raise DshiftError(
            f"cannot read the codebook {path}: permission denied",
            f"give your user read access (chmod a+r {path}), or give --codebook PATH",
            code="bad-file",
        ) from None
    except IsADirectoryError:
        raise DshiftError(
            f"the codebook {path} is a folder",
            "give the path of the codebook's .yaml file",
            code="bad-file",
        ) from None
    except UnicodeDecodeError as exc:
        raise DshiftError(
            f"cannot read the codebook {path}: byte {exc.start} is not UTF-8",
            "save it as UTF-8 text",
            code="bad-file",
        ) from None
    except OSError as exc:
        raise DshiftError(
            f"cannot read the codebook {path}: {exc.strerror or exc}",
            "check that the disk is mounted and the file readable, then run again",
            code="bad-file",
        ) from None
    return text
