"""Train ``learned.v1``: from the development set shipped in the package, plus a workspace's own
coders' decisions, for the workspace's codebook.

The shipped model (``pipeline/resources/models/learned.v1.json.gz``) is rebuilt, byte for byte,
by ``python -m pipeline.learning.ship`` from ``tests/devset/devset2.jsonl``; ``dshift train``
trains the same way for the workspace's codebook, adding the segments its coders decided, and
saves into the workspace's models folder. Coding uses the workspace's model for its codebook
version when there is one, else the shipped model when the codebook is the one it was trained
for, else it says to train.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.codebook.model import Codebook
from pipeline.coding.rules import RuleCoder
from pipeline.errors import DshiftError
from pipeline.learning import tracks_io
from pipeline.learning.evaluate import fit_tracks
from pipeline.learning.examples import from_rows
from pipeline.learning.tracks import TRACKS, TrackModel, alpha_binary

CODER = "learned.v1"
# The configuration chosen by measurement (bench/learning.py; see tests/devset/README.md).
PARAMS: dict[str, Any] = {
    "C": 4.0,
    "context_weight": 0.7,
    "signal_weight": 1.0,
    "chars": True,
    "speakers": True,
    "documents": True,
    "semantic_weight": 0.0,
}


@dataclass(frozen=True)
class Labelled:
    """One sentence to learn from: its text, its neighbours, its tracks and its document."""

    text: str
    before: str
    after: str
    tracks: frozenset[str]
    group: str
    speaker: str = "Pakistan"
    kind: str = ""
    title: str = ""


def shipped_folder() -> Path:
    return Path(str(resources.files("pipeline") / "resources"))


def shipped_model_path() -> Path:
    return shipped_folder() / "models" / f"{CODER}.json.gz"


def shipped_devset_path() -> Path:
    return shipped_folder() / "training" / "devset.jsonl.gz"


def workspace_model_path(folder: Path, codebook: Codebook) -> Path:
    return folder / f"{CODER}-{codebook.version}.json.gz"


def write_gzip(path: Path, lines: Iterable[str]) -> Path:
    """Gzip ``lines`` to ``path`` with no timestamp, so the same lines give the same bytes."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as out:
        for line in lines:
            out.write((line + "\n").encode("utf-8"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return path


# What the development set's batches call each kind of written document.
KINDS = {
    "Ministry of Foreign Affairs release": "mofa",
    "ISPR (military) press release": "ispr",
    "joint statement or agreement": "treaty",
}


def about_row(item: dict[str, Any]) -> tuple[str, str]:
    """(source type, title) of a development-set row, as its coders knew them: a UN speech is
    a speech with no title; a written release has the kind and title its coders were shown."""
    if item.get("source") == "ungdc":
        return "speech", ""
    kind, _, title = str(item.get("document") or "").partition(": ")
    return KINDS.get(kind, ""), title


def read_devset(path: Path | None = None) -> list[Labelled]:
    """The development set as shipped (one JSON object per line, gzipped)."""
    path = path or shipped_devset_path()
    rows = []
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        for line in stream:
            item = json.loads(line)
            rows.append(
                Labelled(
                    item["text"],
                    item["before"],
                    item["after"],
                    frozenset(item["codes"]),
                    f"{item['source']}:{item['path']}",
                    item.get("speaker") or "Pakistan",
                    *about_row(item),
                )
            )
    return rows


def train(
    coder: RuleCoder, rows: Sequence[Labelled], *, extra: dict[str, Any] | None = None
) -> tuple[TrackModel, dict[str, Any]]:
    """Fit learned.v1 on ``rows`` (thresholds from grouped out-of-fold predictions).

    Returns:
        The model and its metadata: codebook version, training data hash, library versions,
        thresholds and the out-of-fold agreement (alpha per track) they came from. Nothing in
        it depends on the clock, so the same rows give the same file.
    """
    import scipy
    import sklearn
    import spacy

    from pipeline import __version__

    tracks = tuple(t for t in TRACKS if t in coder.codebook.codes)
    if not rows or not all(any(t in r.tracks for r in rows) for t in tracks):
        raise DshiftError(
            "the training data has no positive example of some track",
            "check the development set and the coders' decisions",
            code="not-ready",
        )
    examples = from_rows(coder, rows)
    labels = [set(r.tracks) for r in rows]
    groups = [r.group for r in rows]
    model, oof = fit_tracks(TrackModel(tracks, **PARAMS), examples, labels, groups)
    agreement = {}
    for track in tracks:
        gold = np.array([track in label for label in labels])
        found = oof[track] >= model.thresholds_[track]
        agreement[track] = round(alpha_binary(gold, found), 4)
    digest = hashlib.sha256()
    for r in rows:
        item = [r.text, r.before, r.after, sorted(r.tracks), r.group, r.speaker, r.kind, r.title]
        digest.update(json.dumps(item).encode())
    meta = {
        "coder": CODER,
        "codebook_version": coder.codebook.version,
        "training_data_sha256": digest.hexdigest(),
        "examples": len(rows),
        "positives": {t: sum(t in label for label in labels) for t in tracks},
        "params": PARAMS,
        "thresholds": {t: model.thresholds_[t] for t in tracks},
        "oof_alpha_grouped": agreement,
        "versions": {
            "dshift": __version__,
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "spacy": spacy.__version__,
        },
        **(extra or {}),
    }
    return model, meta


def find_model(
    folder: Path | None, codebook: Codebook
) -> tuple[TrackModel, dict[str, Any], Path, list[str]]:
    """The model learned.v1 codes with, and notes for the user.

    In order: the workspace's model for this codebook version; the shipped model, if it was
    trained for this codebook; the shipped model for an edited codebook with the same tracks,
    with a note (the edited rules reach the model as features, but it was not trained on them).

    Raises:
        DshiftError: when no model decides this codebook's tracks.
    """
    own = workspace_model_path(folder, codebook) if folder is not None else None
    if own is not None and own.exists():
        model, meta = tracks_io.load(own)
        return model, meta, own, []
    shipped = shipped_model_path()
    tracks = {code.id for code in codebook.children(None)}
    if shipped.exists():
        model, meta = tracks_io.load(shipped)
        if meta.get("codebook_version") == codebook.version:
            return model, meta, shipped, []
        if set(model.models_) == tracks:
            note = (
                f"learned.v1 is using the model shipped for codebook {meta['codebook_version']} "
                f"(this codebook is {codebook.version}): your rules' changes reach it as evidence, "
                "but it was not trained on them; run 'dshift train' for a model of this codebook"
            )
            return model, meta, shipped, [note]
    raise DshiftError(
        f"learned.v1 decides the tracks {', '.join(TRACKS)}; this codebook ({codebook.version}) "
        f"has {', '.join(sorted(tracks))}, and no model of this workspace was trained for it",
        "code with the rules ('--coder rules.v1'; 'dshift coder use rules.v1' makes them the "
        "workspace's coder), or, once your coders have decided segments for these tracks, "
        "train a model for them with 'dshift train'",
        code="model",
    )
