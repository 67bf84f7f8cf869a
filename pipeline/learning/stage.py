"""The training stage: learn ``ml.v1`` from the coders' decisions and measure it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.learning.store_io import train
from pipeline.stage import Context


@dataclass(frozen=True)
class TrainSettings:
    """Options of a training run.

    Attributes:
        weak: also learn from confident rule tags of undecided segments (weak labels; the
            evaluation uses coders' decisions only).
    """

    weak: bool = False


@dataclass(frozen=True)
class TrainSummary:
    """The saved model and what training measured (``meta`` is saved beside the model)."""

    path: Path
    meta: dict[str, Any]

    def counts(self) -> dict[str, Any]:
        """Examples learned from."""
        return {"examples": self.meta["examples"], "human_examples": self.meta["human_examples"]}


def run(ctx: Context, settings: TrainSettings) -> TrainSummary:
    """Train on the store's decisions; the model goes into ``ctx.models``."""
    path, meta = train(ctx.store, ctx.codebook, ctx.models, weak=settings.weak)
    return TrainSummary(path, meta)
