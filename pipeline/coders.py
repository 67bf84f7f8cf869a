"""The machine coders by name, and which one a workspace reads.

A machine coder tags segments under a codebook version; its tags are stored with its name, so
several coders' tags live side by side. The *active* coder is a workspace setting
(``dshift coder use NAME``): every stage downstream of coding — review sheets, REFI-QDA
exports, indices, exports and their manifest, training, browsing — reads the active coder's
tags. Names are versioned: a change in behaviour gets a new name.
"""

from __future__ import annotations

from pipeline.registry import DEFAULT_CODER, coders

__all__ = ["DEFAULT_CODER", "MACHINE_CODERS", "check_coder"]

MACHINE_CODERS = coders.descriptions()
"""Name -> what it does, of every registered machine coder (:data:`pipeline.registry.coders`)."""


def check_coder(name: str) -> str:
    """Return ``name`` if it is a machine coder, else raise a DshiftError naming the choices."""
    return coders.get(name).name
