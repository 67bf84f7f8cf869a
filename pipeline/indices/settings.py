"""The parameters of the indices: light to import, so that clients can build them cheaply."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.core import DEFAULT_SEED, GATE_ALPHA, GATE_MIN_UNITS
from pipeline.errors import DshiftError


@dataclass(frozen=True)
class IndexSettings:
    """Parameters of the indices (recorded in the manifest)."""

    period: str = "year"
    n_boot: int = 1000
    seed: int = DEFAULT_SEED
    min_docs: int = 3
    baseline: tuple[int, int] = (2001, 2003)
    confidence: float = 0.95
    gate: float = GATE_ALPHA
    gate_min_units: int = GATE_MIN_UNITS

    def __post_init__(self) -> None:
        from pipeline.indices.compute import check_options

        try:
            check_options(self.period, self.n_boot, self.confidence, self.min_docs)
        except ValueError as exc:
            raise DshiftError(
                f"index settings: {exc}", "see 'dshift index --help'", code="usage"
            ) from None
        if self.baseline[0] > self.baseline[1]:
            raise DshiftError(
                f"baseline {self.baseline[0]}-{self.baseline[1]} ends before it starts",
                "write the earlier year first, e.g. 2001-2003",
                code="usage",
            )
