"""Human review: sheets out and back, decisions as events, agreement."""

# The reliability gate is a core rule; re-exported here for the modules that import it from here.
from pipeline.core import GATE_ALPHA, GATE_MIN_UNITS

__all__ = ["GATE_ALPHA", "GATE_MIN_UNITS"]
