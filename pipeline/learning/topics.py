"""Topic models and term suggestions over the segments (gensim), deterministic and cached.

Segments become lists of lower-case lemmas (spaCy's lookup tables) without stop words, with
frequent two-word phrases joined by gensim's Phrases ("security_council"). Models are trained in
one process with a fixed seed, so the same corpus and parameters give the same topics, and they
are cached under ``outputs/topics`` by a hash of both (a cache: deleting it costs only time).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from gensim.corpora import Dictionary
from gensim.models import CoherenceModel, LdaModel, Word2Vec
from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS, Phrases
from gensim.parsing.preprocessing import STOPWORDS

from pipeline.codebook.model import Codebook
from pipeline.coding.nlp import lemma_table
from pipeline.core import DEFAULT_SEED
from pipeline.errors import DshiftError

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_EXTRA_STOP = {"pakistan", "mr", "president", "said", "also", "would", "will", "shall"}


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lemmas of content words of each text (lower case, no stop words, 3+ letters)."""
    table = lemma_table()
    out = []
    for text in texts:
        words = (table.get(w, w) for w in _WORD.findall(text.lower()))
        out.append([w for w in words if len(w) > 2 and w not in STOPWORDS and w not in _EXTRA_STOP])
    return out


def with_phrases(tokens: list[list[str]], min_count: int = 5) -> list[list[str]]:
    """Join frequent two-word phrases ("cooperation_organisation")."""
    phrases = Phrases(
        tokens, min_count=min_count, threshold=10.0, connector_words=ENGLISH_CONNECTOR_WORDS
    )
    return [phrases[t] for t in tokens]


def corpus_key(tokens: list[list[str]], **params: object) -> str:
    digest = hashlib.sha256(
        json.dumps([tokens, sorted(params.items())], default=str).encode()
    ).hexdigest()
    return digest[:16]


@dataclass
class TopicModel:
    """A fitted LDA model with what the report and exports need."""

    k: int
    coherence: float
    terms: list[list[tuple[str, float]]]  # per topic: (term, weight)
    weights: np.ndarray  # segments x topics


def seed_priors(dictionary: Dictionary, k: int, seeds: list[list[str]]) -> np.ndarray:
    """Topic-word prior: topic i leans towards the i-th list of seed words."""
    eta = np.full((k, len(dictionary)), 1.0 / k)
    for topic, words in enumerate(seeds[:k]):
        for word in words:
            if word in dictionary.token2id:
                eta[topic, dictionary.token2id[word]] = 1.0
    return eta


def fit_topics(
    tokens: list[list[str]],
    k: int,
    *,
    seed: int = DEFAULT_SEED,
    seeds: list[list[str]] | None = None,
    passes: int = 8,
) -> TopicModel:
    """LDA with ``k`` topics (seeded priors if ``seeds``), single process, fixed seed."""
    dictionary = Dictionary(tokens)
    dictionary.filter_extremes(no_below=3, no_above=0.5)
    if len(dictionary) < k:
        raise DshiftError(
            f"too little text for {k} topics: {len(dictionary)} term(s) occur in at least 3 "
            f"segments and at most half of them ({len(tokens)} segments in all)",
            "ingest and code more documents, or ask for fewer topics with --k",
            code="not-ready",
        )
    bows = [dictionary.doc2bow(t) for t in tokens]
    eta = seed_priors(dictionary, k, seeds) if seeds else None
    model = LdaModel(
        bows,
        id2word=dictionary,
        num_topics=k,
        random_state=seed,
        passes=passes,
        iterations=100,
        eta=eta,
        alpha="symmetric",
        chunksize=4096,
    )
    coherence = CoherenceModel(
        model=model, corpus=bows, dictionary=dictionary, coherence="u_mass", processes=1
    ).get_coherence()
    weights = np.zeros((len(bows), k))
    for row, bow in enumerate(bows):
        for topic, weight in model.get_document_topics(bow, minimum_probability=0.0):
            weights[row, topic] = weight
    terms = [[(w, float(p)) for w, p in model.show_topic(t, topn=12)] for t in range(k)]
    return TopicModel(k, float(coherence), terms, weights)


def seed_words(codebook: Codebook) -> list[list[str]]:
    """Per top-level code, the single words of its and its subcodes' lemma patterns."""
    out = []
    for top in codebook.children(None):
        words: set[str] = set()
        for code in codebook.codes.values():
            if codebook.top_level(code.id) != top.id:
                continue
            for pattern in code.patterns:
                phrases = list(pattern.lemmas)
                for term in (pattern.a, pattern.b):
                    if term is not None:
                        phrases.extend(term.lemmas)
                for phrase in phrases:
                    words.update(tokenize([phrase])[0])
        out.append(sorted(words))
    return out


def prevalence(
    weights: np.ndarray, periods: Sequence[str], documents: Sequence[int]
) -> pd.DataFrame:
    """Document-weighted topic prevalence per period (each document counts once)."""
    frame = pd.DataFrame(weights, columns=[f"topic_{i}" for i in range(weights.shape[1])])
    frame["period"] = list(periods)
    frame["document_id"] = list(documents)
    per_doc = frame.groupby(["period", "document_id"]).mean()
    return per_doc.groupby("period").mean().reset_index()


@dataclass(frozen=True)
class Suggestion:
    """A term close to a code's patterns that the codebook does not have yet."""

    term: str
    similarity: float
    frequency: int


def suggest_terms(
    tokens: list[list[str]],
    seeds: list[str],
    known: set[str],
    *,
    seed: int = DEFAULT_SEED,
    n: int = 20,
) -> list[Suggestion]:
    """Word2Vec (one worker, fixed seed) neighbours of the seed words, minus known terms.

    Returns no suggestion when no seed word occurs at least three times (Word2Vec's minimum).
    """
    counts: dict[str, int] = {}
    for sentence in tokens:
        for word in sentence:
            counts[word] = counts.get(word, 0) + 1
    if not any(counts.get(w, 0) >= 3 for w in seeds):
        return []
    model = Word2Vec(
        tokens, vector_size=100, window=5, min_count=3, workers=1, seed=seed, epochs=15, sg=1
    )
    present = [w for w in seeds if w in model.wv.key_to_index]
    if not present:
        return []
    out = []
    for term, similarity in model.wv.most_similar(positive=present, topn=n * 4):
        if term in known or term.replace("_", " ") in known:
            continue
        out.append(Suggestion(term, float(similarity), counts.get(term, 0)))
        if len(out) == n:
            break
    return out
