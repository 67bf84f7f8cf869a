"""The spaCy pipeline used for segmentation and rule matching.

By default ``spacy.blank("en")`` with spaCy's rule-based sentencizer (run on arrays: ``Sentences``)
and lower-case lemmas from the lookup tables of spacy-lookups-data: nothing to download, the same
everywhere. A trained pipeline is used only when asked for by name and installed; segment ids then
change, because the segmenter name does.
"""

from __future__ import annotations

import functools
import gzip
import json
from pathlib import Path

import numpy
import spacy
from spacy.attrs import IS_PUNCT, LEMMA, LOWER, NORM, ORTH, SENT_START
from spacy.language import Language
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc
from spacy.vocab import Vocab

from pipeline.core import DEFAULT_SEGMENTER as DEFAULT_SEGMENTER
from pipeline.core.arrays import found_in
from pipeline.errors import DshiftError


@functools.cache
def lemma_table() -> dict[str, str]:
    """English lemma lookup table from spacy-lookups-data (word form -> lemma)."""
    import spacy_lookups_data

    folder = Path(spacy_lookups_data.__file__).parent / "data"
    with gzip.open(folder / "en_lemma_lookup.json.gz", "rt", encoding="utf-8") as handle:
        table: dict[str, str] = json.load(handle)
    return {form.lower(): lemma.lower() for form, lemma in table.items()}


class LowerLemmas:
    """Set each token's LEMMA and NORM to its lower-case lemma from the lookup table.

    spaCy's own lookup lemmatizer looks up the text as written, so a capitalised first word
    ("Operations were ...") keeps its form; patterns should not depend on where a word stands.
    Works on hash arrays, with a cache from lower-case form to lemma, to stay cheap per token.
    """

    def __init__(self) -> None:
        self.table = lemma_table()
        self.cache: dict[int, int] = {}

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            return doc
        strings = doc.vocab.strings
        cache = self.cache
        lowers = doc.to_array(LOWER)
        lemmas = numpy.empty(len(lowers), dtype="uint64")
        for i, key in enumerate(lowers.tolist()):
            lemma = cache.get(key)
            if lemma is None:
                lower = strings[key]
                lemma = cache[key] = strings.add(self.table.get(lower, lower))
            lemmas[i] = lemma
        doc.from_array([LEMMA, NORM], numpy.stack([lemmas, lemmas], axis=1))  # type: ignore[arg-type]
        return doc


class Sentences:
    """spaCy's rule-based sentencizer, on arrays: the same sentence starts, token for token.

    spaCy's ``Sentencizer`` walks the tokens one Python object at a time, which costs a fifth of
    the coding stage. Its rule: a sentence starts at the first token that is neither punctuation
    nor a sentence mark (``.``, ``!``, ``?`` and the like) after a sentence mark. So a token
    starts a sentence when it is such a word and a mark stands between it and the word before.
    The output is checked against spaCy's own in the tests (segment ids depend on it).
    """

    def __init__(self, vocab: Vocab) -> None:
        marks = {vocab.strings.add(mark) for mark in Sentencizer.default_punct_chars}
        self.marks = numpy.array(sorted(marks), dtype="uint64")

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            return doc
        attrs = doc.to_array([ORTH, IS_PUNCT])
        mark, _ = found_in(self.marks, attrs[:, 0])
        words = numpy.flatnonzero((attrs[:, 1] == 0) & ~mark)
        marks_before = numpy.concatenate(([0], numpy.cumsum(mark)))  # marks in [0, i)
        after_word = numpy.concatenate(([0], words[:-1] + 1))  # just after the word before
        starts = words[marks_before[words] > marks_before[after_word]]
        flags = numpy.full(len(doc), numpy.uint64(2**64 - 1))  # -1: not a start
        flags[0] = 1
        flags[starts] = 1
        doc.from_array([SENT_START], flags[:, None])  # type: ignore[arg-type]
        return doc


@Language.factory("dshift_sentences")
def _make_sentences(nlp: Language, name: str) -> Sentences:
    return Sentences(nlp.vocab)


@Language.factory("dshift_lemmas")
def _make_lemmas(nlp: Language, name: str) -> LowerLemmas:
    return LowerLemmas()


@functools.cache
def make_nlp(model: str | None = None) -> Language:
    """Return the pipeline: blank English + sentencizer + lemmas, or an installed ``model``."""
    if model is None:
        nlp = spacy.blank("en")
        nlp.add_pipe("dshift_sentences")
    else:
        try:
            nlp = spacy.load(model, exclude=["ner", "lemmatizer"])
        except OSError:
            raise DshiftError(
                f"the spaCy pipeline '{model}' is not installed",
                "leave out --spacy-model to use the built-in rule pipeline, or install it",
                code="not-found",
            ) from None
    nlp.add_pipe("dshift_lemmas", last=True)
    nlp.max_length = 5_000_000
    return nlp


def segmenter_name(model: str | None = None) -> str:
    """Name of the segmenter (part of every segment id): changes with the pipeline."""
    return DEFAULT_SEGMENTER if model is None else f"sentences.{model}.v1"
