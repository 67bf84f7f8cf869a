"""``dshift topics`` and ``dshift expand``: read segments, run the models, write and show."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.codebook.model import Codebook
from pipeline.core import DEFAULT_SEED, DEFAULT_SEGMENTER
from pipeline.core.records import DerivedResult
from pipeline.errors import DshiftError
from pipeline.learning.topic_tables import TOPICS
from pipeline.learning.topics import (
    TopicModel,
    corpus_key,
    fit_topics,
    prevalence,
    seed_words,
    suggest_terms,
    tokenize,
    with_phrases,
)
from pipeline.store import Store


def _segments(store: Store) -> tuple[list[str], list[str], list[int], list[str]]:
    ids, texts, years, periods = [], [], [], []
    for segment, text, year, _ in store.segment_texts(DEFAULT_SEGMENTER):
        ids.append(segment.id)
        texts.append(text)
        years.append(segment.document_id)
        periods.append(str(year) if year is not None else "undated")
    if not texts:
        raise DshiftError(
            "no coded segments in the store", "run 'dshift code' first", code="not-ready"
        )
    return ids, texts, years, periods


def run_topics(
    store: Store,
    codebook: Codebook,
    folder: Path,
    ks: list[int],
    *,
    seeded: bool,
    seed: int = DEFAULT_SEED,
) -> str:
    """Fit LDA for each k, keep the most coherent, return a summary.

    Its tables go into the store with their provenance (the export and the report read them
    from there) and, for people, as CSV files into ``folder``. A recorded run: the store must
    be writable.
    """
    started = time.perf_counter()
    inputs_as_of = store.inputs_as_of()
    ids, texts, documents, periods = _segments(store)
    tokens = with_phrases(tokenize(texts))
    seeds = seed_words(codebook) if seeded else None
    cache = folder.parent / "models"
    models = [_cached_topics(tokens, k, seed, seeds, cache) for k in ks]
    best = max(models, key=lambda m: m.coherence)
    folder.mkdir(parents=True, exist_ok=True)
    terms_table = pd.DataFrame(
        [
            {"topic": t, "rank": r, "term": w, "weight": p}
            for t, terms in enumerate(best.terms)
            for r, (w, p) in enumerate(terms)
        ]
    )
    table = prevalence(best.weights, periods, documents)
    top: list[dict[str, object]] = []
    for topic in range(best.k):
        order = best.weights[:, topic].argsort()[::-1][:5]
        top.extend(
            {
                "topic": topic,
                "segment_id": ids[i],
                "weight": best.weights[i, topic],
                "text": texts[i],
            }
            for i in order
        )
    tables = {
        "topics": terms_table,
        "topic_prevalence": table,
        "topic_segments": pd.DataFrame(top),
    }
    parameters = {"k": ks, "kept_k": best.k, "seeded": seeded, "seed": seed}
    with store.recorded_run("topics", parameters) as run:
        store.save_derived(
            DerivedResult(
                TOPICS,
                run.id,
                codebook.version,
                inputs_as_of,
                parameters,
                {name: _parquet(frame) for name, frame in tables.items()},
            )
        )
        run.counts = {"topics": best.k, "segments": len(ids)}
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    names = [c.id for c in codebook.children(None)]
    lines = [
        "coherence (u_mass, higher is better): "
        + ", ".join(f"k={m.k}: {m.coherence:.3f}" for m in models)
        + f"; kept k={best.k} ({time.perf_counter() - started:.1f} s)"
    ]
    for topic, terms in enumerate(best.terms):
        label = f" (seeded: {names[topic]})" if seeded and topic < len(names) else ""
        lines.append(f"topic {topic}{label}: " + ", ".join(w for w, _ in terms[:10]))
    lines.append(f"tables: {folder}")
    return "\n".join(lines)


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _cached_topics(
    tokens: list[list[str]], k: int, seed: int, seeds: list[list[str]] | None, folder: Path
) -> TopicModel:
    """Fit, or load the model fitted before on the same corpus and parameters."""
    key = corpus_key(tokens, k=k, seed=seed, seeds=seeds)
    path = folder / f"topics-{key}.npz"
    if path.exists():
        saved = np.load(path, allow_pickle=False)
        terms = json.loads(str(saved["terms"]))
        return TopicModel(
            k, float(saved["coherence"]), [[(w, p) for w, p in t] for t in terms], saved["weights"]
        )
    model = fit_topics(tokens, k, seed=seed, seeds=seeds)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, weights=model.weights, coherence=model.coherence, terms=json.dumps(model.terms))
    tmp.replace(path)
    return model


def run_expand(
    store: Store, codebook: Codebook, code: str, *, top: int = 20, seed: int = DEFAULT_SEED
) -> str:
    """Suggest terms near a code's patterns, with frequency, examples and new tags."""
    if code not in codebook.codes:
        raise DshiftError(f"unknown code '{code}'", "see 'dshift codebook show'", code="usage")
    ids, texts, _, _ = _segments(store)
    tokens = with_phrases(tokenize(texts))
    top_codes = [c.id for c in codebook.children(None)]
    seeds_by_top = dict(zip(top_codes, seed_words(codebook)))
    root = codebook.top_level(code)
    own: set[str] = set()
    for pattern in codebook.codes[code].patterns:
        phrases = list(pattern.lemmas)
        for term in (pattern.a, pattern.b):
            if term is not None:
                phrases.extend(term.lemmas)
        for phrase in phrases:
            own.update(tokenize([phrase])[0])
    seeds = sorted(own) or seeds_by_top[root]
    known = {w for words in seeds_by_top.values() for w in words}
    suggestions = suggest_terms(tokens, seeds, known, seed=seed, n=top)
    if not suggestions:
        return f"no suggestion: none of {code}'s pattern words occurs often enough in the corpus"
    active = store.active_coder()
    versions = store.coded_versions(active)
    tagged = store.tagged_segments(active, versions[-1]).get(code, set()) if versions else set()
    lines = [
        f"terms close to {code}'s patterns that the codebook lacks (Word2Vec, seed {seed}):",
        f"{'term':28} {'sim':>5} {'freq':>5} {'new':>4}  example",
    ]
    for s in suggestions:
        holding = [i for i, t in enumerate(tokens) if s.term in t]
        new = [i for i in holding if ids[i] not in tagged]
        example = texts[holding[0]][:90] if holding else ""
        lines.append(f"{s.term:28} {s.similarity:5.2f} {s.frequency:5} {len(new):4}  {example}")
    lines.append(
        "To accept terms, add them to a pattern of the code in codebook/codebook.yaml "
        "(a new codebook version), e.g.:"
    )
    lines.append(
        f"      - id: {code.split('.')[-1]}-expanded\n        lemmas: ["
        + ", ".join(s.term.replace("_", " ") for s in suggestions[:3])
        + "]"
    )
    return "\n".join(lines)
