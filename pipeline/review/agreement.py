"""How far coders agree with each other and with the machine.

The measures are pure and live in :mod:`pipeline.core.agreement`; they are re-exported here for
the modules that import them from this one.
"""

from pipeline.core.agreement import (
    GATE_ALPHA,
    GATE_MIN_UNITS,
    alpha,
    between_coders,
    coder_verdicts,
    disagreements,
    gate,
    kappa,
    machine_against_human,
    percent_agreement,
)

__all__ = [
    "GATE_ALPHA",
    "GATE_MIN_UNITS",
    "alpha",
    "between_coders",
    "coder_verdicts",
    "disagreements",
    "gate",
    "kappa",
    "machine_against_human",
    "percent_agreement",
]
