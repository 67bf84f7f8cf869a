"""The training stage: learn ``ml.v1`` from the coders' decisions and measure it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.learning.store_io import train, train_learned
from pipeline.stage import Context


@dataclass(frozen=True)
class TrainSettings:
    """Options of a training run.

    Attributes:
        weak: (ml.v1) also learn from confident rule tags of undecided segments (weak labels;
            the evaluation uses coders' decisions only).
        coder: the model to train: ``learned.v1`` (the development set plus this workspace's
            decisions) or ``ml.v1`` (this workspace's decisions only).
    """

    weak: bool = False
    coder: str = "learned.v1"


@dataclass(frozen=True)
class TrainSummary:
    """The saved model and what training measured (``meta`` is saved beside the model)."""

    path: Path
    meta: dict[str, Any]

    def counts(self) -> dict[str, Any]:
        """Examples learned from."""
        if self.meta["coder"] == "learned.v1":
            return {"examples": self.meta["examples"], "workspace": self.meta["workspace_rows"]}
        return {"examples": self.meta["examples"], "human_examples": self.meta["human_examples"]}


def run(ctx: Context, settings: TrainSettings) -> TrainSummary:
    """Train on the store's decisions; the model goes into ``ctx.models``."""
    if settings.coder == "learned.v1":
        path, meta = train_learned(ctx.store, ctx.codebook, ctx.models, ctx.store.active_coder())
    else:
        path, meta = train(ctx.store, ctx.codebook, ctx.models, weak=settings.weak)
    return TrainSummary(path, meta)
