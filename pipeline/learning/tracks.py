"""``learned.v1``'s model: one classifier per track over the sentence, its context and the rules.

A human coder reads the target sentence, resolves "the two sides" from the sentence before, and
knows which partners the neighbourhood names. The model is given the same: an :class:`Example`
holds the sentence, one sentence either side, the codes the rule coder found in the sentence and
the partners named in it and around it. Its features, each a scikit-learn part:

* ``words``: TF-IDF of the sentence's word 1-2-grams; ``chars``: of its character 3-5-grams
  (within word boundaries), which catch inflections and names the words miss;
* ``context``: TF-IDF of the neighbouring sentences' words, weighted down
  (``context_weight``): what the passage is about, never enough to code a sentence alone;
* ``signals``: the rule coder's verdicts (every code it found: rule hits as features), the
  partners named in the sentence and in its neighbours, and whether the sentence refers back to
  a partner ("the two sides", "both countries", "his counterpart"), alone and with the partner
  it resolves to.

Per track, a logistic regression (class-balanced) gives a probability; the threshold that tags is
chosen per track on out-of-fold predictions (for Krippendorff's alpha against the coders), so
it is part of the trained model, not a constant. A scikit-learn estimator: parameters stored
unchanged, learned state ends in ``_``, ``clone`` keeps every parameter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.base import BaseEstimator
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from pipeline.core import DEFAULT_SEED

TRACKS = ("alignment", "securitization", "hedging")
# A sentence that names its partner only by reference: the partner is the one named before.
ANAPHOR = re.compile(
    r"\b(?:(?:the|both) (?:two )?(?:sides|countries|leaders|ministers|governments|delegations|"
    r"nations|parties|presidents|prime ministers|foreign ministers|chiefs|navies|armies|"
    r"forces|brotherly countries|neighbours|neighbors)|(?:his|her|their) counterparts?|"
    r"the visiting (?:dignitary|delegation|minister|general|commander)|the dignitary|"
    r"bilateral)\b",
    re.IGNORECASE,
)


class Example(NamedTuple):
    """One sentence as the model sees it.

    Attributes:
        text: the target sentence.
        before: the sentence before it ("" at the start of a document).
        after: the sentence after it ("" at the end).
        rules: every code id the rule coder found in the sentence (subcodes and tracks).
        partners: partner ids the gazetteer finds in the sentence.
        near: partner ids named in the neighbouring sentences.
        speaker: the state whose text it is. The codebook's tracks are defined from the
            speaker's side (a US partnership with China is not hedging), so the model learns
            per-speaker adjustments; the pipeline's documents are Pakistan's.
        kind: the document's source type (``mofa``, ``ispr``, ``treaty``, ``speech``...), or "".
        titled: partner ids named in the document's title.
    """

    text: str
    before: str = ""
    after: str = ""
    rules: frozenset[str] = frozenset()
    partners: frozenset[str] = frozenset()
    near: frozenset[str] = frozenset()
    speaker: str = "Pakistan"
    kind: str = ""
    titled: frozenset[str] = frozenset()


def signals(example: Example, speakers: bool = True, documents: bool = True) -> dict[str, float]:
    """The non-text features of an example (a dict for ``DictVectorizer``); with ``speakers``,
    each also conjoined with a speaker other than Pakistan; with ``documents``, the document's
    source type and its title's partners."""
    found: dict[str, float] = {f"rule={code}": 1.0 for code in example.rules}
    for track in {code.split(".")[0] for code in example.rules}:
        found[f"rule_track={track}"] = 1.0
    for partner in example.partners:
        found[f"partner={partner}"] = 1.0
    refers = bool(ANAPHOR.search(example.text))
    if refers:
        found["refers_back"] = 1.0
    for partner in example.near - example.partners:
        found[f"near={partner}"] = 1.0
        if refers and not example.partners:
            found[f"resolved={partner}"] = 1.0
    for partner in example.titled - example.partners if documents else ():
        found[f"titled={partner}"] = 1.0
        if refers and not example.partners and not example.near:
            found[f"resolved={partner}"] = 1.0
    if documents and example.kind:
        found[f"kind={example.kind}"] = 1.0
    if not found:
        found["nothing"] = 1.0
    if speakers and example.speaker != "Pakistan":  # what differs when another state speaks
        who = example.speaker
        found.update({f"{who}|{name}": 1.0 for name in list(found)})
        found[f"speaker={who}"] = 1.0
    return found


def alpha_binary(gold: np.ndarray, found: np.ndarray) -> float:
    """Krippendorff's alpha (nominal) of two coders on one binary variable, every unit coded."""
    n = 2 * len(gold)
    if n == 0:
        return float("nan")
    ones = float(gold.sum() + found.sum())
    zeros = n - ones
    disagree = float((gold != found).sum())
    expected = 2 * ones * zeros / (n - 1)
    if expected == 0:
        return float("nan")
    return 1.0 - (2 * disagree) / expected


def best_threshold(gold: np.ndarray, probability: np.ndarray) -> float:
    """The cut on out-of-fold probabilities with the highest alpha (ties: the higher cut)."""
    grid = np.round(np.arange(0.20, 0.86, 0.025), 3)
    scored = [(alpha_binary(gold, probability >= t), t) for t in grid]
    return float(max((a, t) for a, t in scored if not np.isnan(a))[1]) if scored else 0.5


WORD_CACHE = 300_000  # distinct words whose character n-grams are kept between documents


def char_wb_tfidf(
    vectorizer: TfidfVectorizer, texts: Sequence[str], cache: dict[str, list[int]]
) -> csr_matrix:
    """What ``vectorizer.transform`` gives for a fitted ``char_wb`` TF-IDF, computed per word.

    scikit-learn builds every character n-gram of every sentence and looks each one up, in
    Python: three quarters of coding time. A word's n-grams never depend on its sentence
    (``char_wb`` pads each word alone), so each distinct word's columns are found once and
    kept in ``cache``; a sentence's counts are its words' columns added up. The result is the
    same matrix (counts, sublinear tf, IDF, l2 norm, in the vectorizer's dtype); a test checks
    it against scikit-learn's own transform.
    """
    vocabulary = vectorizer.vocabulary_
    low, high = vectorizer.ngram_range
    if len(cache) > WORD_CACHE:
        cache.clear()
    indices: list[int] = []
    indptr = [0]
    for text in texts:
        for word in (text.lower() if vectorizer.lowercase else text).split():
            columns = cache.get(word)
            if columns is None:
                columns = cache[word] = [
                    vocabulary[g] for g in _word_grams(word, low, high) if g in vocabulary
                ]
            indices.extend(columns)
        indptr.append(len(indices))
    dtype = vectorizer.dtype
    counts = csr_matrix(
        (np.ones(len(indices), dtype=dtype), np.array(indices, dtype=np.int64), indptr),
        shape=(len(texts), len(vocabulary)),
        dtype=dtype,
    )
    counts.sum_duplicates()
    if vectorizer.sublinear_tf:
        np.log(counts.data, counts.data)
        counts.data += 1
    counts.data *= vectorizer.idf_[counts.indices].astype(dtype)
    norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
    norms[norms == 0] = 1
    counts.data /= np.repeat(norms, np.diff(counts.indptr)).astype(dtype)
    return counts


def context_tfidf(vectorizer: TfidfVectorizer, examples: Sequence[Example]) -> csr_matrix:
    """What ``vectorizer.transform`` gives for each example's "before after", tokenizing each
    distinct sentence once: in a document every sentence is the "after" of the one before it
    and the "before" of the one after. Word unigram counts of a joined pair are the sum of the
    two sentences' counts, so the counts are summed, then weighted as the vectorizer does."""
    index: dict[str, int] = {}
    rows, columns = [], []
    for row, example in enumerate(examples):
        for text in (example.before, example.after):
            rows.append(row)
            columns.append(index.setdefault(text, len(index)))
    counts = CountVectorizer.transform(vectorizer, list(index))
    pick = csr_matrix(
        (np.ones(len(rows), dtype=counts.dtype), (rows, columns)), shape=(len(examples), len(index))
    )
    return vectorizer._tfidf.transform(pick @ counts, copy=False)


def _word_grams(word: str, low: int, high: int) -> list[str]:
    """scikit-learn's ``char_wb`` n-grams of one word, in its order."""
    padded = f" {word} "
    grams = []
    for n in range(low, high + 1):
        offset = 0
        grams.append(padded[offset : offset + n])
        while offset + n < len(padded):
            offset += 1
            grams.append(padded[offset : offset + n])
        if offset == 0:  # a word shorter than n counts once
            break
    return grams


_EMBEDDER: Any = None


class StaticEmbeddings:
    """Sentence vectors from the static embeddings the ``wordllama`` wheel bundles (loaded
    offline from the package itself, never downloaded); a candidate feature of the benchmark."""

    def fit_transform(self, texts: Sequence[str]) -> csr_matrix:
        return self.transform(texts)

    def fit(self, texts: Sequence[str]) -> StaticEmbeddings:
        return self

    def transform(self, texts: Sequence[str]) -> csr_matrix:
        global _EMBEDDER
        if _EMBEDDER is None:
            from pathlib import Path

            import wordllama

            _EMBEDDER = wordllama.WordLlama.load(
                disable_download=True, cache_dir=Path(wordllama.__file__).parent
            )
        return csr_matrix(np.asarray(_EMBEDDER.embed(list(texts), norm=True), dtype=np.float64))

    def get_feature_names_out(self) -> np.ndarray:
        return np.array([f"dim{i}" for i in range(256)])


class TrackModel(BaseEstimator):
    """A probability per track for each :class:`Example`.

    Args:
        tracks: the tracks to learn.
        C: inverse regularisation strength of the logistic regressions.
        context_weight: scale of the neighbouring sentences' features (0 drops them).
        signal_weight: scale of the rule, partner and reference features (0 drops them).
        chars: whether to use character n-grams.
        speakers: whether the signals are also conjoined with the speaker.
        documents: whether the document's source type and title partners are signals.
        seed: random state.

    Attributes:
        vectorizers_: the fitted feature parts, by name.
        models_: per track, its fitted logistic regression.
        thresholds_: per track, the probability from which it tags (0.5 until
            :meth:`set_thresholds`).
    """

    def __init__(
        self,
        tracks: Sequence[str] = TRACKS,
        C: float = 4.0,
        context_weight: float = 0.35,
        signal_weight: float = 1.0,
        chars: bool = True,
        speakers: bool = True,
        documents: bool = True,
        semantic_weight: float = 0.0,
        seed: int = DEFAULT_SEED,
    ) -> None:
        self.tracks = tracks
        self.C = C
        self.context_weight = context_weight
        self.signal_weight = signal_weight
        self.chars = chars
        self.speakers = speakers
        self.documents = documents
        self.semantic_weight = semantic_weight
        self.seed = seed

    def _parts(self) -> dict[str, Any]:
        parts: dict[str, Any] = {
            "words": TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        }
        if self.chars:
            parts["chars"] = TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=(3, 5),
                min_df=2,
                sublinear_tf=True,
                max_features=60000,
                dtype=np.float32,
            )
        if self.context_weight:
            parts["context"] = TfidfVectorizer(min_df=2, sublinear_tf=True)
        if self.signal_weight:
            parts["signals"] = DictVectorizer()
        if self.semantic_weight:
            parts["semantic"] = StaticEmbeddings()
        return parts

    def _inputs(self, name: str, examples: Sequence[Example]) -> list[Any]:
        if name == "context":
            return [f"{e.before} {e.after}" for e in examples]
        if name == "signals":
            return [signals(e, self.speakers, self.documents) for e in examples]
        return [e.text for e in examples]

    def _weight(self, name: str) -> float:
        weights = {
            "context": self.context_weight,
            "signals": self.signal_weight,
            "semantic": self.semantic_weight,
        }
        return weights.get(name, 1.0)

    def fit(self, examples: Sequence[Example], labels: Sequence[set[str]]) -> TrackModel:
        """Learn from examples and, for each, the set of tracks coders gave it."""
        if len(examples) != len(labels):
            raise ValueError(f"{len(examples)} examples but {len(labels)} label sets")
        parts = self._parts()
        blocks = [
            part.fit_transform(self._inputs(name, examples)) * self._weight(name)
            for name, part in parts.items()
        ]
        matrix = hstack(blocks).tocsr()
        models = {}
        for track in self.tracks:
            y = np.array([track in label for label in labels], dtype=int)
            if 0 < y.sum() < len(y):
                model = LogisticRegression(
                    C=self.C, class_weight="balanced", max_iter=3000, random_state=self.seed
                )
                models[track] = model.fit(matrix, y)
        self.vectorizers_, self.models_ = parts, models
        self.thresholds_ = {track: 0.5 for track in models}
        return self

    def transform(self, examples: Sequence[Example]) -> csr_matrix:
        """The feature matrix of ``examples``."""
        check_is_fitted(self)
        blocks = []
        for name, part in self.vectorizers_.items():
            inputs = self._inputs(name, examples)
            if name == "chars":
                cache = self.__dict__.setdefault("_word_grams", {})
                matrix = char_wb_tfidf(part, inputs, cache)
            elif name == "context":
                matrix = context_tfidf(part, examples)
            else:
                matrix = part.transform(inputs)
            blocks.append(matrix * self._weight(name))
        return hstack(blocks).tocsr()

    def predict_proba(self, examples: Sequence[Example]) -> dict[str, np.ndarray]:
        """Per learned track, the probability of each example."""
        matrix = self.transform(examples)
        return {track: m.predict_proba(matrix)[:, 1] for track, m in self.models_.items()}

    def predict(self, examples: Sequence[Example]) -> list[set[str]]:
        """The tracks whose probability reaches their threshold, per example."""
        probabilities = self.predict_proba(examples)
        return [
            {t for t, p in probabilities.items() if p[i] >= self.thresholds_[t]}
            for i in range(len(examples))
        ]

    def set_thresholds(self, thresholds: dict[str, float]) -> TrackModel:
        """Use these cuts (chosen on out-of-fold predictions) from now on."""
        check_is_fitted(self)
        self.thresholds_ = {t: float(thresholds.get(t, 0.5)) for t in self.models_}
        return self

    def feature_names(self) -> np.ndarray:
        """The name of every column of :meth:`transform`'s matrix (built once)."""
        names = self.__dict__.get("_feature_names")
        if names is None:
            parts = []
            for name, part in self.vectorizers_.items():
                prefix = "" if name in ("words", "signals") else f"{name}:"
                parts.append(np.array([prefix + x for x in part.get_feature_names_out()]))
            names = self._feature_names = np.concatenate(parts)
        return names

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "models_")

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop("_feature_names", None)
        state.pop("_word_grams", None)
        return state
