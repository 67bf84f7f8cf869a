"""The stage contract: what every stage is given, and what it gives back.

A stage (ingest, code, index, export, report, train, review import...) is a function
``run(ctx, settings)`` over pure functions that returns its own summary dataclass (counts, the
run id, what it wrote). It reads its inputs from ``ctx.store``, reports progress to
``ctx.progress`` and leaves showing the summary to the client (CLI, web page, distributed
runner). Ingest spreads its files over ``ctx.executor`` and coding its documents (``dshift code
--jobs N``); each worker builds what it needs once. Stages never print, never take the
workspace lock (the caller holds it for the whole command, see :class:`pipeline.api.Project`)
and never read ``outputs/``: it is regenerable, written to, not read from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pipeline.codebook.model import Codebook
    from pipeline.executor import Executor
    from pipeline.store import Store


class ProgressSink(Protocol):
    """Where a stage says how far it is. Clients draw a bar, log, or ignore it."""

    def start(self, total: int, label: str) -> None:
        """``total`` units of work (files, documents) are about to be done."""
        ...

    def advance(self, n: int) -> None:
        """``n`` more units are done."""
        ...

    def close(self) -> None:
        """The work is over (also on failure)."""
        ...


class Silent:
    """A progress sink that shows nothing (the default, and for clients off a terminal)."""

    def start(self, total: int, label: str) -> None:
        """Ignore the total."""

    def advance(self, n: int) -> None:
        """Ignore the step."""

    def close(self) -> None:
        """Nothing to close."""


def utc_clock() -> datetime:
    """The current time, in UTC."""
    return datetime.now(timezone.utc)


@dataclass
class Context:
    """What a stage works with.

    Attributes:
        store: the corpus store (the typed protocol of :mod:`pipeline.store`).
        book: the workspace's codebook, or how to load it: it is loaded and validated once, when
            a stage first asks for :attr:`codebook` (ingest never does, so a broken codebook
            does not stop a drop from being read).
        outputs: the folder regenerable results are written to (never read back).
        executor: how per-item work is spread (in process, a local pool; later Dask); ``None``
            lets the stage make the default one for its settings.
        progress: where progress goes.
        clock: the time source (tests may fix it).
        models: the folder of trained models (beside the store: models are inputs of coding,
            so they do not live in regenerable ``outputs/``).
    """

    store: Store
    book: Codebook | Callable[[], Codebook]
    outputs: Path
    models: Path
    executor: Executor | None = None
    progress: ProgressSink = field(default_factory=Silent)
    clock: Callable[[], datetime] = utc_clock

    @property
    def codebook(self) -> Codebook:
        """The codebook (loaded on first use)."""
        if callable(self.book):
            self.book = self.book()
        return self.book
