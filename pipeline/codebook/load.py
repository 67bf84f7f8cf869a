"""Read and validate a codebook file, reporting every problem at once with its line.

Errors look like ``codebook/codebook.yaml:42: codes[3].patterns[1].tokens[0]: unknown token
attribute 'LEMA' (did you mean 'LEMMA'?)``. Nothing runs on an invalid codebook.

A codebook is edited by hand and may be hostile, so what it may ask for is bounded: the file's
size (:data:`MAX_BYTES`), the number of codes, patterns and tokens per pattern, repeat counts in
token patterns; YAML anchors and aliases are refused (see :mod:`pipeline.codebook.yamlpos`), and
every regular expression must compile and have no catastrophic shape
(:mod:`pipeline.codebook.regexcheck`).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.codebook.model import Code, Codebook, Negation, Partner, Pattern, Term
from pipeline.codebook.regexcheck import REGEX_ATTRS, regex_problem
from pipeline.codebook.yamlpos import Path_, YamlRefused, YamlSyntaxError, load_with_lines
from pipeline.errors import DshiftError

TOP_KEYS = {"name", "description", "version_label", "negation", "partners", "codes"}
CODE_KEYS = {
    "id",
    "label",
    "parent",
    "definition",
    "include",
    "exclude",
    "examples",
    "patterns",
    "exclusions",
    "note",
}
PATTERN_KEYS = {"id", "lemmas", "tokens", "near", "confidence", "negatable", "note"}
NEAR_KEYS = {"a", "b", "window"}
TERM_KEYS = {"lemmas", "partner", "partners"}
PARTNER_KEYS = {"id", "label", "aliases", "note"}
NEGATION_KEYS = {"cues", "scope", "exceptions"}
EXAMPLE_KEYS = {"positive", "negative"}
# Token attributes usable with the default pipeline (blank English, sentencizer, lemmas).
TOKEN_ATTRS = {
    "ORTH",
    "TEXT",
    "LOWER",
    "NORM",
    "LEMMA",
    "SHAPE",
    "PREFIX",
    "SUFFIX",
    "LENGTH",
    "IS_ALPHA",
    "IS_ASCII",
    "IS_DIGIT",
    "IS_LOWER",
    "IS_UPPER",
    "IS_TITLE",
    "IS_PUNCT",
    "IS_SPACE",
    "IS_STOP",
    "IS_SENT_START",
    "LIKE_NUM",
    "LIKE_URL",
    "LIKE_EMAIL",
    "OP",
}
NEEDS_TRAINED = {"POS", "TAG", "MORPH", "DEP", "ENT_TYPE", "ENT_IOB", "ENT_ID", "ENT_KB_ID"}
OPS = {"!", "?", "+", "*"}
_RANGE_OP = re.compile(r"^\{\d*,?\d*\}$")  # {n}, {n,m}, {,m}, {n,}
PREDICATES = {
    "IN",
    "NOT_IN",
    "REGEX",
    "FUZZY",
    "==",
    "!=",
    ">=",
    "<=",
    ">",
    "<",
    "IS_SUBSET",
    "IS_SUPERSET",
    "INTERSECTS",
}
_ID = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$")
# Bounds on what a codebook may ask for (the default codebook is 32 KB, 22 codes, 41 patterns).
MAX_BYTES = 2_000_000
MAX_CODES = 2_000
MAX_PATTERNS = 10_000  # patterns and exclusions of all codes together
MAX_TOKENS = 50  # token specifications in one token pattern
MAX_REPEAT = 50  # the largest n in a token operator {n}, {n,m}
MAX_REGEXES = 1_000  # regular expressions in the whole codebook


@dataclass(frozen=True)
class CodebookProblem:
    """One thing wrong in a codebook file."""

    line: int
    where: str
    message: str

    def format(self, file: str) -> str:
        """``file:line: where: message``; without the line for the file as a whole (line 0)."""
        at = f"{file}:{self.line}" if self.line else file
        return f"{at}: {self.where}: {self.message}"


class CodebookError(DshiftError):
    """The codebook is invalid; ``problems`` lists everything found."""

    exit_code = 6

    def __init__(self, file: str, problems: list[CodebookProblem]) -> None:
        listed = "\n".join("  " + p.format(file) for p in problems)
        super().__init__(
            f"{file} has {len(problems)} problem(s); nothing was coded:\n{listed}",
            f"correct the codebook and check it with 'dshift codebook check {file}'",
        )
        self.file = file
        self.problems = problems


def _where(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


def _suggest(word: str, choices: set[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class _Checker:
    """Walks the parsed YAML, collecting problems and building the model."""

    def __init__(self, lines: dict[Path_, int]) -> None:
        self.lines = lines
        self.problems: list[CodebookProblem] = []
        self.pattern_ids: set[str] = set()
        self.n_patterns = 0
        self.n_regexes = 0

    def problem(self, path: Path_, message: str) -> None:
        line = self.lines.get(path) or self.lines.get(path[:-1], 0)
        self.problems.append(CodebookProblem(line, _where(path), message))

    def keys(self, value: Any, path: Path_, allowed: set[str], what: str) -> bool:
        if not isinstance(value, dict):
            self.problem(path, f"{what} must be a mapping of keys to values")
            return False
        for key in value:
            if key not in allowed:
                self.problem((*path, key), f"unknown key '{key}' in {what}{_suggest(key, allowed)}")
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

    # -- sections ---------------------------------------------------------------------------

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

    def identifier(self, value: Any, path: Path_) -> str:
        if not isinstance(value, str) or not _ID.match(value):
            self.problem(
                path,
                f"'{value}' is not an id: use lower-case letters, digits, '_' and "
                "'.' (for example 'alignment.aid')",
            )
            return ""
        return value

    def codes(self, value: Any, path: Path_, partners: dict[str, Partner]) -> dict[str, Code]:
        codes: dict[str, Code] = {}
        if not isinstance(value, list) or not value:
            self.problem(path, "the codebook needs a non-empty list of codes")
            return codes
        if len(value) > MAX_CODES:
            self.problem(
                path,
                f"the codebook has {len(value)} codes; at most {MAX_CODES} are allowed: "
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
                    where, f"unknown parent code '{parent}'{_suggest(str(parent), set(codes))}"
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

    def pattern_list(
        self, value: Any, path: Path_, code: str, partners: dict[str, Partner]
    ) -> tuple[Pattern, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problem(path, "must be a list of patterns")
            return ()
        self.n_patterns += len(value)
        if self.n_patterns > MAX_PATTERNS:
            if self.n_patterns - len(value) <= MAX_PATTERNS:
                self.problem(
                    path,
                    f"the codebook has more than {MAX_PATTERNS} patterns and exclusions; "
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
                    (*path, "partner"), f"unknown partner '{pid}'{_suggest(pid, set(partners))}"
                )
        if not lemmas and not ids:
            self.problem(path, "a term needs lemmas or a partner")
        return Term(tuple(x.lower() for x in lemmas), tuple(ids))

    def token_pattern(self, value: Any, path: Path_) -> list[dict[str, Any]]:
        if not isinstance(value, list) or not value:
            self.problem(path, "must be a non-empty list of token specifications")
            return []
        if len(value) > MAX_TOKENS:
            self.problem(
                path, f"a token pattern has at most {MAX_TOKENS} tokens; this one has {len(value)}"
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
                        f"unknown token attribute '{attr}'{_suggest(str(attr), TOKEN_ATTRS)}",
                    )
                elif attr == "OP" and (
                    not isinstance(wanted, str)
                    or (wanted not in OPS and not _RANGE_OP.match(wanted))
                ):
                    self.problem(
                        (*where, attr),
                        f"unknown operator '{wanted}' (use one of {' '.join(sorted(OPS))} or "
                        "a range such as {0,4})",
                    )
                elif attr == "OP" and any(
                    len(n) > 6 or int(n) > MAX_REPEAT for n in re.findall(r"\d+", str(wanted))
                ):
                    self.problem(
                        (*where, attr),
                        f"the operator '{wanted}' repeats a token more than {MAX_REPEAT} times; "
                        f"use at most {{0,{MAX_REPEAT}}}",
                    )
                elif isinstance(wanted, dict):
                    for predicate in wanted:
                        if predicate not in PREDICATES:
                            self.problem(
                                (*where, attr, predicate),
                                f"unknown predicate '{predicate}'"
                                f"{_suggest(str(predicate), PREDICATES)}",
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
        if self.n_regexes > MAX_REGEXES:
            if self.n_regexes - len(items) <= MAX_REGEXES:
                self.problem(
                    path,
                    f"the codebook has more than {MAX_REGEXES} regular expressions; "
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
            CodebookProblem(p.line, "(yaml)" if p.where is None else _where(p.where), p.message)
            for p in exc.problems
        ]
        raise CodebookError(file, problems) from None
    checker = _Checker(lines)
    if not checker.keys(data, (), TOP_KEYS, "the codebook"):
        raise CodebookError(file, checker.problems)
    negation = checker.negation(data.get("negation"), ("negation",))
    partners = checker.partners(data.get("partners"), ("partners",))
    codes = checker.codes(data.get("codes"), ("codes",), partners)
    name = checker.text(data.get("name"), ("name",)) or file
    if not checker.problems:
        _check_token_patterns_with_spacy(codes, checker)
    if checker.problems:
        raise CodebookError(file, sorted(checker.problems, key=lambda p: p.line))
    return Codebook(path, name, version_of(data), codes, partners, negation)


def _check_token_patterns_with_spacy(codes: dict[str, Code], checker: _Checker) -> None:
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


def _too_big(size: int) -> CodebookProblem:
    return CodebookProblem(
        0,
        "(file)",
        f"the file is {size:,} bytes; a codebook may be at most {MAX_BYTES:,} bytes "
        "(the default one is about 32,000): remove what is not codes, patterns or partners",
    )


def load_codebook(path: Path) -> Codebook:
    """Read and validate the codebook file at ``path``."""
    try:
        with path.open("rb") as handle:  # read at most one byte too many, even from a pipe
            raw = handle.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise CodebookError(str(path), [_too_big(max(len(raw), path.stat().st_size))])
        text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as read_text
    except FileNotFoundError:
        raise DshiftError(
            f"no codebook at {path}", "create one with 'dshift init', or give --codebook PATH"
        ) from None
    except PermissionError:
        raise DshiftError(
            f"cannot read the codebook {path}: permission denied",
            f"give your user read access (chmod a+r {path}), or give --codebook PATH",
        ) from None
    except IsADirectoryError:
        raise DshiftError(
            f"the codebook {path} is a folder", "give the path of the codebook's .yaml file"
        ) from None
    except UnicodeDecodeError as exc:
        raise DshiftError(
            f"cannot read the codebook {path}: byte {exc.start} is not UTF-8",
            "save it as UTF-8 text",
        ) from None
    except OSError as exc:
        raise DshiftError(
            f"cannot read the codebook {path}: {exc.strerror or exc}",
            "check that the disk is mounted and the file readable, then run again",
        ) from None
    return parse_codebook(text, str(path), path)
