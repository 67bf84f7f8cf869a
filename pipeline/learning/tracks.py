"""``learned.v1``'s model: one classifier per track over the sentence, its context and the rules.

A human coder reads the target sentence, resolves "the two sides" from the sentence before, and
knows which partners the neighbourhood names. The model is given the same: an :class:`Example`
holds the sentence, one sentence either side, the codes the rule coder found in the sentence and
the partners named in it and around it. Its features, each a scikit-learn part:

* ``words``: TF-IDF of the sentence's words and pairs of words; ``chars``: of its character
  3-5-grams (within each token), which catch inflections and names the words miss;
* ``context``: TF-IDF of the neighbouring sentences' words, weighted down
  (``context_weight``): what the passage is about, never enough to code a sentence alone
  (these three over spaCy's tokens: :mod:`pipeline.learning.features`);
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
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from scipy.sparse import csr_matrix, hstack
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from pipeline.core import DEFAULT_SEED
from pipeline.learning.features import Featurizer, analysed, given, gram_features, word_features

if TYPE_CHECKING:
    from spacy.strings import StringStore

TRACKS = ("alignment", "securitization", "hedging")
SIGNAL_CACHE = 100_000  # distinct combinations of signals whose columns are kept
# What a fitted model computes once and keeps (never saved, dropped when it is fitted again).
CACHES = ("_featurizer", "_weights", "_feature_names", "_signal_columns")
# A sentence that names its partner only by reference: the partner is the one named before.
# (The lookahead skips, at C speed, every place that cannot start one: each starts t, b or h.)
ANAPHOR = re.compile(
    r"(?=[tbhTBH])\b(?:(?:the|both) (?:two )?(?:sides|countries|leaders|ministers|governments|"
    r"delegations|nations|parties|presidents|prime ministers|foreign ministers|chiefs|navies|"
    r"armies|forces|brotherly countries|neighbours|neighbors)|(?:his|her|their) counterparts?|"
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


def refers_back(text: str) -> bool:
    """Whether a sentence names a partner only by reference ("the two sides")."""
    return ANAPHOR.search(text) is not None


def refer_back(texts: Sequence[str]) -> list[bool]:
    """:func:`refers_back` of each text, in one scan of them all (no match spans two texts:
    the separator is a line break and the cues hold spaces only)."""
    ends = np.cumsum([len(t) + 1 for t in texts])
    found = np.zeros(len(texts), dtype=bool)
    starts = [m.start() for m in ANAPHOR.finditer("\n".join(texts))]
    found[np.searchsorted(ends, starts, side="right")] = True
    return found.tolist()


def signals(example: Example, speakers: bool = True, documents: bool = True) -> dict[str, float]:
    """The non-text features of an example (a dict for ``DictVectorizer``); with ``speakers``,
    each also conjoined with a speaker other than Pakistan; with ``documents``, the document's
    source type and its title's partners."""
    found: dict[str, float] = {f"rule={code}": 1.0 for code in example.rules}
    for track in {code.split(".")[0] for code in example.rules}:
        found[f"rule_track={track}"] = 1.0
    for partner in example.partners:
        found[f"partner={partner}"] = 1.0
    refers = refers_back(example.text)
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
        # Inputs are lists of features already (see pipeline.learning.features).
        tfidf = {"analyzer": given, "lowercase": False, "token_pattern": None, "min_df": 2}
        parts: dict[str, Any] = {"words": TfidfVectorizer(sublinear_tf=True, **tfidf)}
        if self.chars:
            parts["chars"] = TfidfVectorizer(
                sublinear_tf=True, max_features=60000, dtype=np.float32, **tfidf
            )
        if self.context_weight:
            parts["context"] = TfidfVectorizer(sublinear_tf=True, **tfidf)
        if self.signal_weight:
            parts["signals"] = DictVectorizer()
        if self.semantic_weight:
            parts["semantic"] = StaticEmbeddings()
        return parts

    def _inputs(self, name: str, examples: Sequence[Example]) -> list[Any]:
        """What part ``name`` is fitted on (scikit-learn's way; coding uses the featurizer)."""
        if name == "signals":
            return [signals(e, self.speakers, self.documents) for e in examples]
        if name == "semantic":
            return [e.text for e in examples]
        if name == "context":
            before = analysed([e.before for e in examples])
            after = analysed([e.after for e in examples])
            return [b + a for b, a in zip(before, after)]
        words = analysed([e.text for e in examples])
        return [gram_features(w) if name == "chars" else word_features(w) for w in words]

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
        # One BLAS thread: the sums come out in the same order on any machine, so the same data
        # gives the same model to the last bit (the shipped model is checked byte for byte).
        with threadpool_limits(limits=1):
            for track in self.tracks:
                y = np.array([track in label for label in labels], dtype=int)
                if 0 < y.sum() < len(y):
                    model = LogisticRegression(
                        C=self.C, class_weight="balanced", max_iter=3000, random_state=self.seed
                    )
                    models[track] = model.fit(matrix, y)
        self.vectorizers_, self.models_ = parts, models
        for cache in CACHES:
            self.__dict__.pop(cache, None)
        self.thresholds_ = {track: 0.5 for track in models}
        return self

    def blocks(
        self,
        examples: Sequence[Example],
        tokens: Mapping[str, np.ndarray] | None = None,
        strings: StringStore | None = None,
    ) -> dict[str, csr_matrix]:
        """Each feature part's matrix of ``examples``, weighted, by part name; ``tokens``: the
        LOWER hashes of texts already tokenized (see :meth:`Featurizer.blocks`)."""
        check_is_fitted(self)
        featurizer = self.__dict__.get("_featurizer")
        if featurizer is None:
            featurizer = self._featurizer = Featurizer(self.vectorizers_)
        fast = featurizer.blocks(examples, tokens, strings)
        return {
            name: self._scaled(
                name, fast[name] if name in fast else self._transform(name, examples)
            )
            for name in self.vectorizers_
        }

    def _scaled(self, name: str, matrix: csr_matrix) -> csr_matrix:
        """``matrix`` (made for this call) times part ``name``'s weight, in place."""
        weight = self._weight(name)
        if weight != 1.0:
            matrix.data *= weight
        return matrix

    def _transform(self, name: str, examples: Sequence[Example]) -> csr_matrix:
        """Part ``name``'s matrix of ``examples``, by the part itself; the signals by the
        columns of each distinct combination of signals (most sentences share theirs)."""
        part = self.vectorizers_[name]
        if name != "signals":
            return part.transform(self._inputs(name, examples))
        seen: dict[tuple[Any, ...], list[int]] = self.__dict__.setdefault("_signal_columns", {})
        if len(seen) > SIGNAL_CACHE:
            seen.clear()
        vocabulary = part.vocabulary_
        rows = []
        for e, refers in zip(examples, refer_back([e.text for e in examples])):
            key = (e.rules, e.partners, e.near, e.titled, e.kind, e.speaker, refers)
            columns = seen.get(key)
            if columns is None:
                found = signals(e, self.speakers, self.documents)
                columns = seen[key] = sorted(vocabulary[f] for f in found if f in vocabulary)
            rows.append(columns)
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(r) for r in rows], out=indptr[1:])
        indices = np.fromiter((c for r in rows for c in r), dtype=np.int64, count=int(indptr[-1]))
        return csr_matrix(
            (np.ones(len(indices), dtype=part.dtype), indices, indptr),
            shape=(len(rows), len(vocabulary)),
        )

    def transform(self, examples: Sequence[Example]) -> csr_matrix:
        """The feature matrix of ``examples``."""
        return hstack(list(self.blocks(examples).values())).tocsr()

    def scores(self, blocks: dict[str, csr_matrix]) -> dict[str, np.ndarray]:
        """Per learned track, the probability of each row of :meth:`blocks`' matrices: the
        logistic regressions' own formula, summed block by block (no joined matrix)."""
        weights = self.__dict__.get("_weights")
        if weights is None:
            coef = np.vstack([m.coef_[0] for m in self.models_.values()]).T
            weights = self._weights = (
                coef,
                np.array([m.intercept_[0] for m in self.models_.values()]),
            )
        coef, intercept = weights
        rows = next(iter(blocks.values())).shape[0] if blocks else 0
        decision = np.tile(intercept, (rows, 1))
        start = 0
        for matrix in blocks.values():
            width = matrix.shape[1]
            decision += matrix @ coef[start : start + width]
            start += width
        probability = expit(decision)
        return {track: probability[:, k] for k, track in enumerate(self.models_)}

    def predict_proba(self, examples: Sequence[Example]) -> dict[str, np.ndarray]:
        """Per learned track, the probability of each example."""
        return self.scores(self.blocks(examples))

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
        for cache in CACHES:
            state.pop(cache, None)
        return state
