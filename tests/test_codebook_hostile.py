"""Hostile codebooks: each is refused with its line and a fix, never a traceback or a hang."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from spacy.matcher import Matcher

from pipeline.cli import cli
from pipeline.codebook import load as loader
from pipeline.codebook.load import CodebookError, load_codebook, parse_codebook
from pipeline.codebook.model import Code, Codebook, Pattern
from pipeline.codebook.regexcheck import REGEX_ATTRS, regex_problem
from pipeline.coding.browse import explain_segment
from pipeline.coding.nlp import make_nlp
from pipeline.coding.rules import RegexTooSlow, RuleCoder
from pipeline.coding.run import code_corpus
from pipeline.coding.timed_regex import FIELDS, RegexTimeout, TokenRegex
from pipeline.executor import SerialExecutor
from pipeline.ingest.run import IngestSettings, ingest
from pipeline.workspace import Workspace
from tests.conftest import ROOT

HEAD = """name: t
codes:
  - id: a
    label: A
    definition: D.
    patterns:
"""  # the next line, the first pattern, is line 7


def with_pattern(pattern: str) -> str:
    return HEAD + f"      - {pattern}\n"


def problems_of(text: str) -> list[str]:
    with pytest.raises(CodebookError) as caught:
        parse_codebook(text, "cb.yaml")
    return [p.format("cb.yaml") for p in caught.value.problems]


def alias_bomb() -> str:
    """A "billion laughs" of about 32 KB: ten levels of nine aliases each (9**10 leaves)."""
    text = 'l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for level in range(1, 11):
        text += f"l{level}: &l{level} [" + ",".join([f"*l{level - 1}"] * 9) + "]\n"
    padding = "# " + "x" * 76 + "\n"
    while len(text) < 32_000:
        text += padding
    return text


# -- YAML: aliases, anchors, keys --------------------------------------------------------------


def test_an_alias_bomb_is_refused_before_it_grows(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb(), encoding="utf-8")
    assert bomb.stat().st_size >= 32_000
    with pytest.raises(CodebookError) as caught:
        load_codebook(bomb)
    found = [p.format("bomb.yaml") for p in caught.value.problems]
    assert found[0].startswith("bomb.yaml:1: (yaml): YAML anchor '&l0' refused (and 10 more")
    assert found[1].startswith("bomb.yaml:2: (yaml): YAML alias '*l0' refused (and 89 more")
    assert all("write the values out in full" in p for p in found)


def test_a_recursive_alias_is_refused_with_its_line() -> None:
    found = problems_of(with_pattern("{id: p1, lemmas: [aid]}") + "note: &loop [x, *loop]\n")
    assert found[0].startswith("cb.yaml:8: (yaml): YAML anchor '&loop' refused")
    assert found[1].startswith("cb.yaml:8: (yaml): YAML alias '*loop' refused")


def test_a_merge_key_is_an_alias_and_is_refused() -> None:
    text = "base: &b {label: A}\n" + HEAD.replace("    label: A\n", "    <<: *b\n")
    assert any("cb.yaml:5: (yaml): YAML alias '*b' refused" in p for p in problems_of(text))


@pytest.mark.parametrize(
    ("key", "kind"),
    [("? [a, b] : c", "mapping"), ("[a, b]: c", "list"), ("{a: 1}: c", "mapping")],
)
def test_a_key_that_is_not_a_word_is_a_problem_not_a_crash(key: str, kind: str) -> None:
    [problem] = problems_of(with_pattern("{id: p1, lemmas: [aid]}") + key + "\n")
    assert problem == (
        f"cb.yaml:8: (top): a key must be a plain word such as 'label', not a {kind} "
        "(a '?' or brackets before ':' make one)"
    )


def test_a_key_given_twice_is_a_problem_not_a_silent_overwrite() -> None:
    text = HEAD.replace("    label: A\n", "    label: A\n    label: B\n")
    [problem] = problems_of(text + "      - {id: p1, lemmas: [aid]}\n")
    assert problem.startswith(
        "cb.yaml:5: codes[0].label: key 'label' appears twice in the same mapping (first on line 4)"
    )


def test_deep_nesting_is_refused_before_the_recursive_composer_sees_it() -> None:
    text = with_pattern("{id: p1, lemmas: [aid]}") + "note: " + "[" * 100 + "]" * 100 + "\n"
    [problem] = problems_of(text)
    assert problem.startswith("cb.yaml:8: (yaml): lists and mappings are nested more than 32")


def test_an_unknown_tag_is_a_problem_and_a_date_is_a_value() -> None:
    [problem] = problems_of(
        with_pattern("{id: p1, lemmas: [aid]}") + "name2: !!python/name:os.system x\n"
    )
    assert problem.startswith("cb.yaml:8: name2: this value cannot be read")
    # A bare date is read as a date; the codebook still loads and gets a version.
    book = parse_codebook(
        HEAD.replace("    label: A\n", "    label: A\n    note: 2015-06-01\n")
        + "      - {id: p1, lemmas: [aid]}\n"
    )
    assert book.version.startswith("cb-")


# -- size and counts ---------------------------------------------------------------------------


def test_an_oversize_file_is_refused_without_being_parsed(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text(with_pattern("{id: p1, lemmas: [aid]}") + "#" * loader.MAX_BYTES, "utf-8")
    with pytest.raises(CodebookError) as caught:
        load_codebook(big)
    [problem] = [p.format("big.yaml") for p in caught.value.problems]
    size = big.stat().st_size
    assert problem.startswith(
        f"big.yaml: (file): the file is {size:,} bytes; a codebook may be at most 2,000,000 bytes"
    )


def test_a_file_of_too_many_values_is_refused_before_it_is_built() -> None:
    """A million tiny values cost seconds and hundreds of MB to compose: the event scan stops."""
    text = "codes:\n" + "- 1\n" * 200_001  # item j is on line j + 1 and is value j + 3
    with pytest.raises(CodebookError) as caught:
        parse_codebook(text, "big.yaml")
    [problem] = [p.format("big.yaml") for p in caught.value.problems]
    assert problem.startswith(
        "big.yaml:199999: (yaml): the codebook holds more than 200,000 values, lists and "
        "mappings (the limit is passed on this line)"
    )


def test_too_many_codes_and_too_many_patterns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "MAX_CODES", 2)
    monkeypatch.setattr(loader, "MAX_PATTERNS", 2)
    code = "  - {{id: c{0}, label: C, definition: D., patterns: [{{lemmas: [w{0}]}}]}}\n"
    three = "name: t\ncodes:\n" + "".join(code.format(i) for i in range(3))
    assert problems_of(three) == [
        "cb.yaml:2: codes: the codebook has 3 codes; at most 2 are allowed: "
        "split it into several codebooks"
    ]
    patterns = with_pattern("{lemmas: [a]}") + "      - {lemmas: [b]}\n      - {lemmas: [c]}\n"
    assert problems_of(patterns) == [
        "cb.yaml:6: codes[0].patterns: the codebook has more than 2 patterns and exclusions; "
        "merge lemma phrases into fewer patterns or split the codebook"
    ]


def test_token_patterns_are_bounded_in_length_and_repeats() -> None:
    found = problems_of(
        with_pattern("{id: p1, tokens: [" + ", ".join(["{LOWER: a}"] * 51) + "]}")
        + '      - {id: p2, tokens: [{LOWER: a}, {LOWER: b, OP: "{0,100000000}"}]}\n'
    )
    assert found == [
        "cb.yaml:7: codes[0].patterns[0].tokens: a token pattern has at most 50 tokens; "
        "this one has 51",
        "cb.yaml:8: codes[0].patterns[1].tokens[1].OP: the operator '{0,100000000}' repeats a "
        "token more than 50 times; use at most {0,50}",
    ]


# -- regular expressions -----------------------------------------------------------------------


def test_an_invalid_regex_is_a_problem_with_line_path_and_the_regex_error() -> None:
    found = problems_of(
        with_pattern('{id: p1, tokens: [{TEXT: {REGEX: "(unclosed"}}]}')
        + '      - {id: p2, tokens: [{LOWER: {REGEX: {IN: ["^ok$", "[z-a]"]}}}]}\n'
    )
    assert found == [
        "cb.yaml:7: codes[0].patterns[0].tokens[0].TEXT.REGEX: invalid regular expression "
        "'(unclosed': missing ), unterminated subpattern at position 0",
        "cb.yaml:8: codes[0].patterns[1].tokens[0].LOWER.REGEX.IN[1]: invalid regular "
        "expression '[z-a]': bad character range z-a at position 1",
    ]


@pytest.mark.parametrize(
    "regex",
    [
        "^(a+)+$",
        "(a*)*",
        "(a|a)*",
        "(.*)*",
        r"^(\w+\s?)+$",
        "(a|aa)+$",
        r"(\d+\.?)+x",
        "(?i)(ab|AB)*",
    ],
)
def test_a_catastrophic_regex_is_refused_at_load(regex: str) -> None:
    text = with_pattern("{id: p1, tokens: [{TEXT: {REGEX: " + json.dumps(regex) + "}}]}")
    [problem] = problems_of(text)
    assert problem.startswith(
        f"cb.yaml:7: codes[0].patterns[0].tokens[0].TEXT.REGEX: regular expression {regex!r} "
        "refused: it repeats a "
    )
    assert "exponential time on a long token" in problem


@pytest.mark.parametrize(
    "regex",
    [
        "^pak(istan)?i?s?$",
        r"^\d{4}$",
        "^(us|usa|america)$",
        "([a-z]+-)+[a-z]+",
        "(foo|bar)+",
        r"(\d{1,3},)+\d{3}",
        "(a|ab)*c",
        "(?>a+)+",
        r"\{",
    ],
)
def test_ordinary_regexes_pass(regex: str) -> None:
    assert regex_problem(regex) is None


@pytest.mark.parametrize(
    ("regex", "says"),
    [
        ("a{e<=1}", "is not a repeat count"),  # fuzzy matching to the regex module, text to re
        ("[[:alpha:]]", "Possible nested set"),
        (r"\p{L}", "bad escape"),
        ("x" * 301, "at most 300 are allowed"),
    ],
)
def test_regexes_the_two_engines_would_read_differently_are_refused(regex: str, says: str) -> None:
    reason = regex_problem(regex)
    assert reason is not None and says in reason


def test_regex_only_on_text_attributes_and_in_known_forms() -> None:
    found = problems_of(
        with_pattern('{id: p1, tokens: [{LENGTH: {REGEX: "3"}}]}')
        + "      - {id: p2, tokens: [{LOWER: {REGEX: [a, b]}}]}\n"
    )
    assert found[0].startswith(
        "cb.yaml:7: codes[0].patterns[0].tokens[0].LENGTH.REGEX: REGEX works on the text of a "
        "token (LEMMA, LOWER, NORM, ORTH, PREFIX, SHAPE, SUFFIX, TEXT), not on 'LENGTH'"
    )
    assert found[1].startswith("cb.yaml:8: codes[0].patterns[1].tokens[0].LOWER.REGEX: REGEX takes")
    assert set(FIELDS) == REGEX_ATTRS


# -- the time limit: the safety net behind the shape test ----------------------------------------


def test_regexes_keep_their_meaning_under_the_time_limit() -> None:
    """The coder's timed regexes find what spaCy's own REGEX finds."""
    nlp = make_nlp()
    specs = [
        [{"LOWER": {"REGEX": "^pak"}}],
        [{"TEXT": {"REGEX": "^[A-Z]{2,}$"}}, {"LOWER": {"REGEX": {"IN": ["^talk", "^aid$"]}}}],
        [{"LOWER": {"REGEX": {"NOT_IN": ["^the$", "^a$"]}, "IN": ["aid", "loans"]}}],
        [{"LOWER": "pakistan"}, {"IS_ALPHA": True, "OP": "*"}, {"LEMMA": {"REGEX": "^talk"}}],
    ]
    codes = {}
    for i, spec in enumerate(specs):
        codes[f"c{i}"] = Code(
            f"c{i}",
            "C",
            None,
            "D.",
            patterns=(Pattern(f"p{i}", f"c{i}", "tokens", tokens=tuple(spec)),),
        )
    coder = RuleCoder(Codebook(None, "t", "v", codes, {}), nlp)
    text = (
        "Pakistan and the USA talked about aid. Pakistani loans grew. The aid loans were "
        "a loan. Pakistan then talked."
    )
    doc = nlp(text)
    for i, spec in enumerate(specs):
        plain = Matcher(nlp.vocab)
        plain.add("x", [spec])
        expected = {(doc[s:e].start_char, doc[s:e].end_char) for _, s, e in plain(doc)}
        ours = {
            (e.start, e.end) for seg in coder.code_text(text) for e in seg.evidence.get(f"c{i}", [])
        }
        assert expected and ours <= expected, spec
        # Longest match per pattern is kept by the coder; every spaCy match lies inside one.
        assert all(any(s <= a and b <= e for s, e in ours) for a, b in expected), spec


def test_a_catastrophic_regex_cannot_hang_the_coder_even_past_the_loader() -> None:
    """Built directly (the loader would refuse it), the regex still stops at the time limit."""
    pattern = Pattern("p1", "a", "tokens", tokens=({"TEXT": {"REGEX": "^(a|a)*$"}},), line=7)
    book = Codebook(
        Path("cb.yaml"), "t", "v", {"a": Code("a", "A", None, "D.", patterns=(pattern,))}, {}
    )
    coder = RuleCoder(book, make_nlp())
    with pytest.raises(RegexTooSlow) as caught:
        coder.code_text("A token of " + "a" * 40 + "b here.")
    message = caught.value.message
    assert message.startswith(
        "cb.yaml:7: pattern 'p1': the regular expression '^(a|a)*$' took more than 0.5 s on the "
        "token 'aaaaaaaaaaaa"
    )
    assert "coding stopped" in message and "(a+)+" in caught.value.hint


def test_a_regex_has_a_budget_in_all_not_only_per_token(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.coding import timed_regex

    monkeypatch.setattr(timed_regex, "BUDGET_SECONDS", 0.0)
    with pytest.raises(RegexTimeout) as caught:
        TokenRegex("LOWER", ("^aid$",)).test("aid")
    assert caught.value.total


def run_dshift(
    *args: str, stdin: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a child process, with a generous ceiling against a hang."""
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd or ROOT,
    )


def test_tag_stops_a_regex_the_shape_test_misses_with_its_line(tmp_path: Path) -> None:
    # '(x|[a-z])*' is a character set to re's parser but a choice to the regex module.
    book = tmp_path / "cb.yaml"
    book.write_text(with_pattern('{id: p1, tokens: [{TEXT: {REGEX: "^(x|[a-z])*$"}}]}'), "utf-8")
    line = json.dumps({"id": 1, "text": "Here " + "x" * 40 + "1 again."})
    result = run_dshift("tag", "--coder", "rules.v1", "--codebook", str(book), stdin=line + "\n")
    assert result.returncode == 6, result.stderr
    assert (
        f"error [codebook]: {book}:7: pattern 'p1': the regular expression '^(x|[a-z])*$' "
        "took more " in (result.stderr)
    )
    assert "Traceback" not in result.stderr


# -- the commands: problems with lines, never a traceback ----------------------------------------


HOSTILE = {
    "bomb": (alias_bomb(), ":1: (yaml): YAML anchor '&l0' refused"),
    "recursive": ("name: &x [*x]\n", ":1: (yaml): YAML anchor '&x' refused"),
    "listkey": (with_pattern("{id: p1, lemmas: [aid]}") + "? [a, b] : c\n", ":8: (top): a key"),
    "badregex": (
        with_pattern('{id: p1, tokens: [{TEXT: {REGEX: "(unclosed"}}]}'),
        ":7: codes[0].patterns[0].tokens[0].TEXT.REGEX: invalid regular expression",
    ),
    "catastrophic": (
        with_pattern('{id: p1, tokens: [{TEXT: {REGEX: "^(a+)+$"}}]}'),
        ":7: codes[0].patterns[0].tokens[0].TEXT.REGEX: regular expression '^(a+)+$' refused",
    ),
    "oversize": ("#" * (loader.MAX_BYTES + 1), ": (file): the file is 2,000,001 bytes"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("command", ["check", "code", "tag"])
def test_every_command_reports_the_problem_and_its_line(
    workspace: Workspace, name: str, command: str
) -> None:
    text, expected = HOSTILE[name]
    book = workspace.root / f"{name}.yaml"
    book.write_text(text, encoding="utf-8")
    args = {
        "check": ["codebook", "check", str(book)],
        "code": ["code", "--codebook", str(book)],
        "tag": ["tag", "--codebook", str(book)],
    }[command]
    result = CliRunner().invoke(
        cli, ["--workspace", str(workspace.root), *args], input='{"id": 1, "text": "aid"}\n'
    )
    assert result.exit_code == 6, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"{book}{expected}" in result.stderr
    assert "Traceback" not in result.output


def ingested(workspace: Workspace, text: str) -> None:
    drop = workspace.root / "drop"
    drop.mkdir()
    (drop / "2015-01-01_mofa_note.txt").write_text(text, encoding="utf-8")
    with workspace.open_store() as store:
        ingest(store, [drop], IngestSettings(), executor=SerialExecutor())


def test_code_stops_at_a_slow_regex_and_records_the_run_as_failed(workspace: Workspace) -> None:
    ingested(workspace, "Pakistan welcomed aid.\n\nHere " + "x" * 40 + "1 again.\n")
    book = workspace.root / "cb.yaml"
    book.write_text(with_pattern('{id: p1, tokens: [{TEXT: {REGEX: "^(x|[a-z])*$"}}]}'), "utf-8")
    result = run_dshift(
        "--workspace", str(workspace.root), "code", "--coder", "rules.v1", "--codebook", str(book)
    )
    assert result.returncode == 6 and "Traceback" not in result.stderr
    assert f"error [codebook]: {book}:7: pattern 'p1': the regular expression" in result.stderr
    assert "coding stopped (documents already coded are kept)" in result.stderr
    version = load_codebook(book).version
    with workspace.open_store() as store:
        assert (
            store.coding_counts("rules.v1", version).documents == 0
        )  # the document is not half-coded
    status = run_dshift("--workspace", str(workspace.root), "status")
    assert " code    failed" in status.stdout


def test_show_still_explains_tags_under_a_stored_codebook_refused_today(
    workspace: Workspace,
) -> None:
    """Codebooks stored before today's rules (with YAML anchors) no longer parse: show copes."""
    ingested(workspace, "Pakistan welcomed aid from the United States.\n")
    book = load_codebook(ROOT / "codebook" / "codebook.yaml")
    with workspace.open_store() as store:
        code_corpus(
            store, book, "name: &n old\n" + (ROOT / "codebook" / "codebook.yaml").read_text("utf-8")
        )
        tagged = store.tagged_segments("rules.v1", book.version)
        segment_id = sorted(tagged["alignment"])[0]
        shown = explain_segment(store, segment_id)
    assert "alignment" in shown and "by " in shown


def test_too_many_regexes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "MAX_REGEXES", 2)
    found = problems_of(
        with_pattern('{id: p1, tokens: [{LOWER: {REGEX: "^a"}}, {LOWER: {REGEX: "^b"}}]}')
        + '      - {id: p2, tokens: [{LOWER: {REGEX: {IN: ["^c", "^d"]}}}]}\n'
    )
    assert found == [
        "cb.yaml:8: codes[0].patterns[1].tokens[0].LOWER.REGEX: the codebook has more than 2 "
        "regular expressions; use lemmas or IN lists of words instead of most of them"
    ]


@pytest.mark.parametrize(
    ("pattern_or_parent", "expected"),
    [
        (
            "{id: p1, tokens: [{LOWER: a, OP: [x]}]}",
            "cb.yaml:7: codes[0].patterns[0].tokens[0].OP: unknown operator '['x']'",
        ),
        (
            '{id: p1, tokens: [{LOWER: {REGEX: "a{99999999999}"}}]}',
            "cb.yaml:7: codes[0].patterns[0].tokens[0].LOWER.REGEX: invalid regular expression "
            "'a{99999999999}': the repetition number is too large",
        ),
        (
            "PARENT [a, b]",
            "cb.yaml:4: codes[0].parent: must be the id of another code",
        ),
    ],
)
def test_odd_values_found_by_fuzzing_are_problems(pattern_or_parent: str, expected: str) -> None:
    if pattern_or_parent.startswith("PARENT "):
        text = HEAD.replace(
            "    label: A\n", "    parent: " + pattern_or_parent[7:] + "\n    label: A\n"
        )
        text += "      - {id: p1, lemmas: [aid]}\n"
    else:
        text = with_pattern(pattern_or_parent)
    assert any(p.startswith(expected) for p in problems_of(text)), problems_of(text)


def test_random_odd_values_give_problems_or_a_working_coder() -> None:
    """Seeded fuzzing: any value in any place is a CodebookError or a codebook that codes."""
    import copy
    import random

    base: dict = {
        "name": "t",
        "negation": {"cues": ["not"], "scope": 3, "exceptions": ["no doubt"]},
        "partners": [{"id": "us", "label": "US", "aliases": ["US", "United States"]}],
        "codes": [
            {
                "id": "a",
                "label": "A",
                "definition": "D.",
                "examples": {"positive": ["x"], "negative": ["y"]},
                "patterns": [
                    {"id": "p1", "lemmas": ["aid"]},
                    {
                        "id": "p2",
                        "tokens": [
                            {"LOWER": "a", "OP": "?"},
                            {"TEXT": {"REGEX": "^x"}},
                            {"LOWER": {"IN": ["a"]}},
                        ],
                    },
                    {"id": "p3", "near": {"a": {"lemmas": ["aid"]}, "b": {"partner": "us"}}},
                ],
                "exclusions": [{"lemmas": ["b"]}],
            },
            {"id": "a.b", "parent": "a", "label": "B", "definition": "D."},
        ],
    }
    weird: list = [None, [], {}, [1], {"a": 1}, 1, -1, 1.5, True, "", "x", "9" * 5000, [[1]]]
    weird += [{"IN": [1]}, {"REGEX": {"IN": [1]}}, {"REGEX": 5}, "{0,999999999999999}"]

    def paths(value: object, path: tuple = ()) -> list[tuple]:
        out = [path]
        items = (
            value.items()
            if isinstance(value, dict)
            else enumerate(value)
            if isinstance(value, list)
            else []
        )
        for key, child in items:
            out += paths(child, (*path, key))
        return out

    places = paths(base)[1:]
    rng = random.Random(9)
    coder_nlp = make_nlp()
    for _ in range(300):
        data = copy.deepcopy(base)
        for _ in range(rng.randint(1, 3)):
            *parents, last = rng.choice(places)
            target = data
            try:
                for key in parents:
                    target = target[key]
                target[last] = copy.deepcopy(rng.choice(weird))
            except (KeyError, IndexError, TypeError):
                pass
        try:
            book = parse_codebook(json.dumps(data))
        except CodebookError:
            continue
        RuleCoder(book, coder_nlp).code_text("Pakistan welcomed aid from the US. x a b. not aid.")


def test_an_unreadable_codebook_says_why_and_how_to_fix(tmp_path: Path) -> None:
    from pipeline.codebook.load import load_codebook
    from pipeline.errors import DshiftError

    with pytest.raises(DshiftError, match="is a folder") as caught:
        load_codebook(tmp_path)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: Kabul caf\xe9\n".encode("latin-1"))
    with pytest.raises(DshiftError, match="byte 15 is not UTF-8") as caught:
        load_codebook(latin)
    assert caught.value.hint == "save it as UTF-8 text"
