"""Our array sentencizer finds the very sentence starts that spaCy's own finds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy

from pipeline.coding.nlp import make_nlp

ROOT = Path(__file__).resolve().parents[1]
UNGDC = ROOT.parent / "shared" / "data" / "ungdc"

TRICKY = [
    "",
    " ",
    "\n\n",
    "Hello",
    "...",
    "!!! ??? ...",
    "Hi!! There.",
    "Mr. Smith went to Washington. He met the U.S. envoy.",
    'He said: "Stop!" Then he left.',
    "Wait?! Really... yes. (Quite so.) Next one.",
    "Aid rose to 1.5 billion dollars. It fell in 2011.",
    "One. . . Two",
    "Question? 'Answer.' «Quote.» Then",
    "Urdu mark۔ Next sentence؟ Yes",
    "句子。下一个。",
    "Dash — then. - Start",
    "A.B.C. D",
    "End.\nNew line starts.\n\nAnd a paragraph.",
    "Trailing space. ",
    ". Starts with a mark",
]


def spacy_sentences() -> spacy.language.Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def starts(nlp: spacy.language.Language, text: str) -> list[int]:
    doc = nlp(text)
    return [sent.start for sent in doc.sents] if len(doc) else []


def texts() -> list[str]:
    found = list(TRICKY)
    for path in sorted((ROOT / "corpus" / "sample-src" / "truth").glob("*.txt")):
        found.extend(path.read_text("utf-8").split("\n\n"))
    for line in (ROOT / "tests" / "devset" / "devset2.jsonl").read_text("utf-8").splitlines():
        row = json.loads(line)
        found.append(" ".join((row["before"], row["text"], row["after"])))
    return found


def test_same_starts_as_spacy_on_tricky_sample_and_devset_texts() -> None:
    ours, theirs = make_nlp(), spacy_sentences()
    checked = texts()
    assert len(checked) > 3000
    for text in checked:
        assert starts(ours, text) == starts(theirs, text), text


def test_same_starts_as_spacy_on_the_un_speeches() -> None:
    if not UNGDC.is_dir():
        pytest.skip(f"{UNGDC} is absent: the UN speeches are not on this machine")
    ours, theirs = make_nlp(), spacy_sentences()
    paths = sorted(UNGDC.rglob("*.txt"))[::4]
    assert paths
    for path in paths:
        text = path.read_text("utf-8", errors="replace")
        assert starts(ours, text) == starts(theirs, text), path.name
