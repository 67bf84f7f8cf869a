"""Train a model from the coders' decisions in the store, save it, and load it safely."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn

from pipeline.codebook.model import Codebook
from pipeline.codebook.versions import read_decisions
from pipeline.coding.nlp import DEFAULT_SEGMENTER, make_nlp

# The rule coder, not the workspace's active coder: ml.v1 learns beside the rules and the
# ensemble adds its tags to theirs, so their verdicts are the ones to learn and tune against.
from pipeline.coding.rules import CODER, RuleCoder
from pipeline.core.agreement import machine_against_human
from pipeline.core.codes import machine_codes, tag_codes
from pipeline.core.decisions import final_codes
from pipeline.errors import DshiftError
from pipeline.learning import tracks_io
from pipeline.learning.evaluate import choose_thresholds, out_of_fold
from pipeline.learning.model import CodeModel
from pipeline.learning.training import Labelled, read_devset, workspace_model_path
from pipeline.learning.training import train as train_tracks
from pipeline.store import Store
from pipeline.store.sqlite import utc_now

MIN_EXAMPLES = 20
# With weak labels, a segment no human decided is learned from the rule tags at least this sure.
WEAK_CONFIDENCE = 0.8


def training_data(
    store: Store, codebook: Codebook, *, weak: bool = False
) -> tuple[list[str], list[set[str]], list[str], list[bool], list[str]]:
    """(texts, code sets, document groups, is-human, segment ids) of decided segments (and,
    with weak, of confidently rule-tagged ones).

    Decisions are read per code: a code the coders did not judge on a segment (a sheet about
    hedging says nothing about alignment) takes the machine's current verdict, never a "no"
    inferred from the coders' silence.
    """
    every_tag = store.machine_tags(CODER, codebook.version)
    machine = machine_codes(every_tag)
    decided = final_codes(read_decisions(store, codebook), codebook, machine=machine)
    tags = every_tag if weak else {}
    texts, labels, groups, human, ids = [], [], [], [], []
    documents: dict[int, str] = {}
    for segment_id, doc_id, start, end, _ in store.segment_rows(DEFAULT_SEGMENTER):
        is_human = segment_id in decided
        strong = tag_codes(tags.get(segment_id, []), min_confidence=WEAK_CONFIDENCE)
        if not is_human and not strong:
            continue
        if doc_id not in documents:
            documents[doc_id] = store.document_text(doc_id)
        texts.append(documents[doc_id][start:end])
        labels.append(set(decided[segment_id]) if is_human else strong)
        groups.append(str(doc_id))
        human.append(is_human)
        ids.append(segment_id)
    return texts, labels, groups, human, ids


def decided_rows(store: Store, codebook: Codebook, coder: str) -> list[Labelled]:
    """The segments this workspace's coders decided, as learned.v1 learns from them: text, the
    segment either side, the tracks of the final codes, the document.

    Codes a coder did not judge take ``coder``'s verdict (the coder whose tags they reviewed),
    never a "no" inferred from silence.
    """
    machine = machine_codes(store.machine_tags(coder, codebook.version))
    decided = final_codes(read_decisions(store, codebook), codebook, machine=machine)
    if not decided:
        return []
    tracks = {c.id for c in codebook.children(None)}
    by_document: dict[int, list[tuple[str, int, int]]] = {}
    for segment_id, doc_id, start, end, _ in store.segment_rows(DEFAULT_SEGMENTER):
        by_document.setdefault(doc_id, []).append((segment_id, start, end))
    rows = []
    for doc_id, segments in by_document.items():
        if not any(s in decided for s, _, _ in segments):
            continue
        text = store.document_text(doc_id)
        document = store.document(doc_id)
        kind = (document.source_type or "") if document else ""
        title = (document.title or "") if document else ""
        flat = [" ".join(text[a:b].split()) for _, a, b in segments]
        for i, (segment_id, _, _) in enumerate(segments):
            if segment_id not in decided:
                continue
            codes = {codebook.top_level(c) for c in decided[segment_id]} & tracks
            rows.append(
                Labelled(
                    flat[i],
                    flat[i - 1] if i else "",
                    flat[i + 1] if i + 1 < len(flat) else "",
                    frozenset(codes),
                    f"workspace:{doc_id}",
                    "Pakistan",
                    kind,
                    title,
                )
            )
    return rows


def train_learned(
    store: Store, codebook: Codebook, folder: Path, coder: str
) -> tuple[Path, dict[str, Any]]:
    """Fit learned.v1 for this codebook on the shipped development set plus the workspace's
    decided segments (``coder``: whose tags the coders reviewed), and save it in ``folder``."""
    started = time.perf_counter()
    own = decided_rows(store, codebook, coder)
    rows = [*read_devset(), *own]
    model, meta = train_tracks(
        RuleCoder(codebook, make_nlp()),
        rows,
        extra={"trained_on": "development set and workspace decisions", "workspace_rows": len(own)},
    )
    path = tracks_io.save(model, meta, workspace_model_path(folder, codebook))
    return path, {**meta, "seconds": round(time.perf_counter() - started, 1)}


def train(
    store: Store, codebook: Codebook, folder: Path, *, weak: bool = False, min_positive: int = 8
) -> tuple[Path, dict[str, Any]]:
    """Fit ml.v1 on the decisions, evaluate it with grouped cross-validation, save it."""
    if codebook.version not in store.coded_versions(CODER):
        raise DshiftError(
            f"ml.v1 learns beside the rules, and nothing is coded by {CODER} under codebook "
            f"{codebook.version}",
            f"run 'dshift code --coder {CODER}' first, then 'dshift train --coder ml.v1'",
            code="not-ready",
        )
    texts, labels, groups, human, ids = training_data(store, codebook, weak=weak)
    if sum(human) < MIN_EXAMPLES:
        raise DshiftError(
            f"only {sum(human)} segments decided by coders (at least {MIN_EXAMPLES} needed)",
            "review more with 'dshift review export --coder NAME'",
            code="not-ready",
        )
    codes = list(codebook.codes)
    started = time.perf_counter()
    model = CodeModel(codes, min_positive=min_positive)
    oof = out_of_fold(texts, labels, groups, model)  # on clones: every parameter is kept
    model.fit(texts, labels)
    human_index = [i for i, h in enumerate(human) if h]
    reference = {str(i): labels[i] for i in human_index}
    predicted = {
        str(i): {c for c in oof if not np.isnan(oof[c][i]) and oof[c][i] >= 0.5}
        for i in human_index
    }
    metrics = machine_against_human(reference, predicted, codes, n_boot=0)
    gold = {c: np.array([c in labels[i] for i in range(len(texts))]) for c in codes}
    rules = machine_codes(store.machine_tags(CODER, codebook.version))
    rule_sets = [rules.get(s, set()) for s in ids]
    by_rules = {c: np.array([c in found for found in rule_sets]) for c in codes}
    thresholds = choose_thresholds({c: oof[c] for c in model.models_}, by_rules, gold)
    data_hash = hashlib.sha256(json.dumps([texts, [sorted(x) for x in labels]]).encode())
    meta = {
        "coder": "ml.v1",
        "codebook_version": codebook.version,
        "training_data_sha256": data_hash.hexdigest(),
        "sklearn": sklearn.__version__,
        "examples": len(texts),
        "human_examples": sum(human),
        "weak_labels": weak,
        "codes": sorted(model.models_),
        "skipped_codes": model.skipped_,
        "thresholds": thresholds,
        "seconds": round(time.perf_counter() - started, 2),
        "created": utc_now(),
        "evaluation": metrics.to_dict(orient="records"),
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"ml.v1-{codebook.version}.joblib"
    joblib.dump({"model": model, "meta": meta}, path)
    path.with_suffix(".json").write_text(
        json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8"
    )
    return path, meta


def load_model(folder: Path, codebook: Codebook) -> tuple[CodeModel, dict[str, Any]]:
    """Load the model trained for this codebook version, refusing one made for another."""
    path = folder / f"ml.v1-{codebook.version}.joblib"
    if not path.exists():
        others = sorted(p.name for p in folder.glob("ml.v1-*.joblib")) if folder.exists() else []
        hint = "run 'dshift train' first"
        if others:
            hint = (
                f"the models here ({', '.join(others)}) were trained for other codebook "
                "versions; run 'dshift train' for the current one"
            )
        raise DshiftError(f"no model for codebook {codebook.version}", hint, code="model")
    saved = joblib.load(path)
    meta = saved["meta"]
    if meta["codebook_version"] != codebook.version:
        raise DshiftError(
            f"{path.name} was trained for codebook {meta['codebook_version']}, not "
            f"{codebook.version}",
            "run 'dshift train' again",
            code="model",
        )
    if meta["sklearn"] != sklearn.__version__:
        raise DshiftError(
            f"{path.name} was made with scikit-learn {meta['sklearn']}, this is "
            f"{sklearn.__version__}",
            "run 'dshift train' again with this version",
            code="model",
        )
    return saved["model"], meta
