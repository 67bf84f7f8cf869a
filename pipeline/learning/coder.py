"""Coders that use a trained model: ``ml.v1`` alone, or ``ensemble.v1`` with the rules.

Both segment exactly like the rule coder (so segment ids are shared) and find partners with the
gazetteer. ``ml.v1`` tags a code when the model's probability is at least 0.5, with the
probability as confidence and the n-grams that pushed hardest as evidence. ``ensemble.v1``
keeps every rule tag and adds the model's tags above the per-code threshold chosen at training
(rules are precise; the model catches paraphrases they miss).
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted
from spacy.language import Language
from spacy.tokens import Doc

from pipeline.codebook.model import Codebook
from pipeline.coding.rules import Evidence, RuleCoder, SegmentCoding
from pipeline.errors import DshiftError
from pipeline.learning.model import CodeModel

CODERS = ("ml.v1", "ensemble.v1")


class ModelCoder(RuleCoder):
    """A rule coder whose tags come from (or are extended by) a trained model."""

    def __init__(
        self,
        codebook: Codebook,
        nlp: Language,
        model: CodeModel,
        thresholds: dict[str, float],
        name: str,
    ) -> None:
        super().__init__(codebook, nlp)
        if name not in CODERS:
            raise ValueError(f"unknown learned coder '{name}': choose {', '.join(CODERS)}")
        try:
            check_is_fitted(model)
        except NotFittedError:
            raise DshiftError(
                f"the model given to the {name} coder is not trained",
                "run 'dshift train' first",
                code="model",
            ) from None
        self.name = name
        self.model = model
        self.thresholds = thresholds

    def code_doc(self, doc: Doc, offset: int = 0, text: str | None = None) -> list[SegmentCoding]:
        codings = super().code_doc(doc, offset, text)
        if not codings:
            return codings
        texts = [doc.text[c.start - offset : c.end - offset] for c in codings]
        probabilities = self.model.predict_proba(texts)
        for i, coding in enumerate(codings):
            if self.name == "ml.v1":
                coding.evidence, coding.confidence = {}, {}
            for code, values in probabilities.items():
                p = float(values[i])
                cut = 0.5 if self.name == "ml.v1" else self.thresholds.get(code, 0.5)
                if p < cut or code in coding.evidence:
                    continue
                features = self.model.top_features(code, texts[i], 3)
                coding.evidence[code] = [
                    Evidence(
                        code,
                        f"{self.name}:{'|'.join(features)}",
                        coding.start,
                        coding.end,
                        texts[i][:80],
                    )
                ]
                coding.confidence[code] = round(p, 3)
        return codings
