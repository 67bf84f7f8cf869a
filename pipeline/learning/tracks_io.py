"""Save and load a :class:`~pipeline.learning.tracks.TrackModel` as data, not as a pickle.

The file is gzipped JSON: each feature part's settings, vocabulary (terms in column order) and
IDF weights; each track's coefficients, intercept and threshold; and the metadata of how it was
made. Three reasons: loading it runs no code (a model file from elsewhere cannot execute
anything, unlike a pickle); it loads under any scikit-learn version (a pickle is tied to the one
that wrote it); and the same training data gives the same bytes (keys sorted, floats written
exactly, gzip without a timestamp), so the shipped model can be rebuilt and compared byte for
byte.
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from pipeline.errors import DshiftError
from pipeline.learning.features import given
from pipeline.learning.tracks import StaticEmbeddings, TrackModel

# 2: text features from spaCy's tokens (pipeline.learning.features); 1 split text by a pattern.
FORMAT = "dshift.learned/2"
# The settings of a TF-IDF part that change what it computes (the rest are defaults).
TFIDF_KEYS = ("sublinear_tf", "norm", "use_idf", "smooth_idf")


def _floats(values: np.ndarray) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=np.float64).ravel()]


def to_data(model: TrackModel, meta: dict[str, Any]) -> dict[str, Any]:
    """The model as plain data (see the module's docstring)."""
    parts: dict[str, Any] = {}
    for name, part in model.vectorizers_.items():
        if isinstance(part, DictVectorizer):
            parts[name] = {"kind": "dict", "features": list(part.feature_names_)}
            continue
        if isinstance(part, StaticEmbeddings):
            parts[name] = {"kind": "static"}  # the vectors ship with their own package
            continue
        terms = sorted(part.vocabulary_, key=part.vocabulary_.__getitem__)
        settings = {k: getattr(part, k) for k in TFIDF_KEYS}
        settings["dtype"] = np.dtype(part.dtype).name
        parts[name] = {
            "kind": "tfidf",
            "settings": settings,
            "terms": terms,
            "idf": _floats(part.idf_),
        }
    tracks = {
        track: {
            "coef": _floats(m.coef_[0]),
            "intercept": float(m.intercept_[0]),
            "threshold": float(model.thresholds_[track]),
        }
        for track, m in model.models_.items()
    }
    return {
        "format": FORMAT,
        "params": {
            k: list(v) if isinstance(v, tuple) else v for k, v in model.get_params().items()
        },
        "parts": parts,
        "order": list(model.vectorizers_),
        "tracks": tracks,
        "meta": meta,
    }


def from_data(
    data: dict[str, Any], where: str = "the model file"
) -> tuple[TrackModel, dict[str, Any]]:
    """Rebuild a fitted model from :func:`to_data`'s output."""
    if data.get("format") != FORMAT:
        older = str(data.get("format", "")).startswith("dshift.learned/")
        raise DshiftError(
            f"{where} is "
            + (
                "a learned.v1 model made by an earlier dshift, whose features this one no "
                "longer computes"
                if older
                else "not a learned.v1 model"
            )
            + f" (format {data.get('format')!r}, expected {FORMAT!r})",
            "train one with 'dshift train' (it replaces the file)",
            code="model",
        )
    params = dict(data["params"])
    params["tracks"] = tuple(params["tracks"])
    model = TrackModel(**params)
    vectorizers: dict[str, Any] = {}
    for name in data["order"]:
        part = data["parts"][name]
        if part["kind"] == "static":
            vectorizers[name] = StaticEmbeddings()
            continue
        if part["kind"] == "dict":
            vectorizer = DictVectorizer()
            vectorizer.feature_names_ = list(part["features"])
            vectorizer.vocabulary_ = {f: i for i, f in enumerate(part["features"])}
        else:
            settings = dict(part["settings"])
            settings["dtype"] = np.dtype(settings["dtype"]).type
            vectorizer = TfidfVectorizer(
                analyzer=given, lowercase=False, token_pattern=None, **settings
            )
            vectorizer.vocabulary_ = {t: i for i, t in enumerate(part["terms"])}
            vectorizer.idf_ = np.array(part["idf"], dtype=np.float64)
        vectorizers[name] = vectorizer
    models = {}
    for track, saved in data["tracks"].items():
        lr = LogisticRegression()
        lr.classes_ = np.array([0, 1])
        lr.coef_ = np.array([saved["coef"]], dtype=np.float64)
        lr.intercept_ = np.array([saved["intercept"]], dtype=np.float64)
        lr.n_features_in_ = lr.coef_.shape[1]
        models[track] = lr
    model.vectorizers_, model.models_ = vectorizers, models
    model.thresholds_ = {t: float(s["threshold"]) for t, s in data["tracks"].items()}
    return model, data["meta"]


def save(model: TrackModel, meta: dict[str, Any], path: Path) -> Path:
    """Write the model to ``path`` (gzipped JSON, the same bytes for the same model)."""
    text = json.dumps(
        to_data(model, meta), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as out:
        out.write(text.encode("utf-8"))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(buffer.getvalue())
    partial.replace(path)  # never a half-written model where a coder looks for one
    return path


def load(path: Path) -> tuple[TrackModel, dict[str, Any]]:
    """Read a model written by :func:`save`; a damaged file is a clear error."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as stream:
            data = json.load(stream)
    except (OSError, EOFError, ValueError) as exc:
        raise DshiftError(
            f"{path}: cannot read the learned.v1 model ({exc})",
            "delete it and run 'dshift train' again",
            code="model",
        ) from None
    return from_data(data, str(path))
