"""``learned.v1``: the default coder. The rules find evidence; a trained model per track decides.

For each document, the rules code every sentence (spans, subcodes, partners) and the model reads
each sentence with its neighbours and the rules' verdicts (:mod:`pipeline.learning.tracks`). A
track is tagged when the model's probability reaches the track's threshold (chosen when the model
was trained); the tag keeps the rules' subcodes of that track and their evidence, or is the track
itself when the rules found none. Every tag carries the model's probability as its confidence and
one more piece of evidence: ``learned.v1:`` and the features that pushed hardest, so that
``dshift show`` can say why. Rule tags of a track the model rejects are dropped: the rules are
there to propose and explain, the model to judge.

Documents come in batches (:meth:`LearnedCoder.code_documents`): the rules code each paragraph,
then one feature matrix and one scoring serve the whole batch, reading the tokens the parse
already made (:mod:`pipeline.learning.features`); its cost is mostly per batch, not per sentence.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix, hstack
from spacy.attrs import IDX, LOWER
from spacy.language import Language

from pipeline.codebook.model import Codebook
from pipeline.coding.rules import Evidence, ParsedDocument, RuleCoder, SegmentCoding
from pipeline.learning.examples import from_codings
from pipeline.learning.tracks import Example, TrackModel

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

    def code_documents(
        self, documents: Sequence[ParsedDocument]
    ) -> list[list[list[SegmentCoding]]]:
        per_document = [
            [self.code_doc(doc, offset, d.text) for offset, doc in d.paragraphs] for d in documents
        ]
        examples: list[Example] = []
        segments: list[SegmentCoding] = []
        arrays: list[np.ndarray] = []  # each segment's LOWER hashes, from its paragraph
        for document, per_part in zip(documents, per_document):
            texts = _segment_texts(document, per_part, arrays)
            flat = [c for codings in per_part for c in codings]
            about = document.about
            examples.extend(from_codings(self, texts, flat, about.source_type, about.title))
            segments.extend(flat)
        tokens = {e.text: array for e, array in zip(examples, arrays)}
        if not segments:
            return per_document
        blocks = self.model.blocks(examples, tokens, self.nlp.vocab.strings)
        probabilities = self.model.scores(blocks)
        tagged = {t: probabilities[t] >= self.model.thresholds_[t] for t in self.tracks}
        why = self._why(blocks, tagged)
        if not self.tracks:
            return per_document
        p = np.column_stack([probabilities[t] for t in self.tracks])
        tags = np.column_stack([tagged[t] for t in self.tracks])
        ruled = np.fromiter((bool(c.evidence) for c in segments), dtype=bool, count=len(segments))
        # A sentence with no rule evidence and no track tagged keeps its empty coding.
        for i in np.flatnonzero(ruled | tags.any(axis=1)).tolist():
            self._decide(segments[i], p[i].tolist(), tags[i].tolist(), why, i)
        return per_document

    def _why(
        self, blocks: dict[str, csr_matrix], tagged: dict[str, np.ndarray], n: int = 4
    ) -> dict[tuple[str, int], str]:
        """For each tagged (track, sentence), the ``n`` features that pushed it hardest: the
        sentence's words and the signals by name; the character n-grams and the neighbouring
        sentences' words each as one feature, ``chars`` and ``context`` (their pull
        together): one n-gram or one neighbouring word alone says little, and ranking them all
        costs more than the rest of the coding."""
        names = self._names()
        offsets = dict(zip(blocks, np.cumsum([0, *(b.shape[1] for b in blocks.values())])))
        pooled = [name for name in ("chars", "context") if name in blocks]
        named = [name for name in blocks if name not in pooled]
        joined = hstack([blocks[name] for name in named], format="csr") if named else None
        column_of = np.concatenate(
            [np.zeros(0, dtype=np.int64)]
            + [np.arange(blocks[n].shape[1]) + offsets[n] for n in named]
        )
        found: dict[tuple[str, int], str] = {}
        for track in self.tracks:
            rows = np.flatnonzero(tagged[track])
            if not len(rows):
                continue
            coef = self.model.models_[track].coef_[0]
            owners, columns, pulls = [], [], []
            if joined is not None:
                sub = joined[rows]
                owners.append(np.repeat(np.arange(len(rows)), np.diff(sub.indptr)))
                columns.append(column_of[sub.indices])
                pulls.append(sub.data * coef[columns[-1]])
            for k, name in enumerate(pooled):
                start, part = offsets[name], blocks[name][rows]
                owners.append(np.arange(len(rows)))
                columns.append(np.full(len(rows), len(names) + k))  # past the real columns
                pulls.append(part @ coef[start : start + part.shape[1]])
            owner, column, pull = (np.concatenate(x) for x in (owners, columns, pulls))
            keep = pull > 0
            owner, column, pull = owner[keep], column[keep], pull[keep]
            order = np.lexsort((-pull, owner))  # per sentence, strongest first
            owner, column = owner[order], column[order]
            rank = np.arange(len(owner)) - np.searchsorted(owner, owner)
            owner, column = owner[rank < n], column[rank < n]
            cuts = np.flatnonzero(np.diff(owner)) + 1
            firsts = owner[np.r_[0, cuts]].tolist() if len(owner) else []
            for who, picked in zip(firsts, np.split(column, cuts)):
                found[(track, int(rows[who]))] = "|".join(
                    names[c] if c < len(names) else pooled[c - len(names)]  # a pooled part
                    for c in picked.tolist()
                )
        return found

    def _names(self) -> list[str]:
        """Every feature's name, by column (a list: indexing a NumPy array makes objects)."""
        names = self.__dict__.get("_feature_names")
        if names is None:
            names = self._feature_names = [str(n) for n in self.model.feature_names()]
        return names

    def _decide(
        self,
        coding: SegmentCoding,
        probability: list[float],
        tagged: list[bool],
        why: dict[tuple[str, int], str],
        row: int,
    ) -> None:
        """Keep the rules' evidence of the tracks the model tags (probabilities and tags in
        the order of ``self.tracks``), add the model's, drop the rest."""
        evidence: dict[str, list[Evidence]] = {}
        confidence: dict[str, float] = {}
        for track, p, tags in zip(self.tracks, probability, tagged):
            if not tags:
                continue
            because = f"{CODER}:" + why.get((track, row), "")
            ruled = [c for c in coding.evidence if self.codebook.top_level(c) == track]
            for code in ruled or [track]:
                # The span is the whole segment, whose text the store has: not repeated here.
                learned = Evidence(code, because, coding.start, coding.end, "")
                evidence[code] = [*coding.evidence.get(code, []), learned]
                confidence[code] = round(p, 3)
        coding.evidence, coding.confidence = evidence, confidence


def _segment_texts(
    document: ParsedDocument, per_part: list[list[SegmentCoding]], arrays: list[np.ndarray]
) -> list[str]:
    """Each segment's text, and onto ``arrays`` its tokens' LOWER hashes, taken from its
    paragraph's parse."""
    texts = []
    for (offset, doc), codings in zip(document.paragraphs, per_part):
        if not codings:
            continue
        # The paragraph's text is built from its tokens on each access: once, when needed.
        text, shift = (document.text, 0) if document.text is not None else (doc.text, offset)
        array = doc.to_array([LOWER, IDX])
        starts = array[:, 1].astype(np.int64) + offset
        bounds = np.searchsorted(starts, [x for c in codings for x in (c.start, c.end)]).tolist()
        hashes = array[:, 0]
        for k, coding in enumerate(codings):
            texts.append(text[coding.start - shift : coding.end - shift])
            arrays.append(hashes[bounds[2 * k] : bounds[2 * k + 1]])
    return texts
