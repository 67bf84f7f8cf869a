"""``learned.v1``'s text features, from spaCy's tokens, computed by array operations.

The features are those of scikit-learn's TF-IDF vectorizers, over spaCy's tokens rather than a
regular expression's: the coding stage has already tokenized every sentence (the rules run on
the same tokens), so the model reads them as hash arrays and never splits a string again. A
token counts when its lower-case form has at least two characters, one of them a letter or digit
(punctuation and spaces do not; "U.S." and "n't" do). Three parts:

* ``words``: the tokens and each pair of consecutive counted tokens (bigrams);
* ``context``: the tokens of the neighbouring sentences;
* ``chars``: the character 3-5-grams of each token, padded with a space either side (so
  inflections and unfamiliar names still match).

Training fits scikit-learn's ``TfidfVectorizer`` on the same features given as lists of strings
(:func:`analysed`), so its vocabulary, IDF weights and weighting are scikit-learn's own; coding
computes the same matrices (a test checks each against scikit-learn's ``transform``) with
:class:`Featurizer`: every distinct lexeme of a batch is looked up once, in a table kept between
batches (its text, whether it counts, its column in each part, its n-grams' columns); tokens
become columns by array indexing; counts, sublinear tf, IDF and the l2 norm are array
operations on the whole batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2
from spacy.attrs import LOWER

from pipeline.coding.nlp import make_nlp
from pipeline.core.arrays import found_in

if TYPE_CHECKING:
    from spacy.strings import StringStore

CHAR_RANGE = (3, 5)
LEXICON_SIZE = 500_000  # distinct lexemes kept between batches (then the table starts again)
TOKEN_CACHE = 50_000  # distinct strings whose tokens are kept (training refits on the same)


class Texts(Protocol):
    """A sentence with one either side: what the featurizer reads of an example (a
    :class:`pipeline.learning.tracks.Example`, a labelled sentence)."""

    @property
    def text(self) -> str: ...
    @property
    def before(self) -> str: ...
    @property
    def after(self) -> str: ...


def given(features: list[str]) -> list[str]:
    """The analyzer of the TF-IDF parts: their inputs are already the features."""
    return features


def counted(lower: str) -> bool:
    """Whether a token (its lower-case form) is a feature: two characters, one alphanumeric."""
    return len(lower) >= 2 and any(c.isalnum() for c in lower)


def char_grams(word: str, low: int = CHAR_RANGE[0], high: int = CHAR_RANGE[1]) -> list[str]:
    """The character n-grams of one token, padded with a space either side (as scikit-learn's
    ``char_wb`` does for a word); a token shorter than ``n`` counts once."""
    padded = f" {word} "
    grams: list[str] = []
    for n in range(low, high + 1):
        grams.extend(padded[i : i + n] for i in range(max(len(padded) - n + 1, 1)))
        if len(padded) <= n:
            break
    return grams


_tokens: dict[str, np.ndarray] = {}


def tokens_of(texts: Sequence[str]) -> list[np.ndarray]:
    """The LOWER hashes of each text's tokens, by the default pipeline's tokenizer (each
    distinct text tokenized once; kept for the next call)."""
    missing = list(dict.fromkeys(t for t in texts if t not in _tokens))
    if missing:
        if len(_tokens) + len(missing) > TOKEN_CACHE:
            _tokens.clear()
        tokenizer: Any = make_nlp().tokenizer
        for text, doc in zip(missing, tokenizer.pipe(missing)):
            _tokens[text] = doc.to_array(LOWER)
    return [_tokens[t] for t in texts]


def _strings() -> StringStore:
    return make_nlp().vocab.strings


def analysed(texts: Sequence[str]) -> list[list[str]]:
    """The counted tokens of each text, as strings (what training gives the vectorizers)."""
    strings = _strings()
    return [
        [w for w in (strings[h] for h in hashes.tolist()) if counted(w)]
        for hashes in tokens_of(texts)
    ]


def word_features(words: list[str]) -> list[str]:
    return [*words, *(f"{a} {b}" for a, b in pairwise(words))]


def gram_features(words: list[str]) -> list[str]:
    return [g for w in words for g in char_grams(w)]


def _counts(
    rows: np.ndarray, columns: np.ndarray, shape: tuple[int, int], dtype: Any
) -> csr_matrix:
    """The count matrix of (row, column) occurrences."""
    keys, counts = np.unique(rows * shape[1] + columns, return_counts=True)
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys // shape[1], minlength=shape[0]), out=indptr[1:])
    return csr_matrix((counts.astype(dtype), keys % shape[1], indptr), shape=shape)


def _weigh(vectorizer: TfidfVectorizer, counts: csr_matrix) -> csr_matrix:
    """``vectorizer``'s TF-IDF weighting of a count matrix, in place: scikit-learn's steps,
    without its input checks (which cost more than the work on one document's matrix)."""
    if vectorizer.norm not in ("l2", None) or not vectorizer.use_idf:
        return vectorizer._tfidf.transform(counts, copy=False)
    if vectorizer.sublinear_tf:
        np.log(counts.data, counts.data)
        counts.data += 1.0
    counts.data *= vectorizer.idf_[counts.indices]
    if vectorizer.norm == "l2":
        inplace_csr_row_normalize_l2(counts)
    return counts


class Featurizer:
    """The ``words``, ``context`` and ``chars`` matrices of a fitted model's vectorizers for a
    batch of examples (see the module docstring); other parts are not its business."""

    def __init__(self, vectorizers: Mapping[str, Any]) -> None:
        self.parts = {
            name: part
            for name, part in vectorizers.items()
            if name in ("words", "context", "chars")
        }
        self.widths = {name: len(part.vocabulary_) for name, part in self.parts.items()}
        words = self.parts.get("words")
        self.bigram_keys = np.zeros(0, dtype=np.int64)
        self.bigram_columns = np.zeros(0, dtype=np.int64)
        if words is not None:
            vocabulary, width = words.vocabulary_, self.widths["words"]
            pairs = [
                (vocabulary[a] * width + vocabulary[b], column)
                for term, column in vocabulary.items()
                for a, space, b in [term.partition(" ")]
                if space and a in vocabulary and b in vocabulary  # always, when fitted here
            ]
            if pairs:
                keys, columns = np.array(sorted(pairs), dtype=np.int64).T
                self.bigram_keys, self.bigram_columns = keys, columns
        self._reset()

    def _reset(self) -> None:
        self.slots: dict[int, int] = {}
        self.grams: list[np.ndarray] = []
        self.counted = np.zeros(1024, dtype=bool)
        self.columns = {n: np.full(1024, -1, dtype=np.int64) for n in ("words", "context")}

    def _add(self, key: int, strings: StringStore) -> int:
        """A new lexeme's slot: its text, whether it counts, its columns."""
        slot = len(self.grams)
        if slot == len(self.counted):  # grow the tables (doubling: amortised)
            self.counted = np.concatenate([self.counted, np.zeros(slot, dtype=bool)])
            for name, column in self.columns.items():
                self.columns[name] = np.concatenate([column, np.full(slot, -1, dtype=np.int64)])
        text = ""  # a hash no pipeline here knows: not a feature
        for known in (strings, _strings()):
            try:
                text = known[key]
                break
            except KeyError:
                continue
        self.slots[key] = slot
        self.counted[slot] = keep = counted(text)
        for name in ("words", "context"):
            if keep and name in self.parts:
                self.columns[name][slot] = self.parts[name].vocabulary_.get(text, -1)
        chars = self.parts.get("chars")
        grams = [chars.vocabulary_.get(g, -1) for g in char_grams(text)] if chars and keep else []
        self.grams.append(np.array([g for g in grams if g >= 0], dtype=np.int64))
        return slot

    def _lexemes(self, hashes: np.ndarray, strings: StringStore) -> np.ndarray:
        """The slot of every token (new lexemes added once)."""
        if len(self.slots) > LEXICON_SIZE:
            self._reset()
        distinct, inverse = np.unique(hashes, return_inverse=True)
        get, add = self.slots.get, self._add
        found = [s if (s := get(k)) is not None else add(k, strings) for k in distinct.tolist()]
        return np.array(found, dtype=np.int64)[inverse.ravel()]

    def blocks(
        self,
        examples: Sequence[Texts],
        tokens: Mapping[str, np.ndarray] | None = None,
        strings: StringStore | None = None,
    ) -> dict[str, csr_matrix]:
        """The TF-IDF matrices of the parts, by name. ``tokens`` gives the LOWER hashes of
        texts already tokenized (by a pipeline whose strings are ``strings``); other texts are
        tokenized here."""
        if not examples:
            return {
                name: csr_matrix((0, self.widths[name]), dtype=part.dtype)
                for name, part in self.parts.items()
            }
        index: dict[str, int] = {}
        own = np.array([index.setdefault(e.text, len(index)) for e in examples], dtype=np.int64)
        sides = np.array(
            [
                (index.setdefault(e.before, len(index)), index.setdefault(e.after, len(index)))
                for e in examples
            ],
            dtype=np.int64,
        ).ravel()
        texts = list(index)
        given_tokens = tokens or {}
        missing = [t for t in texts if t not in given_tokens]
        made = dict(zip(missing, tokens_of(missing)))
        arrays = [given_tokens[t] if t in given_tokens else made[t] for t in texts]
        lengths = np.fromiter(map(len, arrays), dtype=np.int64, count=len(arrays))
        owner = np.repeat(np.arange(len(texts)), lengths)
        hashes = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.uint64)
        slots = self._lexemes(hashes, strings or _strings())
        keep = self.counted[slots]
        owner, slots = owner[keep], slots[keep]
        found: dict[str, csr_matrix] = {}
        n = len(texts)
        if "words" in self.parts:
            found["words"] = _weigh(self.parts["words"], self._words(slots, owner, n)[own])
        if "context" in self.parts:
            columns = self.columns["context"][slots]
            known = columns >= 0
            part = self.parts["context"]
            per_text = _counts(
                owner[known], columns[known], (n, self.widths["context"]), part.dtype
            )
            pick = _counts(
                np.repeat(np.arange(len(examples)), 2), sides, (len(examples), n), part.dtype
            )
            found["context"] = _weigh(part, csr_matrix(pick @ per_text))
        if "chars" in self.parts:
            found["chars"] = self._chars(slots, owner, own, n)
        return found

    def _words(self, slots: np.ndarray, owner: np.ndarray, n: int) -> csr_matrix:
        """Unigram and bigram counts of ``n`` texts from their counted tokens' slots."""
        part, width = self.parts["words"], self.widths["words"]
        columns = self.columns["words"][slots]
        known = columns >= 0
        rows, cols = [owner[known]], [columns[known]]
        if len(columns) > 1 and len(self.bigram_keys):
            pair = known[:-1] & known[1:] & (owner[:-1] == owner[1:])
            keys = columns[:-1][pair] * width + columns[1:][pair]
            hit, at = found_in(self.bigram_keys, keys)
            rows.append(owner[:-1][pair][hit])
            cols.append(self.bigram_columns[at[hit]])
        return _counts(np.concatenate(rows), np.concatenate(cols), (n, width), part.dtype)

    def _chars(self, slots: np.ndarray, owner: np.ndarray, own: np.ndarray, n: int) -> csr_matrix:
        """N-gram counts of the examples' texts: (text x lexeme counts) @ (lexeme x n-grams)."""
        part, width = self.parts["chars"], self.widths["chars"]
        distinct, position = np.unique(slots, return_inverse=True)
        grams = [self.grams[s] for s in distinct.tolist()]
        indptr = np.zeros(len(grams) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, grams), dtype=np.int64, count=len(grams)), out=indptr[1:])
        per_lexeme = csr_matrix(
            (
                np.ones(int(indptr[-1]), dtype=part.dtype),
                np.concatenate(grams) if grams else np.zeros(0, dtype=np.int64),
                indptr,
            ),
            shape=(len(distinct), width),
        )
        per_text = _counts(owner, position.ravel(), (n, len(distinct)), part.dtype)
        return _weigh(part, csr_matrix(per_text[own] @ per_lexeme))
