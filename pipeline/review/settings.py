"""What review commands are asked to do: light to import, so that clients build them cheaply."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.core import DEFAULT_SEED, GATE_ALPHA, GATE_MIN_UNITS


@dataclass(frozen=True)
class SheetSettings:
    """What goes on review sheets: for whom, how many segments, chosen how."""

    coders: tuple[str, ...]
    size: int = 50
    strategy: str = "stratified"
    code: str | None = None
    year: int | None = None
    blind: bool = False
    overlap: float = 0.0
    seed: int = DEFAULT_SEED
    role: str = "coder"
    with_csv: bool = False


@dataclass(frozen=True)
class ImportSettings:
    """How to import a filled-in sheet or a REFI-QDA project."""

    path: Path
    skip_bad: bool = False
    dry_run: bool = False
    skip_unplaced: bool = False

    @property
    def is_refi(self) -> bool:
        """A REFI-QDA project (``.qdpx``) rather than a sheet."""
        return self.path.suffix.lower() == ".qdpx"


@dataclass(frozen=True)
class AgreementSettings:
    """What agreement to measure and flag."""

    n_boot: int = 500
    threshold: float = GATE_ALPHA
    min_units: int = GATE_MIN_UNITS
    all_codes: bool = False
