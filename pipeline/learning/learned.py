"""``learned.v1``: the default coder. The rules find evidence; a trained model per track decides.

For each document, the rules code every sentence (spans, subcodes, partners) and the model reads
each sentence with its neighbours and the rules' verdicts (:mod:`pipeline.learning.tracks`). A
track is tagged when the model's probability reaches the track's threshold (chosen when the model
was trained); the tag keeps the rules' subcodes of that track and their evidence, or is the track
itself when the rules found none. Every tag carries the model's probability as its confidence and
one more piece of evidence: ``learned.v1:`` and the features that pushed hardest, so that
``dshift show`` can say why. Rule tags of a track the model rejects are dropped: the rules are
there to propose and explain, the model to judge.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from spacy.language import Language
from spacy.tokens import Doc

from pipeline.codebook.model import Codebook
from pipeline.coding.rules import About, Evidence, RuleCoder, SegmentCoding
from pipeline.learning.examples import from_codings
from pipeline.learning.tracks import TrackModel

CODER = "learned.v1"


class LearnedCoder(RuleCoder):
    """Rules for evidence, a :class:`TrackModel` for the verdict (see the module docstring).

    Attributes:
        model: the fitted model, thresholds included.
        meta: how the model was made (training data hash, codebook version, versions).
    """

    name = CODER

    def __init__(
        self,
        codebook: Codebook,
        nlp: Language,
        model: TrackModel,
        meta: dict[str, Any],
        *,
        path: Path | None = None,
        notes: Sequence[str] = (),
    ) -> None:
        super().__init__(codebook, nlp)
        self.model = model
        self.meta = meta
        self.path = path
        self.notes = list(notes)
        self.tracks = [t for t in model.models_ if t in codebook.codes]

    def provenance(self) -> dict[str, Any]:
        """Which model coded: recorded with the coding run."""
        return {
            "coder": self.name,
            "model": self.path.name if self.path else None,
            "model_sha256": hashlib.sha256(self.path.read_bytes()).hexdigest()
            if self.path
            else None,
            "trained_for_codebook": self.meta.get("codebook_version"),
            "training_data_sha256": self.meta.get("training_data_sha256"),
            "thresholds": self.meta.get("thresholds"),
        }

    def code_paragraphs(
        self,
        parsed: Sequence[tuple[int, Doc]],
        about: About | None = None,
        text: str | None = None,
    ) -> list[list[SegmentCoding]]:
        per_part = [self.code_doc(doc, offset) for offset, doc in parsed]
        flat = [c for codings in per_part for c in codings]
        if not flat:
            return per_part
        texts: list[str] = []
        if text is not None:
            texts = [text[c.start : c.end] for c in flat]
        else:
            for (offset, doc), codings in zip(parsed, per_part):
                whole = doc.text  # built from the tokens on every access: once per paragraph
                texts.extend(whole[c.start - offset : c.end - offset] for c in codings)
        about = about or About()
        examples = from_codings(self, texts, flat, about.source_type, about.title)
        matrix = self.model.transform(examples)
        probabilities = {t: self.model.models_[t].predict_proba(matrix)[:, 1] for t in self.tracks}
        # Each feature's pull towards each track (why a tag fired), for the sentences it tags.
        pulls: dict[str, tuple[csr_matrix, dict[int, int]]] = {}
        for t in self.tracks:
            tagged = np.flatnonzero(probabilities[t] >= self.model.thresholds_[t])
            rows = csr_matrix(matrix[tagged].multiply(self.model.models_[t].coef_[0]))
            pulls[t] = (rows, {int(i): k for k, i in enumerate(tagged)})
        for i, coding in enumerate(flat):
            self._decide(coding, i, pulls, {t: float(p[i]) for t, p in probabilities.items()})
        return per_part

    def _why(self, pulled: tuple[csr_matrix, dict[int, int]], sentence: int, n: int = 4) -> str:
        pulls, rows = pulled
        row = rows[sentence]
        start, end = pulls.indptr[row], pulls.indptr[row + 1]
        data, columns = pulls.data[start:end], pulls.indices[start:end]
        order = np.argsort(data)[::-1][:n]
        names = self.model.feature_names()
        return "|".join(str(names[columns[k]]) for k in order if data[k] > 0)

    def _decide(
        self,
        coding: SegmentCoding,
        row: int,
        pulls: dict[str, tuple[csr_matrix, dict[int, int]]],
        probability: dict[str, float],
    ) -> None:
        evidence: dict[str, list[Evidence]] = {}
        confidence: dict[str, float] = {}
        for track in self.tracks:
            p = probability[track]
            if p < self.model.thresholds_[track]:
                continue
            why = f"{CODER}:" + self._why(pulls[track], row)
            ruled = [c for c in coding.evidence if self.codebook.top_level(c) == track]
            for code in ruled or [track]:
                # The span is the whole segment, whose text the store has: not repeated here.
                learned = Evidence(code, why, coding.start, coding.end, "")
                evidence[code] = [*coding.evidence.get(code, []), learned]
                confidence[code] = round(p, 3)
        coding.evidence, coding.confidence = evidence, confidence
